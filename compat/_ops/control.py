"""Errors for Python control flow on traced values (inside `compat.compile`)."""

from __future__ import annotations


class DataDependentControlFlowError(RuntimeError):
    """Raised when compiled code asks for a concrete value of a traced tensor."""


def concrete_error(what: str):
    raise DataDependentControlFlowError(
        f"compat.compile: {what} needs the concrete value of a tensor, but inside a compiled "
        "function tensors are traced (their values are only known when the XLA program runs). "
        "Python control flow that depends on tensor values (`if t > 0:`, `while t.norm() < c:`, "
        "`t.item()`) cannot be compiled. Run this function eagerly (without compat.compile), or "
        "express the branch with `compat.where(cond, a, b)` and the loop with "
        "`funcgrad.while_loop(cond_fun, body_fun, init_val, max_steps)`."
    )
