"""Mirrors `torch.autograd.functional`: `vjp`, `jvp`, `jacobian`, `hessian`, built on compat's
own engine so `create_graph=True` gives differentiable results as in torch."""

from __future__ import annotations

import jax.numpy as jnp

from .. import _engine, _grad_mode
from .._ops.shape import stack
from .._tensor import Tensor


def _tuple(x):
    return (x,) if isinstance(x, Tensor) else tuple(x)


def _prep(inputs, create_graph):
    out = []
    for x in _tuple(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(
                f"The inputs given to jacobian must be either a Tensor or a tuple of Tensors but "
                f"the value at index 0 has type {type(x).__name__}."
            )
        d = x.detach() if not create_graph else x
        if not d._rg:
            d = Tensor._make(x._data, True)
        out.append(d)
    return tuple(out)


def _grads(outputs, inputs, grad_outputs, create_graph):
    with _grad_mode.enable_grad():
        gs = _engine.grad(
            outputs,
            inputs,
            grad_outputs,
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    return tuple(
        Tensor._make(jnp.zeros_like(x._data)) if g is None else g
        for g, x in zip(gs, inputs, strict=True)
    )


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """Mirrors `torch.autograd.functional.vjp`: returns `(func(inputs), vjp)`."""
    del strict
    is_tuple = not isinstance(inputs, Tensor)
    xs = _prep(inputs, create_graph)
    with _grad_mode.enable_grad():
        out = func(*xs)
    outs = _tuple(out)
    if v is None:
        if any(o.numel() != 1 for o in outs):
            raise RuntimeError(
                "The vector v can only be None if the user-provided function returns a single "
                "Tensor with a single element."
            )
    vs = None if v is None else _tuple(v)
    gs = _grads(outs, xs, vs, create_graph)
    res_out = out if create_graph else _detach(out)
    return res_out, gs if is_tuple else gs[0]


def _detach(out):
    return out.detach() if isinstance(out, Tensor) else tuple(o.detach() for o in out)


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """Mirrors `torch.autograd.functional.jvp` (the double-vjp construction torch uses)."""
    del strict
    is_tuple = not isinstance(inputs, Tensor)
    xs = _prep(inputs, True)
    vs = tuple(Tensor._make(jnp.ones_like(x._data)) for x in xs) if v is None else _tuple(v)
    with _grad_mode.enable_grad():
        out = func(*xs)
        outs = _tuple(out)
        us = tuple(Tensor._make(jnp.zeros_like(o._data), True) for o in outs)
        gs = _engine.grad(outs, xs, us, retain_graph=True, create_graph=True, allow_unused=True)
        pairs = [(g, vv) for g, vv in zip(gs, vs, strict=True) if g is not None]
        res = _engine.grad(
            tuple(p[0] for p in pairs),
            us,
            tuple(p[1] for p in pairs),
            retain_graph=True,
            create_graph=create_graph,
            allow_unused=True,
        )
    res = tuple(
        Tensor._make(jnp.zeros_like(o._data)) if r is None else r
        for r, o in zip(res, outs, strict=True)
    )
    res_out = out if create_graph else _detach(out)
    del is_tuple
    return res_out, res if isinstance(out, tuple) else res[0]


def jacobian(
    func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"
):
    """Mirrors `torch.autograd.functional.jacobian`: one backward per output element."""
    del strict, vectorize, strategy
    is_tuple = not isinstance(inputs, Tensor)
    xs = _prep(inputs, create_graph)
    with _grad_mode.enable_grad():
        out = func(*xs)
    outs = _tuple(out)
    per_out = []
    for o in outs:
        rows = [[] for _ in xs]
        flat = o.reshape(-1)
        for i in range(flat.numel()):
            gs = _grads((flat[i],), xs, None, create_graph)
            for j, g in enumerate(gs):
                rows[j].append(g)
        jac = []
        for j, x in enumerate(xs):
            if rows[j]:
                jac.append(stack(rows[j]).reshape(tuple(o.shape) + tuple(x.shape)))
            else:
                jac.append(Tensor._make(jnp.zeros(tuple(o.shape) + tuple(x.shape), x._data.dtype)))
        per_out.append(tuple(jac) if is_tuple else jac[0])
    if not create_graph:
        per_out = [
            tuple(j.detach() for j in p) if isinstance(p, tuple) else p.detach() for p in per_out
        ]
    return tuple(per_out) if isinstance(out, tuple) else per_out[0]


def hessian(
    func,
    inputs,
    create_graph=False,
    strict=False,
    vectorize=False,
    outer_jacobian_strategy="reverse-mode",
):
    """Mirrors `torch.autograd.functional.hessian` for a scalar function."""
    del strict, vectorize, outer_jacobian_strategy
    is_tuple = not isinstance(inputs, Tensor)

    def grad_fn(*xs):
        with _grad_mode.enable_grad():
            out = func(*xs)
            if out.numel() != 1:
                raise RuntimeError(
                    "The function given to hessian should return a single element Tensor"
                )
            gs = _engine.grad(
                (out,), xs, None, retain_graph=True, create_graph=True, allow_unused=True
            )
        return tuple(
            Tensor._make(jnp.zeros_like(x._data)) if g is None else g
            for g, x in zip(gs, xs, strict=True)
        )

    res = jacobian(
        lambda *xs: grad_fn(*xs) if is_tuple else grad_fn(*xs)[0], inputs, create_graph=create_graph
    )
    return res


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    is_tuple = not isinstance(inputs, Tensor)
    xs = _prep(inputs, True)
    with _grad_mode.enable_grad():
        out = func(*xs)
        gs = _engine.grad((out,), xs, None, retain_graph=True, create_graph=True, allow_unused=True)
        res = _engine.grad(
            gs, xs, _tuple(v), retain_graph=True, create_graph=create_graph, allow_unused=True
        )
    res_out = out if create_graph else out.detach()
    return res_out, res if is_tuple else res[0]


hvp = vhp
