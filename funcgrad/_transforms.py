"""Differentiation transforms: thin, validated wrappers over JAX's autodiff.

The layering follows JAX: `grad` is `value_and_grad` without the value, `value_and_grad` is a
`vjp` with a unit cotangent, and `backward` is a `vjp` with a cotangent the caller supplies (the
functional form of torch's ``y.backward(gradient=v)``). Arguments are checked before anything is
traced, so a mistake is reported in terms of the call the user wrote; the checks run once per
trace, so a jitted caller pays nothing for them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

__all__ = [
    "backward",
    "detach",
    "elementwise_grad",
    "grad",
    "hessian",
    "jacobian",
    "jvp",
    "stop_gradient",
    "value_and_grad",
    "vjp",
]

T = TypeVar("T")
ArgNums = int | Sequence[int]


# --------------------------------------------------------------------------------------------
# Validation helpers, shared by every transform. Each names the public API it speaks for.
# --------------------------------------------------------------------------------------------


def _check_callable(fun: Any, api: str, what: str = "fun") -> None:
    if not callable(fun):
        raise TypeError(
            f"{api}: {what} must be a callable, got {type(fun).__name__} {_short_repr(fun)}. "
            f"Pass the function itself, e.g. {api}(f), not its value f(x)."
        )


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_argnums(argnums: Any, api: str) -> tuple[int, ...]:
    """Checks the type of argnums (its range is checked per call, when the arity is known)."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return (argnums,)
    if isinstance(argnums, (tuple, list)):
        if not argnums:
            raise ValueError(f"{api}: argnums must name at least one argument, got {argnums!r}.")
        for index in argnums:
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError(
                    f"{api}: argnums must be an int or a tuple of ints, got {argnums!r} "
                    f"(element {index!r} is a {type(index).__name__})."
                )
        if len(set(argnums)) != len(argnums):
            raise ValueError(f"{api}: argnums must not repeat an argument, got {argnums!r}.")
        return tuple(argnums)
    raise TypeError(
        f"{api}: argnums must be an int or a tuple of ints, got {type(argnums).__name__} "
        f"{_short_repr(argnums)}."
    )


def _resolve_argnums(argnums: tuple[int, ...], nargs: int, api: str) -> tuple[int, ...]:
    resolved = []
    for index in argnums:
        if not -nargs <= index < nargs:
            raise ValueError(
                f"{api}: argnums={index} is out of range for a call with {nargs} positional "
                f"argument(s). argnums indexes positional arguments only; keyword arguments are "
                f"never differentiated, so pass the input you differentiate positionally."
            )
        resolved.append(index % nargs)
    if len(set(resolved)) != len(resolved):
        raise ValueError(f"{api}: argnums {argnums} name the same argument twice.")
    return tuple(resolved)


def _leaf_dtype(leaf: Any) -> np.dtype:
    return np.dtype(jnp.result_type(leaf))


def _check_inexact_inputs(args: tuple, argnums: tuple[int, ...], api: str) -> None:
    for index in argnums:
        leaves = jax.tree_util.tree_leaves_with_path(args[index])
        for path, leaf in leaves:
            dtype = _leaf_dtype(leaf)
            if not np.issubdtype(dtype, np.inexact):
                where = f"argument {index}{jax.tree_util.keystr(path)}"
                raise TypeError(
                    f"{api} differentiates only floating-point (real or complex) inputs, but "
                    f"{where} has dtype {dtype}. Pass a float (e.g. 3.0 rather than 3, or "
                    f"x.astype(jnp.float32)); to treat an integer or boolean input as "
                    f"non-differentiable, set allow_int=True (its gradient is a float0 zero) or "
                    f"leave it out of argnums."
                )


def _check_scalar_output(out: Any, api: str) -> None:
    if not hasattr(out, "shape") or not hasattr(out, "dtype"):
        if isinstance(out, float):  # e.g. a custom_vjp function applied to Python floats
            return
        raise TypeError(
            f"{api} needs fun to return a scalar array, got {type(out).__name__}. If fun "
            f"returns extra values, return (scalar, extras) and pass has_aux=True."
        )
    if out.shape != ():
        raise TypeError(
            f"{api}: a gradient is defined only for scalar-output functions, but fun returned "
            f"an output of shape {tuple(out.shape)}. Reduce it to a scalar (e.g. "
            f"fun(x).sum()), use backward(fun, x, cotangent=...) for a vector-Jacobian "
            f"product, or jacobian(fun) for the full Jacobian."
        )
    if not np.issubdtype(out.dtype, np.floating):
        raise TypeError(
            f"{api} needs a real floating-point output, but fun returned dtype {out.dtype}. "
            f"For a complex output take jnp.real or jnp.abs of it first, or use vjp with a "
            f"cotangent; an integer or boolean output has no gradient."
        )


