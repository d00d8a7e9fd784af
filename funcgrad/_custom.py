"""Custom gradients: torch's ``autograd.Function`` pattern on top of ``jax.custom_vjp``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ClassVar

import jax

__all__ = ["Function", "custom_gradient"]


def _check_forward_result(result: Any, name: str) -> tuple[Any, Any]:
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        got = f"{type(result).__name__}" + (
            f" of length {len(result)}" if isinstance(result, (tuple, list)) else ""
        )
        raise TypeError(
            f"{name}: forward must return a pair (output, residuals), got a {got}. Put whatever "
            f"backward needs (arrays, or a tuple of them; () for nothing) in residuals."
        )
    return result[0], result[1]


def _normalize_cotangents(cotangents: Any, nargs: int, name: str) -> tuple[Any, ...]:
    if not isinstance(cotangents, (tuple, list)):
        if nargs == 1:
            return (cotangents,)
        raise TypeError(
            f"{name}: backward must return a tuple with one cotangent per input ({nargs} "
            f"inputs), got a single {type(cotangents).__name__}."
        )
    if len(cotangents) != nargs:
        raise TypeError(
            f"{name}: backward returned {len(cotangents)} cotangent(s), but the function was "
            f"called with {nargs} input(s). Return one cotangent per input, in order; use None "
            f"for an input that gets no gradient."
        )
    return tuple(cotangents)


def custom_gradient(forward: Callable, backward: Callable, *, name: str | None = None) -> Callable:
    """Builds a function from a forward pass and a hand-written backward pass.

    ``forward(*args)`` returns ``(output, residuals)``: the result, and the arrays the backward
    pass needs (torch's ``ctx.save_for_backward``). ``backward(residuals, cotangent)`` returns one
    cotangent per input (``None`` for no gradient). The result is a ``jax.custom_vjp`` function:
    it works under ``jit``, ``vmap`` and reverse mode, to any order when ``backward`` is itself
    written with differentiable JAX operations. Forward mode (``jvp``, ``jacobian(...,
    mode="forward")``) applied directly to it is not supported by JAX; ``hessian``
    (forward-over-reverse) is.

    Args:
      forward: ``forward(*args) -> (output, residuals)``; ``residuals`` is a pytree of arrays.
      backward: ``backward(residuals, cotangent) -> tuple`` of input cotangents, each shaped like
        its input. For a single input, a bare array is accepted.
      name: Name used in error messages and as the function's ``__name__``.

    Returns:
      A function ``(*args) -> output`` with the custom gradient.

    Raises:
      TypeError: ``forward``/``backward`` is not callable; (when called or differentiated)
        ``forward`` does not return a pair, or ``backward`` returns the wrong number of
        cotangents.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> def fwd(x):
      ...     return jnp.exp(x), jnp.exp(x)  # output, and the residual e^x
      >>> def bwd(ex, g):
      ...     return (g * ex,)
      >>> my_exp = fg.custom_gradient(fwd, bwd, name="my_exp")
      >>> fg.grad(my_exp)(0.0)
      Array(1., dtype=float32, weak_type=True)
    """
    label = name or getattr(forward, "__qualname__", "custom_gradient")
    for what, fun in (("forward", forward), ("backward", backward)):
        if not callable(fun):
            raise TypeError(f"{label}: {what} must be a callable, got {type(fun).__name__}.")

    # custom_vjp's backward must return exactly one cotangent per input, so one wrapper is
    # built per arity (once, then reused: rebuilding it per call would defeat JAX's caches).
    by_arity: dict[int, Callable] = {}

    def build(nargs: int) -> Callable:
        def primal(*args: Any) -> Any:
            return _check_forward_result(forward(*args), label)[0]

        def fwd(*args: Any) -> tuple[Any, Any]:
            return _check_forward_result(forward(*args), label)

        def bwd(residuals: Any, cotangent: Any) -> tuple[Any, ...]:
            return _normalize_cotangents(backward(residuals, cotangent), nargs, label)

        fun = jax.custom_vjp(primal)
        fun.defvjp(fwd, bwd)
        return fun

    @functools.wraps(forward)
    def apply(*args: Any, **kwargs: Any) -> Any:
        if kwargs:
            raise TypeError(
                f"{label}: takes positional arguments only, got keyword(s) {sorted(kwargs)}; "
                f"bind configuration with functools.partial or class attributes instead."
            )
        fun = by_arity.get(len(args))
        if fun is None:
            fun = by_arity[len(args)] = build(len(args))
        return fun(*args)

    apply.__name__ = label
    apply.__qualname__ = label
    return apply


class Function:
    """Base class for a function with a hand-written gradient, in the style of torch.

    Subclass it and define two static methods, then call ``MyFunction.apply(*args)``:

    - ``forward(*args) -> (output, residuals)``: compute the output and return what the
      backward pass needs (torch saves it on ``ctx``; here it is returned).
    - ``backward(residuals, cotangent) -> tuple``: one cotangent per input, or ``None``.

    Differences from ``torch.autograd.Function``: no ``ctx`` argument (residuals are returned
    instead), inputs are JAX arrays (configuration belongs in class attributes), and
    ``apply`` is pure, so it composes with ``jax.jit``, ``jax.vmap`` and higher-order ``grad``.
    Built on :func:`custom_gradient`, which documents the rest.

    Example:
      >>> import jax.numpy as jnp
      >>> import funcgrad as fg
      >>> class Cube(fg.Function):
      ...     @staticmethod
      ...     def forward(x):
      ...         return x**3, x
      ...
      ...     @staticmethod
      ...     def backward(x, g):
      ...         return (3 * x**2 * g,)
      >>> fg.grad(fg.grad(Cube.apply))(2.0)  # d2/dx2 x^3 = 6x
      Array(12., dtype=float32, weak_type=True)
    """

    _funcgrad_impl: ClassVar[Callable | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._funcgrad_impl = None  # each subclass builds its own custom_vjp, lazily

    def __init__(self) -> None:
        raise TypeError(
            f"{type(self).__name__} is not instantiated; call {type(self).__name__}.apply(*args)."
        )

    @staticmethod
    def forward(*args: Any) -> tuple[Any, Any]:
        """Computes ``(output, residuals)``; subclasses must override this."""
        raise NotImplementedError

    @staticmethod
    def backward(residuals: Any, cotangent: Any) -> tuple[Any, ...]:
        """Returns one cotangent per input; subclasses must override this."""
        raise NotImplementedError

    @classmethod
    def apply(cls, *args: Any) -> Any:
        """Calls the function: ``forward``'s output, with ``backward`` as its gradient rule.

        Args:
          *args: Positional inputs (arrays or pytrees of arrays) passed to ``forward``.

        Returns:
          The output of ``forward``.

        Raises:
          NotImplementedError: The subclass does not define ``forward`` or ``backward``.
        """
        impl = cls._funcgrad_impl
        if impl is None:
            if cls is Function:
                raise TypeError("Function is a base class: subclass it, then call Sub.apply.")
            for method in ("forward", "backward"):
                if getattr(cls, method) is getattr(Function, method):
                    raise NotImplementedError(
                        f"{cls.__name__} must define a static method {method} "
                        f"(see funcgrad.Function)."
                    )
            impl = cls._funcgrad_impl = custom_gradient(
                cls.forward, cls.backward, name=cls.__name__
            )
        return impl(*args)
