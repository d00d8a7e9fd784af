"""Mirrors `torch.autograd.graph`: the `Node` base of every `grad_fn`."""

from __future__ import annotations

from .._node import Node  # noqa: F401