def _with_aux_checked(fun: Callable, api: str) -> Callable:
    def checked(*args: Any) -> tuple[Any, Any]:
        result = fun(*args)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            got = (
                f"a {type(result).__name__} of length {len(result)}"
                if isinstance(result, (tuple, list))
                else f"a {type(result).__name__}"
            )
            raise TypeError(
                f"{api} with has_aux=True needs fun to return a pair (output, aux), got {got}."
            )
        return result[0], result[1]

    return checked


def _partial_in(fun: Callable, args: tuple, argnums: tuple[int, ...], kwargs: dict) -> Callable:
    """Returns fun as a function of the arguments at argnums only, the rest held fixed."""

    def partial_fun(*dyn_args: Any) -> Any:
        full = list(args)
        for index, value in zip(argnums, dyn_args, strict=True):
            full[index] = value
        return fun(*full, **kwargs)

    return partial_fun


def _pick(grads: tuple, argnums: Any) -> Any:
    return grads[0] if isinstance(argnums, int) else grads


# --------------------------------------------------------------------------------------------
# Reverse and forward mode.
# --------------------------------------------------------------------------------------------


def vjp(fun: Callable, *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """Evaluates ``fun`` and returns its vector-Jacobian product function (reverse mode).

    Args:
      fun: Function of the primals; returns an array or a pytree of arrays (with
        ``has_aux=True``, a pair ``(output, aux)``).
      *primals: Point at which to linearize ``fun``; positional arguments of ``fun``.
      has_aux: Whether ``fun`` returns ``(output, aux)``; ``aux`` is returned, not differentiated.

    Returns:
      ``(output, vjp_fn)``, or ``(output, vjp_fn, aux)`` with ``has_aux``. ``vjp_fn(cotangent)``
      takes a cotangent shaped like ``output`` and returns a tuple with one cotangent per primal.

    Raises:
      TypeError: ``fun`` is not callable, or ``has_aux`` is set and ``fun`` does not return a pair.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> y, vjp_fn = fg.vjp(lambda x: x * x, jnp.arange(3.0))
      >>> vjp_fn(jnp.ones(3))[0]
      Array([0., 2., 4.], dtype=float32)
    """
    _check_callable(fun, "vjp")
    if has_aux:
        return jax.vjp(_with_aux_checked(fun, "vjp"), *primals, has_aux=True)
    return jax.vjp(fun, *primals)


def jvp(
    fun: Callable, primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
) -> tuple[Any, ...]:
    """Evaluates ``fun`` and its Jacobian-vector product along ``tangents`` (forward mode).

    Args:
      fun: Function of ``len(primals)`` positional arguments.
      primals: Tuple or list of the arguments at which to evaluate.
      tangents: Tuple or list, one tangent per primal, each shaped like its primal.
      has_aux: Whether ``fun`` returns ``(output, aux)``.

    Returns:
      ``(output, output_tangent)``, or ``(output, output_tangent, aux)`` with ``has_aux``.

    Raises:
      TypeError: ``fun`` is not callable, or ``primals``/``tangents`` is not a tuple or list.
      ValueError: ``tangents`` does not match ``primals`` in length, structure or shape.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> fg.jvp(jnp.sin, (0.0,), (2.0,))
      (Array(0., dtype=float32, weak_type=True), Array(2., dtype=float32, weak_type=True))
    """
    _check_callable(fun, "jvp")
    for name, value in (("primals", primals), ("tangents", tangents)):
        if not isinstance(value, (tuple, list)):
            raise TypeError(
                f"jvp: {name} must be a tuple or list with one entry per argument of fun, got "
                f"{type(value).__name__}; wrap a single argument as ({name[:-1]},)."
            )
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: got {len(primals)} primal(s) but {len(tangents)} tangent(s); pass one tangent "
            f"per primal."
        )
    problems = []
    for index, (primal, tangent) in enumerate(zip(primals, tangents, strict=True)):
        p_tree = jax.tree_util.tree_structure(primal)
        t_tree = jax.tree_util.tree_structure(tangent)
        if p_tree != t_tree:
            problems.append(f"  argument {index}: primal is {p_tree}, tangent is {t_tree}")
            continue
        for p, t in zip(
            jax.tree_util.tree_leaves(primal), jax.tree_util.tree_leaves(tangent), strict=True
        ):
            if np.shape(p) != np.shape(t):
                problems.append(
                    f"  argument {index}: primal shape {np.shape(p)}, tangent shape {np.shape(t)}"
                )
    if problems:
        raise ValueError(
            "jvp: each tangent must have its primal's structure and shape:\n" + "\n".join(problems)
        )
    if has_aux:
        return jax.jvp(_with_aux_checked(fun, "jvp"), tuple(primals), tuple(tangents), has_aux=True)
    return jax.jvp(fun, tuple(primals), tuple(tangents))


