"""Mirrors `torch.autograd.Function`: user-defined forward and backward.

`forward(ctx, *args)` runs without recording; `backward(ctx, *grad_outputs)` returns one gradient
per forward argument. The `ctx` is the op's `grad_fn` node (named `<ClassName>Backward`), as in
torch. `backward` is written with compat ops, so with `create_graph=True` it is differentiable.
"""

from __future__ import annotations

from .. import _grad_mode, _node
from .._node import _FREED_MSG, _SAVED_FREED, Node
from .._tensor import Tensor


class FunctionCtx:
    """The methods a Function's `ctx` offers (mixed into its grad_fn class)."""

    def save_for_backward(self, *tensors) -> None:
        for t in tensors:
            if t is not None and not isinstance(t, Tensor):
                raise TypeError(
                    "save_for_backward can only save variables, but argument 0 is "
                    f"of type {type(t).__name__}"
                )
        self.__dict__["_to_save"] = tensors

    @property
    def saved_tensors(self) -> tuple:
        saved = self.__dict__.get("_ctx_saved", ())
        if self._saved is _SAVED_FREED:
            raise RuntimeError(_FREED_MSG)
        for t, v in self.__dict__.get("_ctx_versions", ()):
            if t._vc[0] != v:
                from .._engine import _version_error

                raise _version_error(t, v, None)
        return saved

    def mark_non_differentiable(self, *tensors) -> None:
        self.__dict__["_non_diff"] = {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:
        self.__dict__["_dirty"] = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self.__dict__["_materialize"] = bool(value)


def _function_rule(F, node, grads, *unused):
    cls = node.__dict__["_fn_cls"]
    graph = F.is_graph
    grads = grads if isinstance(grads, list) else [grads]
    outs = node.__dict__["_out_meta"]
    tg = []
    for g, (shape, jdt) in zip(grads, outs, strict=True):
        if g is None:
            if node.__dict__.get("_materialize", True):
                import jax.numpy as jnp

                g = jnp.zeros(shape, jdt) if not graph else Tensor._make(jnp.zeros(shape, jdt))
            else:
                tg.append(None)
                continue
        tg.append(g if isinstance(g, Tensor) else Tensor._make(g))
    if graph:
        res = cls.backward(node, *tg)
    else:
        with _grad_mode.no_grad():
            res = cls.backward(node, *tg)
    if not isinstance(res, tuple):
        res = (res,)
    positions = node.__dict__["_tensor_positions"]
    nargs = node.__dict__["_nargs"]
    if len(res) != nargs:
        if len(res) > nargs and all(r is None for r in res[nargs:]):
            res = res[:nargs]
        else:
            raise RuntimeError(
                f"function {type(node).__name__} returned an incorrect number of gradients "
                f"(expected {nargs}, got {len(res)})"
            )
    out = []
    for p in positions:
        r = res[p]
        if r is None:
            out.append(None)
        elif graph:
            out.append(r if isinstance(r, Tensor) else Tensor._make(r))
        else:
            out.append(r._data if isinstance(r, Tensor) else r)
    return tuple(out)


class _FunctionMeta(type):
    def __init__(cls, name, bases, attrs):
        super().__init__(name, bases, attrs)
        node_cls = type(
            f"{name}Backward",
            (FunctionCtx, Node),
            {"__slots__": (), "_rule": staticmethod(_function_rule), "_no_jit": True},
        )
        # torch's repr: `<torch.autograd.function.ExpBackward object at 0x...>`.
        node_cls.__module__ = "torch.autograd.function"
        cls._backward_cls = node_cls


class Function(metaclass=_FunctionMeta):
    """Mirrors `torch.autograd.Function`. Subclass it with static `forward(ctx, *args)` and
    `backward(ctx, *grad_outputs)`, then call `.apply(*args)`.

    Example:
        >>> class Exp(Function):
        ...     @staticmethod
        ...     def forward(ctx, x):
        ...         y = x.exp()
        ...         ctx.save_for_backward(y)
        ...         return y
        ...     @staticmethod
        ...     def backward(ctx, g):
        ...         (y,) = ctx.saved_tensors
        ...         return g * y
    """

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError(
            "You must implement the forward function for custom autograd.Function."
        )

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(
            "You must implement either the backward or vjp method for your custom "
            "autograd.Function to use it with backward mode AD."
        )

    vjp = backward

    def __init__(self, *args, **kwargs) -> None:
        import warnings

        warnings.warn(
            f"{type(self)} should not be instantiated. Methods on autograd functions are all "
            "static, so you should invoke them on the class itself. Instantiating an autograd "
            "function will raise an error in a future version of PyTorch.",
            DeprecationWarning,
            stacklevel=2,
        )

    @classmethod
    def apply(cls, *args, **kwargs):
        node_cls = cls._backward_cls
        ctx = node_cls.__new__(node_cls)
        positions = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        tensor_args = [args[i] for i in positions]
        ctx.__dict__["needs_input_grad"] = tuple(isinstance(a, Tensor) and a._rg for a in args)
        with _grad_mode.no_grad():
            out = cls.forward(ctx, *args, **kwargs)
        single = not isinstance(out, tuple)
        outs = (out,) if single else out
        record = _grad_mode.is_grad_enabled() and any(t._rg for t in tensor_args)
        to_save = ctx.__dict__.pop("_to_save", ())
        if not record:
            return out
        node = _node.new_node(node_cls, tensor_args, (), None, nout=len(outs))
        node.__dict__.update(ctx.__dict__)
        node.__dict__["_fn_cls"] = cls
        node.__dict__["_tensor_positions"] = positions
        node.__dict__["_nargs"] = len(args)
        node.__dict__["_out_meta"] = [
            (o._data.shape, o._data.dtype) if isinstance(o, Tensor) else ((), None) for o in outs
        ]
        non_diff = node.__dict__.get("_non_diff", set())
        results = []
        for i, o in enumerate(outs):
            if isinstance(o, Tensor) and id(o) not in non_diff and o.dtype.category >= 2:
                if any(o is a for a in tensor_args):
                    o = Tensor._make(o._data)  # an input returned as-is becomes a new output
                o.grad_fn = node
                o._output_nr = i
                o._rg = True
            results.append(o)
        # Saved tensors that are outputs must refer to the recorded outputs.
        saved = tuple(
            next((r for r, o in zip(results, outs, strict=True) if o is s), s) for s in to_save
        )
        node.__dict__["_ctx_saved"] = saved
        node.__dict__["_ctx_versions"] = tuple((s, s._vc[0]) for s in saved if s is not None)
        if to_save:
            node._saved = (True,)  # marks the node as holding saved values (freed by backward)
        return results[0] if single else tuple(results)


def once_differentiable(fn):
    """Accepted for compatibility: runs `backward` without recording a graph."""

    def wrapper(ctx, *args):
        with _grad_mode.no_grad():
            return fn(ctx, *args)

    return wrapper
