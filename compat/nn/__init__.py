"""`compat.nn`: what autograd tutorials use of `torch.nn` (the functional API)."""

from __future__ import annotations

from . import functional  # noqa: F401