def _value_and_grad(
    fun: Callable, argnums: ArgNums, has_aux: bool, allow_int: bool, api: str
) -> Callable:
    _check_callable(fun, api)
    argnums_tuple = _check_argnums(argnums, api)

    @functools.wraps(fun)
    def value_and_grad_fun(*args: Any, **kwargs: Any) -> Any:
        dyn = _resolve_argnums(argnums_tuple, len(args), api)
        if not allow_int:
            _check_inexact_inputs(args, dyn, api)
        partial_fun = _partial_in(fun, args, dyn, kwargs)
        dyn_args = tuple(args[i] for i in dyn)
        if has_aux:
            out, vjp_fn, aux = jax.vjp(_with_aux_checked(partial_fun, api), *dyn_args, has_aux=True)
        else:
            out, vjp_fn = jax.vjp(partial_fun, *dyn_args)
        _check_scalar_output(out, api)
        grads = _pick(vjp_fn(jnp.ones_like(out)), argnums)
        return ((out, aux), grads) if has_aux else (out, grads)

    return value_and_grad_fun


def value_and_grad(
    fun: Callable, argnums: ArgNums = 0, has_aux: bool = False, allow_int: bool = False
) -> Callable:
    """Returns a function computing ``fun``'s value and its gradient.

    Args:
      fun: Function returning a real scalar (or ``(scalar, aux)`` with ``has_aux``).
      argnums: Which positional argument(s) to differentiate: an int, or a tuple of ints for a
        tuple of gradients. Keyword arguments are passed through and not differentiated.
      has_aux: Whether ``fun`` returns ``(scalar, aux)``; ``aux`` is returned, not differentiated.
      allow_int: Accept integer/boolean inputs at ``argnums``; their gradient is a float0 zero.

    Returns:
      A function with ``fun``'s signature returning ``(value, grads)``, or
      ``((value, aux), grads)`` with ``has_aux``. Each gradient has its input's structure.

    Raises:
      TypeError: ``fun`` is not callable; ``argnums`` is not an int or tuple of ints; (per call)
        an input at ``argnums`` is not floating-point; the output is not a real scalar.
      ValueError: ``argnums`` is empty or repeats; (per call) it is out of range.

    Example:
      >>> import funcgrad as fg
      >>> fg.value_and_grad(lambda x: 3 * x**2 + 4 * x + 2)(3.0)
      (Array(41., dtype=float32, weak_type=True), Array(22., dtype=float32, weak_type=True))
    """
    return _value_and_grad(fun, argnums, has_aux, allow_int, "value_and_grad")


