"""Mirrors `torch.autograd`: `grad`, `backward`, `Function`, `functional`, grad modes."""

from __future__ import annotations

import contextlib

from .. import _engine
from .._grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled  # noqa: F401
from .._tensor import Tensor
from . import functional, graph  # noqa: F401
from .function import Function, FunctionCtx, once_differentiable  # noqa: F401

Variable = Tensor


# One implementation: the engine's (its docstring mirrors torch.autograd.grad's).
grad = _engine.grad


def backward(
    tensors,
    grad_tensors=None,
    retain_graph=None,
    create_graph=False,
    grad_variables=None,
    inputs=None,
) -> None:
    """Mirrors `torch.autograd.backward`: accumulates gradients into leaves' `.grad`."""
    if grad_variables is not None:
        grad_tensors = grad_variables
    _engine.backward(tensors, grad_tensors, retain_graph, create_graph, inputs)


_anomaly = [False]


class set_detect_anomaly(contextlib.ContextDecorator):  # noqa: N801
    """Accepted for compatibility; compat's errors already name the failing op."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self.prev = _anomaly[0]
        _anomaly[0] = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        _anomaly[0] = self.prev


detect_anomaly = set_detect_anomaly


def is_anomaly_enabled() -> bool:
    return _anomaly[0]
