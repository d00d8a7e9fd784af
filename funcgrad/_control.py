"""Control flow that reverse-mode autodiff can go through under ``jax.jit``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["while_loop"]


def _avals(tree: Any) -> list[tuple[tuple[int, ...], np.dtype]]:
    return [(tuple(x.shape), np.dtype(x.dtype)) for x in jax.tree_util.tree_leaves(tree)]


def while_loop(
    cond_fun: Callable[[Any], Any],
    body_fun: Callable[[Any], Any],
    init_val: Any,
    max_steps: int,
    *,
    return_steps: bool = False,
) -> Any:
    """A ``while`` loop with a step bound, differentiable in reverse mode under ``jax.jit``.

    Computes ``val = init_val; while cond_fun(val): val = body_fun(val)``, stopping after at most
    ``max_steps`` applications of ``body_fun``. ``jax.lax.while_loop`` supports only forward
    mode, because reverse mode must store every iteration and their number is unknown when the
    program is compiled. Bounding the loop fixes that number: this is a ``lax.scan`` of
    ``max_steps`` steps, each applying ``body_fun`` under a ``lax.cond`` only while the loop is
    still running, so gradients equal those of the Python loop.

    Cost: all ``max_steps`` steps always execute (a finished step only evaluates ``cond_fun`` and
    copies the state), and reverse mode stores one state per step, so memory grows with
    ``max_steps``. Under ``jax.vmap`` the ``lax.cond`` becomes a select and ``body_fun`` is
    evaluated at every step. Choose the smallest bound that is safe.

    If ``max_steps`` is reached while ``cond_fun`` still holds, the loop stops there and returns
    the state after ``max_steps`` steps, without an error; pass ``return_steps=True`` and compare
    the count with ``max_steps`` (or check ``cond_fun`` on the result) to detect it.

    Args:
      cond_fun: ``cond_fun(val) -> bool scalar``: keep looping while true.
      body_fun: ``body_fun(val) -> val``, preserving structure, shapes and dtypes.
      init_val: Initial state, an array or pytree of arrays.
      max_steps: Bound on the number of iterations, a non-negative Python int.
      return_steps: Also return the number of ``body_fun`` applications (int32 scalar).

    Returns:
      The final state, or ``(state, steps)`` with ``return_steps=True``.

    Raises:
      TypeError: A function is not callable, ``max_steps`` is not a Python int, ``cond_fun``
        does not return a boolean scalar, or ``body_fun`` changes the state's structure,
        shapes or dtypes.
      ValueError: ``max_steps`` is negative.

    Example:
      >>> import jax
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> def f(a):  # double until |b| >= 1000
      ...     return fg.while_loop(lambda b: jnp.abs(b) < 1000, lambda b: 2 * b, 2 * a, 64)
      >>> jax.jit(fg.grad(f))(0.5)
      Array(2048., dtype=float32, weak_type=True)
    """
    api = "while_loop"
    for what, fun in (("cond_fun", cond_fun), ("body_fun", body_fun)):
        if not callable(fun):
            raise TypeError(f"{api}: {what} must be a callable, got {type(fun).__name__}.")
    if not isinstance(max_steps, (int, np.integer)) or isinstance(max_steps, bool):
        raise TypeError(
            f"{api}: max_steps must be a Python int (it fixes the length of the compiled loop), "
            f"got {type(max_steps).__name__}. Use a constant such as max_steps=100."
        )
    if max_steps < 0:
        raise ValueError(f"{api}: max_steps must be >= 0, got {max_steps}.")

    init_val = jax.tree_util.tree_map(jnp.asarray, init_val)
    cond_shape = jax.eval_shape(cond_fun, init_val)
    if (
        not hasattr(cond_shape, "shape")
        or cond_shape.shape != ()
        or not np.issubdtype(cond_shape.dtype, np.bool_)
    ):
        got = (
            f"{cond_shape.dtype}{list(cond_shape.shape)}"
            if hasattr(cond_shape, "shape")
            else type(cond_shape).__name__
        )
        raise TypeError(
            f"{api}: cond_fun must return a boolean scalar, got {got}. Reduce it, e.g. with "
            f"jnp.all(...) or jnp.linalg.norm(b) < 1000."
        )
    body_shape = jax.eval_shape(body_fun, init_val)
    in_tree = jax.tree_util.tree_structure(init_val)
    out_tree = jax.tree_util.tree_structure(body_shape)
    if in_tree != out_tree or _avals(init_val) != _avals(body_shape):
        raise TypeError(
            f"{api}: body_fun must return a state with init_val's structure, shapes and dtypes. "
            f"init_val: {in_tree} {_avals(init_val)}; body_fun returned: {out_tree} "
            f"{_avals(body_shape)}."
        )

    def keep(val: Any) -> Any:
        return val

    def apply_body(val: Any) -> Any:
        new = body_fun(val)
        # Only weak types can differ here (checked above); match them so lax.cond's branches
        # agree, e.g. a Python-float initial value and a body that multiplies by a float32.
        return jax.tree_util.tree_map(lambda n, o: lax.convert_element_type(n, o.dtype), new, val)

    def step(carry: tuple[Any, Any, Any], _: None) -> tuple[tuple[Any, Any, Any], None]:
        val, done, steps = carry
        active = jnp.logical_and(jnp.logical_not(done), cond_fun(val))
        val = lax.cond(active, apply_body, keep, val)
        return (val, jnp.logical_not(active), steps + active.astype(jnp.int32)), None

    start = (init_val, jnp.asarray(False), jnp.asarray(0, dtype=jnp.int32))
    (val, _, steps), _ = lax.scan(step, start, None, length=max_steps)
    return (val, steps) if return_steps else val
