"""Assertions for tests of differentiable code: numeric gradient checks and tree comparisons.

Every assertion gathers all mismatches into one ``AssertionError`` message, so one failing run
shows the whole picture. Nothing here imports torch: torch tensors are recognised by duck
typing (``.detach().cpu().numpy()``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._transforms import grad

__all__ = ["assert_allclose_tree", "assert_matches_torch", "check_grads", "to_numpy"]

_MAX_REPORTED = 20  # mismatches listed per assertion; the count covers all of them


def _is_number_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(v, (bool, int, float, complex, np.number)) or _is_number_list(v) for v in value
    )


def to_numpy(value: Any) -> Any:
    """Converts a JAX array, NumPy array, Python number or torch tensor to NumPy.

    Torch tensors are detected by duck typing (``.detach()``, ``.cpu()``, ``.numpy()``), so this
    module never imports torch. Pytrees are converted leaf by leaf; a (nested) list of Python
    numbers counts as one array, so ``[0.0, 2.0]`` can stand for a vector.

    Args:
      value: An array-like or a pytree of them.

    Returns:
      The same structure with NumPy arrays as leaves.

    Example:
      >>> import jax.numpy as jnp
      >>> from funcgrad.testing import to_numpy
      >>> to_numpy({"w": jnp.ones(2), "b": [1.0, 2.0]})
      {'b': array([1., 2.]), 'w': array([1., 1.], dtype=float32)}
    """

    def is_leaf(x: Any) -> bool:
        return hasattr(x, "detach") or _is_number_list(x)

    def convert(leaf: Any) -> Any:
        if hasattr(leaf, "detach") and hasattr(leaf, "numpy"):  # a torch tensor
            leaf = leaf.detach()
            if hasattr(leaf, "cpu"):
                leaf = leaf.cpu()
            if getattr(leaf, "is_conj", lambda: False)():
                leaf = leaf.resolve_conj()
            return leaf.numpy()
        return np.asarray(leaf)

    return jax.tree_util.tree_map(convert, value, is_leaf=is_leaf)


def _format_mismatch(path: str, actual: np.ndarray, expected: np.ndarray, bad: np.ndarray) -> str:
    count = int(bad.sum())
    if actual.ndim == 0:
        return f"  {path or '<root>'}: actual {actual.item()!r}, expected {expected.item()!r}"
    diff = np.abs(actual.astype(np.float64) - expected.astype(np.float64))
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    return (
        f"  {path or '<root>'}: {count} of {bad.size} elements differ, max abs diff "
        f"{np.nanmax(np.where(bad, diff, 0.0)):.6g}; first at {list(first)}: actual "
        f"{actual[first]!r}, expected {expected[first]!r}"
    )


def assert_allclose_tree(
    actual: Any, expected: Any, *, rtol: float = 1e-6, atol: float = 0.0, check_dtype: bool = False
) -> None:
    """Asserts two pytrees have the same structure and element-wise close leaves.

    Like ``numpy.testing.assert_allclose`` (``|a - e| <= atol + rtol * |e|``, NaNs equal), for
    whole pytrees. Every mismatched leaf is reported with its path.

    Args:
      actual: Pytree of array-likes (JAX, NumPy, Python numbers or torch tensors).
      expected: Pytree of the same structure.
      rtol: Relative tolerance.
      atol: Absolute tolerance.
      check_dtype: Also require equal dtypes.

    Raises:
      AssertionError: The structures differ, or any leaf differs in shape, dtype (if checked)
        or value; the message lists every such leaf.

    Example:
      >>> import jax.numpy as jnp
      >>> from funcgrad.testing import assert_allclose_tree
      >>> assert_allclose_tree({"w": jnp.ones(2)}, {"w": [1.0, 1.0]})
    """
    actual, expected = to_numpy(actual), to_numpy(expected)
    a_paths, a_tree = jax.tree_util.tree_flatten_with_path(actual)
    e_paths, e_tree = jax.tree_util.tree_flatten_with_path(expected)
    if a_tree != e_tree:
        raise AssertionError(
            f"Pytree structures differ:\n  actual:   {a_tree}\n  expected: {e_tree}"
        )
    problems = []
    for (path, a), (_, e) in zip(a_paths, e_paths, strict=True):
        where = jax.tree_util.keystr(path)
        a, e = np.asarray(a), np.asarray(e)
        if a.shape != e.shape:
            problems.append(f"  {where or '<root>'}: shape {a.shape} != expected {e.shape}")
            continue
        if check_dtype and a.dtype != e.dtype:
            problems.append(f"  {where or '<root>'}: dtype {a.dtype} != expected {e.dtype}")
            continue
        if a.dtype.kind in "biufc" and e.dtype.kind in "biufc":
            bad = ~np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=True)
        else:
            bad = a != e
        bad = np.asarray(bad)
        if bad.any():
            problems.append(_format_mismatch(where, a, e, bad))
    if problems:
        shown = problems[:_MAX_REPORTED]
        more = len(problems) - len(shown)
        raise AssertionError(
            f"{len(problems)} of {len(a_paths)} leaves differ (rtol={rtol}, atol={atol}):\n"
            + "\n".join(shown)
            + (f"\n  ... and {more} more" if more else "")
        )


def assert_matches_torch(
    fg_value: Any, torch_value: Any, *, rtol: float = 1e-5, atol: float = 1e-6
) -> None:
    """Asserts a funcgrad result equals the matching torch result (values and shapes).

    Accepts torch tensors without importing torch: anything with ``.detach()`` and ``.numpy()``
    is converted through ``.detach().cpu().numpy()``. Pytrees (tuples of gradients, dicts of
    parameters) are compared leaf by leaf.

    Args:
      fg_value: funcgrad/JAX result, an array or pytree.
      torch_value: torch result with the same structure (tensors, numbers or NumPy arrays).
      rtol: Relative tolerance; the float32 default allows for different summation orders.
      atol: Absolute tolerance.

    Raises:
      AssertionError: Structures, shapes or values differ; every mismatch is listed.

    Example:
      >>> import jax.numpy as jnp
      >>> from funcgrad.testing import assert_matches_torch
      >>> assert_matches_torch(jnp.array([0.0, 2.0]), [0.0, 2.0])  # or a torch.Tensor
    """
    assert_allclose_tree(fg_value, torch_value, rtol=rtol, atol=atol)


def _default_tolerances(dtype: np.dtype) -> tuple[float, float, float]:
    """Returns (eps, rtol, atol) for central differences in ``dtype``."""
    if np.dtype(dtype).itemsize >= 8:
        return 1e-6, 1e-5, 1e-6
    return 1e-3, 2e-2, 2e-3


def check_grads(
    f: Callable,
    args: Sequence[Any],
    order: int = 1,
    *,
    eps: float | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    seed: int = 0,
) -> None:
    """Checks ``f``'s reverse-mode gradients against central finite differences.

    For a non-scalar output, the output is first contracted with a fixed random cotangent, so
    every output element is covered. Each input element is perturbed by ``±eps`` and the
    numeric derivative compared with ``funcgrad.grad``. With ``order=2`` the gradient function
    is checked the same way (so Hessian-vector products are covered), and so on.

    ``f`` is evaluated eagerly, element by element: meant for small test inputs, and fine for
    functions with Python control flow.

    Args:
      f: Function of ``len(args)`` positional arguments, each an array or pytree of floating
        arrays; returns an array or pytree of arrays.
      args: The point at which to check, a tuple or list of arguments.
      order: Highest derivative order to check (1 or more).
      eps: Step for the differences; defaults to 1e-3 in float32 and 1e-6 in float64.
      rtol: Relative tolerance; defaults to 2e-2 in float32 and 1e-5 in float64.
      atol: Absolute tolerance; defaults to 2e-3 in float32 and 1e-6 in float64.
      seed: Seed for the random output cotangents.

    Raises:
      TypeError: ``args`` is not a tuple/list, or an input is not floating-point.
      ValueError: ``order`` is below 1.
      AssertionError: Some derivative disagrees; the message lists every mismatched entry with
        its argument path, index, autodiff and numeric value.

    Example:
      >>> import jax.numpy as jnp
      >>> from funcgrad.testing import check_grads
      >>> check_grads(lambda x: jnp.sum(jnp.sin(x) * x), (jnp.arange(3.0),), order=2)
    """
    if not isinstance(args, (tuple, list)):
        raise TypeError(
            f"check_grads: args must be a tuple or list of arguments, got {type(args).__name__}; "
            f"wrap a single argument as (x,)."
        )
    if not isinstance(order, int) or isinstance(order, bool) or order < 1:
        raise ValueError(f"check_grads: order must be an int >= 1, got {order!r}.")
    args = tuple(jax.tree_util.tree_map(jnp.asarray, a) for a in args)
    for index, arg in enumerate(args):
        for path, leaf in jax.tree_util.tree_leaves_with_path(arg):
            if not jnp.issubdtype(leaf.dtype, jnp.floating):
                raise TypeError(
                    f"check_grads: argument {index}{jax.tree_util.keystr(path)} has dtype "
                    f"{leaf.dtype}; finite differences need floating-point inputs."
                )
    key = jax.random.key(seed)
    fun = f
    for current in range(1, order + 1):
        key, sub = jax.random.split(key)
        scalar_fun = _contract_output(fun, args, sub)
        _check_first_order(scalar_fun, args, current, eps, rtol, atol)
        if current < order:
            fun = _all_grads(scalar_fun, len(args))


def _contract_output(f: Callable, args: tuple, key: jax.Array) -> Callable:
    """Returns ``args -> <ct, f(args)>`` for a fixed random cotangent ``ct``."""
    # Evaluated, not traced with eval_shape: f may use Python control flow on values.
    leaves = [jnp.asarray(leaf) for leaf in jax.tree_util.tree_leaves(f(*args))]
    if len(leaves) == 1 and leaves[0].shape == ():
        return lambda *a: jax.tree_util.tree_leaves(f(*a))[0]
    keys = jax.random.split(key, len(leaves))
    cotangents = [
        jax.random.normal(k, leaf.shape, leaf.dtype) for k, leaf in zip(keys, leaves, strict=True)
    ]

    def contracted(*a: Any) -> jax.Array:
        values = jax.tree_util.tree_leaves(f(*a))
        return sum(jnp.vdot(c, v) for c, v in zip(cotangents, values, strict=True))

    return contracted


def _all_grads(scalar_fun: Callable, nargs: int) -> Callable:
    return grad(scalar_fun, argnums=tuple(range(nargs)))


def _replace_leaf(args: tuple, index: int, leaf_pos: int, value: np.ndarray) -> tuple:
    """``args`` with leaf ``leaf_pos`` of argument ``index`` replaced by ``value``."""
    leaves, treedef = jax.tree_util.tree_flatten(args[index])
    leaves = list(leaves)
    leaves[leaf_pos] = value
    return args[:index] + (jax.tree_util.tree_unflatten(treedef, leaves),) + args[index + 1 :]


def _check_first_order(
    scalar_fun: Callable,
    args: tuple,
    order: int,
    eps: float | None,
    rtol: float | None,
    atol: float | None,
) -> None:
    analytic = grad(scalar_fun, argnums=tuple(range(len(args))))(*args)
    problems = []
    checked = 0
    for index, arg in enumerate(args):
        paths = jax.tree_util.tree_leaves_with_path(arg)
        autos = jax.tree_util.tree_leaves(analytic[index])
        for leaf_pos, ((path, leaf), auto) in enumerate(zip(paths, autos, strict=True)):
            d_eps, d_rtol, d_atol = _default_tolerances(leaf.dtype)
            step = d_eps if eps is None else eps
            tol_r = d_rtol if rtol is None else rtol
            tol_a = d_atol if atol is None else atol
            base, auto = np.asarray(leaf), np.asarray(auto)
            for element in np.ndindex(base.shape):
                plus, minus = base.copy(), base.copy()
                plus[element] += step
                minus[element] -= step
                width = float(plus[element]) - float(minus[element])  # the step actually taken
                f_plus = float(scalar_fun(*_replace_leaf(args, index, leaf_pos, plus)))
                f_minus = float(scalar_fun(*_replace_leaf(args, index, leaf_pos, minus)))
                numeric = (f_plus - f_minus) / width
                analytic_value = float(auto[element])
                checked += 1
                if not abs(analytic_value - numeric) <= tol_a + tol_r * abs(numeric):
                    problems.append(
                        f"  argument {index}{jax.tree_util.keystr(path)}{list(element)}: "
                        f"autodiff {analytic_value:.6g}, numeric {numeric:.6g}"
                    )
    if problems:
        shown = problems[:_MAX_REPORTED]
        more = len(problems) - len(shown)
        raise AssertionError(
            f"check_grads: order-{order} derivatives disagree with central differences at "
            f"{len(problems)} of {checked} entries:\n"
            + "\n".join(shown)
            + (f"\n  ... and {more} more" if more else "")
        )