def grad(
    fun: Callable, argnums: ArgNums = 0, has_aux: bool = False, allow_int: bool = False
) -> Callable:
    """Returns a function computing the gradient of the scalar function ``fun``.

    ``grad(f)(x)`` is what torch computes with ``f(x).backward(); x.grad``, without the state:
    nothing accumulates, so there is nothing to zero.

    Args:
      fun: Function returning a real scalar (or ``(scalar, aux)`` with ``has_aux``).
      argnums: Which positional argument(s) to differentiate: an int, or a tuple of ints for a
        tuple of gradients.
      has_aux: Whether ``fun`` returns ``(scalar, aux)``; then ``(grads, aux)`` is returned.
      allow_int: Accept integer/boolean inputs at ``argnums``; their gradient is a float0 zero.

    Returns:
      A function with ``fun``'s signature returning the gradient(s), or ``(grads, aux)``.

    Raises:
      TypeError: As for :func:`value_and_grad`, e.g. for a non-scalar output.
      ValueError: As for :func:`value_and_grad`.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> fg.grad(lambda x: 2 * jnp.dot(x, x))(jnp.arange(4.0))
      Array([ 0.,  4.,  8., 12.], dtype=float32)
    """
    value_and_grad_fun = _value_and_grad(fun, argnums, has_aux, allow_int, "grad")

    @functools.wraps(fun)
    def grad_fun(*args: Any, **kwargs: Any) -> Any:
        value, grads = value_and_grad_fun(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return grad_fun


def backward(fun: Callable, *args: Any, cotangent: Any = None, argnums: ArgNums = 0) -> Any:
    """Gradient of ``fun(*args)`` contracted with ``cotangent``: torch's ``backward(gradient=v)``.

    ``backward(f, x, cotangent=v)`` equals torch's ``f(x).backward(gradient=v); x.grad`` for a
    fresh ``x``: the vector-Jacobian product ``v @ J_f(x)``. Without a cotangent the output must
    be a scalar, and the result is the ordinary gradient.

    Args:
      fun: Function of ``args``; returns an array or a pytree of arrays. To pass keyword
        arguments to ``fun``, bind them first with ``functools.partial``.
      *args: Positional arguments of ``fun``.
      cotangent: Array (or pytree) with the output's structure and shapes; cast to the output's
        dtypes. ``None`` means 1 for a scalar output.
      argnums: Which argument(s) to return the gradient for: an int, or a tuple of ints.

    Returns:
      The gradient with respect to ``args[argnums]`` (a tuple for tuple ``argnums``).

    Raises:
      TypeError: ``fun`` is not callable, ``argnums`` is malformed, an input is not
        floating-point, or the output is not a scalar and no cotangent was given.
      ValueError: ``argnums`` is out of range, or the cotangent's structure or shapes do not
        match the output.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> fg.backward(lambda x: x * x, jnp.arange(4.0), cotangent=jnp.ones(4))
      Array([0., 2., 4., 6.], dtype=float32)
    """
    api = "backward"
    _check_callable(fun, api)
    dyn = _resolve_argnums(_check_argnums(argnums, api), len(args), api)
    _check_inexact_inputs(args, dyn, api)
    out, vjp_fn = jax.vjp(_partial_in(fun, args, dyn, {}), *(args[i] for i in dyn))
    if cotangent is None:
        if jax.tree_util.tree_structure(out).num_leaves != 1 or jnp.shape(out) != ():
            shape = jnp.shape(out) if hasattr(out, "shape") else type(out).__name__
            raise TypeError(
                f"backward: a gradient can be created implicitly only for a scalar output, but "
                f"fun returned an output of shape {shape}. Sum the output first "
                f"(backward(lambda *a: fun(*a).sum(), ...)), or pass cotangent=... with the "
                f"output's shape."
            )
        _check_scalar_output(out, api)
        cotangent = jnp.ones_like(out)
    else:
        cotangent = _match_cotangent(out, cotangent, api)
    return _pick(vjp_fn(cotangent), argnums)


def _match_cotangent(out: Any, cotangent: Any, api: str) -> Any:
    out_tree = jax.tree_util.tree_structure(out)
    ct_tree = jax.tree_util.tree_structure(cotangent)
    if out_tree != ct_tree:
        raise ValueError(
            f"{api}: cotangent must have the output's structure; output is {out_tree}, "
            f"cotangent is {ct_tree}."
        )
    out_leaves = jax.tree_util.tree_leaves(out)
    ct_leaves = jax.tree_util.tree_leaves(cotangent)
    for o, c in zip(out_leaves, ct_leaves, strict=True):
        if jnp.shape(o) != jnp.shape(c):
            raise ValueError(
                f"{api}: cotangent shape {jnp.shape(c)} does not match the output shape "
                f"{jnp.shape(o)}; pass a cotangent shaped like the output."
            )
    cast = [
        jnp.asarray(c, dtype=jnp.result_type(o)) for o, c in zip(out_leaves, ct_leaves, strict=True)
    ]
    return jax.tree_util.tree_unflatten(out_tree, cast)


def jacobian(
    fun: Callable,
    argnums: ArgNums = 0,
    *,
    mode: Literal["reverse", "forward"] = "reverse",
    has_aux: bool = False,
) -> Callable:
    """Returns a function computing the full Jacobian of ``fun``.

    Reverse mode (``jax.jacrev``) costs one VJP per output element and suits functions with
    fewer outputs than inputs; forward mode (``jax.jacfwd``) costs one JVP per input element.

    Args:
      fun: Function of arrays returning an array or pytree of arrays.
      argnums: Which positional argument(s) to differentiate.
      mode: ``"reverse"`` (default) or ``"forward"``.
      has_aux: Whether ``fun`` returns ``(output, aux)``.

    Returns:
      A function returning the Jacobian, with shape ``output.shape + input.shape``.

    Raises:
      TypeError: ``fun`` is not callable, ``argnums`` is malformed, or (per call) an input is
        not floating-point.
      ValueError: ``mode`` is unknown, or (per call) ``argnums`` is out of range.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> fg.jacobian(lambda x: x**2)(jnp.array([1.0, 2.0]))
      Array([[2., 0.],
             [0., 4.]], dtype=float32)
    """
    api = "jacobian"
    _check_callable(fun, api)
    argnums_tuple = _check_argnums(argnums, api)
    if mode == "reverse":
        transform = jax.jacrev
    elif mode == "forward":
        transform = jax.jacfwd
    else:
        raise ValueError(f"{api}: mode must be 'reverse' or 'forward', got {mode!r}.")
    body = _with_aux_checked(fun, api) if has_aux else fun
    jac_fun = transform(body, argnums=argnums, has_aux=has_aux)

    @functools.wraps(fun)
    def jacobian_fun(*args: Any, **kwargs: Any) -> Any:
        dyn = _resolve_argnums(argnums_tuple, len(args), api)
        _check_inexact_inputs(args, dyn, api)
        return jac_fun(*args, **kwargs)

    return jacobian_fun


def hessian(fun: Callable, argnums: ArgNums = 0, has_aux: bool = False) -> Callable:
    """Returns a function computing the Hessian of ``fun`` (forward-over-reverse).

    Args:
      fun: Function of arrays, usually returning a real scalar.
      argnums: Which positional argument(s) to differentiate.
      has_aux: Whether ``fun`` returns ``(output, aux)``.

    Returns:
      A function returning the Hessian, shape ``output.shape + input.shape + input.shape``.

    Raises:
      TypeError: ``fun`` is not callable, ``argnums`` is malformed, or (per call) an input is
        not floating-point.
      ValueError: (per call) ``argnums`` is out of range.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> fg.hessian(lambda x: jnp.sum(x**3))(jnp.array([1.0, 2.0]))
      Array([[ 6.,  0.],
             [ 0., 12.]], dtype=float32)
    """
    api = "hessian"
    _check_callable(fun, api)
    argnums_tuple = _check_argnums(argnums, api)
    body = _with_aux_checked(fun, api) if has_aux else fun
    hess_fun = jax.hessian(body, argnums=argnums, has_aux=has_aux)

    @functools.wraps(fun)
    def hessian_fun(*args: Any, **kwargs: Any) -> Any:
        dyn = _resolve_argnums(argnums_tuple, len(args), api)
        _check_inexact_inputs(args, dyn, api)
        return hess_fun(*args, **kwargs)

    return hessian_fun


def elementwise_grad(fun: Callable) -> Callable:
    """Returns the derivative of a scalar function, applied to every element of an array.

    ``elementwise_grad(f)(x)[i] == grad(f)(x[i])`` for every index ``i``, for ``x`` of any
    shape. This is the loop ``[torch.autograd.grad(f(xi), xi) for xi in x]`` done in one
    vectorized call (``jax.vmap`` over the flattened input), so it also works under ``jax.jit``.

    Args:
      fun: Function from a scalar to a real scalar. Extra positional arguments given to the
        returned function are passed to ``fun`` unchanged (not vectorized, not differentiated).

    Returns:
      A function ``(x, *args) -> array`` with ``x``'s shape.

    Raises:
      TypeError: ``fun`` is not callable; (per call) ``x`` is not floating-point or ``fun`` does
        not return a scalar for a scalar input.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> fg.elementwise_grad(lambda x: x**2 + 3 * x + 2)(jnp.arange(-2.0, 2.0))
      Array([-1.,  1.,  3.,  5.], dtype=float32)
    """
    api = "elementwise_grad"
    _check_callable(fun, api)
    scalar_grad = _value_and_grad(fun, 0, False, False, api)

    @functools.wraps(fun)
    def elementwise_grad_fun(x: Any, *args: Any) -> jax.Array:
        _check_inexact_inputs((x,), (0,), api)
        x = jnp.asarray(x)
        per_element = jax.vmap(lambda xi: scalar_grad(xi, *args)[1])
        return per_element(x.reshape(-1)).reshape(x.shape)

    return elementwise_grad_fun


def stop_gradient(x: T) -> T:
    """Returns ``x`` unchanged, but as a constant for differentiation (torch's ``detach``).

    Works on arrays and pytrees of arrays. ``detach`` is the same function.

    Args:
      x: Array or pytree of arrays.

    Returns:
      ``x``, with zero gradient flowing back through it.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> x = jnp.arange(4.0)
      >>> fg.grad(lambda x: jnp.sum(fg.stop_gradient(x * x) * x))(x)  # u = detached x*x
      Array([0., 1., 4., 9.], dtype=float32)
    """
    return lax.stop_gradient(x)


detach = stop_gradient
