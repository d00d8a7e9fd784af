"""Gradient accumulation as a function: torch's "grads add up until zeroed", made explicit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = ["accumulate_grads"]


def _describe(tree: Any) -> str:
    leaves = jax.tree_util.tree_leaves(tree)
    shapes = ", ".join(f"{jnp.result_type(x)}{list(jnp.shape(x))}" for x in leaves)
    return f"{jax.tree_util.tree_structure(tree)} with leaves [{shapes}]"


def accumulate_grads(
    grad_fn: Callable,
    params: Any,
    batches: Any,
    *,
    init: Any = None,
    history: bool = False,
) -> Any:
    """Sums ``grad_fn(params, batch)`` over a sequence of batches, as torch's ``.grad`` would.

    In torch, every ``backward()`` adds into ``.grad`` until ``zero_grad()`` is called. Here
    the sum is the return value: ``init`` plays the role of the gradient already stored (zeros
    after ``zero_grad()``), and each step adds one gradient. The loop is a ``lax.scan``, so the
    whole accumulation traces once and runs under ``jax.jit``.

    Args:
      grad_fn: ``grad_fn(params, batch) -> grads``, e.g. ``funcgrad.grad(loss)``; ``grads``
        must have the structure, shapes and dtypes of ``init`` (by default, of ``params``).
      params: Pytree of parameters, passed unchanged to every step.
      batches: Either a pytree of arrays whose leaves share a leading axis of length
        ``num_steps`` (step ``i`` gets every leaf's ``[i]``), or a Python int ``num_steps``,
        in which case ``grad_fn(params)`` is called with no batch (the same gradient each step,
        as when one calls ``backward()`` repeatedly without zeroing).
      init: Gradient to accumulate onto; defaults to zeros shaped like ``params``.
      history: Also return the running sums after each step, stacked along a leading axis.

    Returns:
      The accumulated gradient (``init`` plus every step's gradient), or
      ``(total, running)`` with ``history=True``.

    Raises:
      TypeError: ``grad_fn`` is not callable, ``batches`` is neither an int nor a pytree of
        arrays, or a step's gradient does not match ``init``.
      ValueError: ``batches`` is a negative int, or its leaves disagree on the leading axis.

    Example:
      >>> import funcgrad as fg
      >>> import jax.numpy as jnp
      >>> step = fg.grad(lambda x: 3 * x**2 + 4 * x + 2)
      >>> total, running = fg.accumulate_grads(step, jnp.float32(3.0), 3, history=True)
      >>> running  # backward() three times without zero_grad()
      Array([22., 44., 66.], dtype=float32)
    """
    api = "accumulate_grads"
    if not callable(grad_fn):
        raise TypeError(f"{api}: grad_fn must be a callable, got {type(grad_fn).__name__}.")
    if isinstance(batches, bool):
        raise TypeError(f"{api}: batches must be an int or a pytree of arrays, got a bool.")
    if isinstance(batches, (int, np.integer)):
        if batches < 0:
            raise ValueError(f"{api}: the number of steps must be >= 0, got {batches}.")
        length, xs = int(batches), None

        def step_grads(batch: Any) -> Any:
            del batch  # no data: every step differentiates the same function at params
            return grad_fn(params)
    else:
        leaves = jax.tree_util.tree_leaves(batches)
        if not leaves:
            raise TypeError(
                f"{api}: batches must be an int or a pytree of arrays with a leading step axis, "
                f"got {type(batches).__name__} with no array leaves."
            )
        lengths = {np.shape(leaf)[0] if np.ndim(leaf) else None for leaf in leaves}
        if len(lengths) != 1 or None in lengths:
            raise ValueError(
                f"{api}: every leaf of batches needs the same leading (step) axis; got leaves "
                f"of shapes {[np.shape(leaf) for leaf in leaves]}. Stack the batches with "
                f"jnp.stack, or pass a Python int for a fixed number of identical steps."
            )
        (length,) = lengths
        xs = batches

        def step_grads(batch: Any) -> Any:
            return grad_fn(params, batch)

    if init is None:
        init = jax.tree_util.tree_map(jnp.zeros_like, params)
    init = jax.tree_util.tree_map(jnp.asarray, init)

    def body(total: Any, batch: Any) -> tuple[Any, Any]:
        grads = step_grads(batch)
        same_tree = jax.tree_util.tree_structure(grads) == jax.tree_util.tree_structure(total)
        if not same_tree or any(
            jnp.shape(g) != jnp.shape(t) or jnp.result_type(g) != jnp.result_type(t)
            for g, t in zip(
                jax.tree_util.tree_leaves(grads), jax.tree_util.tree_leaves(total), strict=True
            )
        ):
            raise TypeError(
                f"{api}: grad_fn must return gradients shaped like init (default: like params). "
                f"Expected {_describe(total)}; got {_describe(grads)}."
            )
        total = jax.tree_util.tree_map(jnp.add, total, grads)
        return total, (total if history else None)

    total, running = lax.scan(body, init, xs, length=length)
    return (total, running) if history else total
