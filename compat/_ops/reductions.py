"""Reductions: sum, mean, prod, max/min (with and without dim), norm, var/std, logsumexp."""

from __future__ import annotations

import builtins
import collections

import jax
import jax.numpy as jnp

from .. import _dtype
from ._base import OUT, Tensor, op, record, record_multi
from .shape import norm_dim

_k_sum = jax.jit(jnp.sum)
_k_mean = jax.jit(jnp.mean)


def _dims(dim, ndim):
    if dim is None:
        return None
    if isinstance(dim, int):
        return (norm_dim(dim, ndim),)
    return tuple(sorted(norm_dim(d, ndim) for d in dim))


def _restore(F, g, shape, dims, keepdim):
    """Broadcasts a reduced gradient back to the input's shape."""
    if dims is not None and not keepdim and dims:
        g = F.unsqueeze_dims(g, dims)
    return F.expand(g, shape)


@op("SumBackward0")
def SumBackward0(F, node, g):  # noqa: N802
    return (F.expand(g, node._extra),)


@op("SumBackward1")
def SumBackward1(F, node, g):  # noqa: N802
    shape, dims, keepdim = node._extra
    return (_restore(F, g, shape, dims, keepdim),)


def _acc_dtype(a, dtype):
    if dtype is not None:
        return _dtype.to_dtype(dtype)
    return _dtype.int64 if a.dtype.category < 2 else a.dtype


def sum(a, dim=None, keepdim=False, *, dtype=None):  # noqa: A001
    """Mirrors `torch.sum(input, dim=None, keepdim=False, dtype=None)`."""
    rd = _acc_dtype(a, dtype)
    x = a._data if a._data.dtype == rd.jax else a._data.astype(rd.jax)
    if dim is None:
        return record(_k_sum(x), SumBackward0, (a,), (), a._data.shape)
    dims = _dims(dim, a.ndim)
    out = jnp.sum(x, axis=dims, keepdims=keepdim)
    return record(out, SumBackward1, (a,), (), (a._data.shape, dims, keepdim))


@op("MeanBackward0")
def MeanBackward0(F, node, g):  # noqa: N802
    shape, n = node._extra
    return (F.expand(g / n, shape),)


@op("MeanBackward1")
def MeanBackward1(F, node, g):  # noqa: N802
    shape, dims, keepdim, n = node._extra
    return (_restore(F, g / n, shape, dims, keepdim),)


def mean(a, dim=None, keepdim=False, *, dtype=None):
    """Mirrors `torch.mean(input, dim=None, keepdim=False, dtype=None)`."""
    if dtype is None and a.dtype.category < 2:
        raise RuntimeError(
            "mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_long_name(a.dtype)}"
        )
    rd = a.dtype if dtype is None else _dtype.to_dtype(dtype)
    x = a._data if a._data.dtype == rd.jax else a._data.astype(rd.jax)
    if dim is None:
        n = builtins.max(x.size, 1)
        return record(_k_mean(x), MeanBackward0, (a,), (), (a._data.shape, n))
    dims = _dims(dim, a.ndim)
    n = 1
    for d in dims:
        n *= a._data.shape[d]
    out = jnp.mean(x, axis=dims, keepdims=keepdim)
    return record(out, MeanBackward1, (a,), (), (a._data.shape, dims, keepdim, builtins.max(n, 1)))


def _long_name(d):
    return {
        "int64": "Long",
        "int32": "Int",
        "bool": "Bool",
        "int16": "Short",
        "int8": "Char",
        "uint8": "Byte",
    }.get(d.name, d.name)


@op("ProdBackward0", saved=("self", "result"))
def ProdBackward0(F, node, g, a, r):  # noqa: N802
    x = F.data(a)
    if F.is_graph:
        # r / a is exact away from zeros; a zero entry needs the product of the others.
        if not _traced(x) and bool(jnp.any(x == 0)):
            raise NotImplementedError(
                "compat: create_graph=True through prod() of a tensor containing zeros is not "
                "supported"
            )
        return (g * r / a,)
    import jax

    return (jax.vjp(jnp.prod, x)[1](g)[0],)


def _traced(x):
    import jax

    return isinstance(x, jax.core.Tracer)


@op("ProdBackward1", saved=("self", "result"))
def ProdBackward1(F, node, g, a, r):  # noqa: N802
    d, keepdim = node._extra
    x = F.data(a)
    if F.is_graph:
        if not _traced(x) and bool(jnp.any(x == 0)):
            raise NotImplementedError(
                "compat: create_graph=True through prod() of a tensor containing zeros is not "
                "supported"
            )
        gg = g if keepdim else F.unsqueeze_dims(g, (d,))
        rr = r if keepdim else F.unsqueeze_dims(r, (d,))
        return (F.expand(gg * rr, x.shape) / a,)
    import jax

    return (jax.vjp(lambda v: jnp.prod(v, axis=d, keepdims=keepdim), x)[1](g)[0],)


def prod(a, dim=None, keepdim=False, *, dtype=None):
    """Mirrors `torch.prod(input, dim=None, keepdim=False)`."""
    x = a._data if dtype is None else a._data.astype(_dtype.to_dtype(dtype).jax)
    if a.dtype.category < 2 and dtype is None:
        x = x.astype(jnp.int64)
    if dim is not None:
        d = norm_dim(dim, a.ndim)
        return record(
            jnp.prod(x, axis=d, keepdims=keepdim), ProdBackward1, (a,), (a, OUT), (d, keepdim)
        )
    return record(jnp.prod(x), ProdBackward0, (a,), (a, OUT))


def _argext_grad(F, g, x, r):
    # torch spreads the gradient evenly over ties for a full max/min.
    m = x == F.data(r)
    cnt = jnp.sum(m).astype(x.dtype)
    return F.mask(F.expand(g / cnt, x.shape), m)


@op("MaxBackward1", saved=("self", "result"))
def MaxBackward1(F, node, g, a, r):  # noqa: N802
    return (_argext_grad(F, g, F.data(a), r),)


@op("MinBackward1", saved=("self", "result"))
def MinBackward1(F, node, g, a, r):  # noqa: N802
    return (_argext_grad(F, g, F.data(a), r),)


def _dim_select_grad(F, grads, node):
    g = grads[0]
    shape, dim, keepdim, idx = node._extra
    if g is None:
        return (None,)
    if not keepdim:
        g = F.unsqueeze_dims(g, (dim,))
        idx = jnp.expand_dims(idx, dim)
    onehot = (
        jnp.arange(shape[dim]).reshape([-1 if i == dim else 1 for i in range(len(shape))]) == idx
    )
    return (F.mask(F.expand(g, shape), onehot),)


@op("MaxBackward0", saved=("indices",))
def MaxBackward0(F, node, grads, idx):  # noqa: N802
    return _dim_select_grad(F, grads, node)


@op("MinBackward0", saved=("indices",))
def MinBackward0(F, node, grads, idx):  # noqa: N802
    return _dim_select_grad(F, grads, node)


def _return_type(name: str):
    """A `torch.return_types.<name>` lookalike: a (values, indices) named tuple printed as
    torch prints it, one field per line."""
    base = collections.namedtuple(name, ["values", "indices"])

    def __repr__(self) -> str:  # noqa: N807
        fields = ",\n".join(f"{k}={v!r}" for k, v in zip(self._fields, self, strict=True))
        return f"torch.return_types.{name}(\n{fields})"

    cls = type(name, (base,), {"__slots__": (), "__repr__": __repr__, "__str__": __repr__})
    cls.__module__ = "torch.return_types"
    return cls


return_types_max = _return_type("max")
return_types_min = _return_type("min")


def _ext(a, dim, keepdim, full_cls, dim_cls, fn, argfn, rtype, name):
    if dim is None:
        if a._data.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return record(fn(a._data), full_cls, (a,), (a, OUT))
    if isinstance(dim, Tensor):
        from .elementwise import maximum, minimum

        return (maximum if name == "max" else minimum)(a, dim)
    d = norm_dim(dim, a.ndim)
    idx = argfn(a._data, axis=d)
    vals = jnp.take_along_axis(a._data, jnp.expand_dims(idx, d), axis=d)
    if not keepdim:
        vals = jnp.squeeze(vals, d)
    else:
        idx = jnp.expand_dims(idx, d)
    v, i = record_multi(
        (vals, idx.astype(jnp.int64)),
        dim_cls,
        (a,),
        (None,),
        (a._data.shape, d, keepdim, idx if not keepdim else jnp.squeeze(idx, d)),
        differentiable=(True, False),
    )
    return rtype(v, i)


def max(a, dim=None, keepdim=False):  # noqa: A001
    """Mirrors `torch.max(input)`, `torch.max(input, dim, keepdim=False)` and
    `torch.max(input, other)`."""
    return _ext(
        a, dim, keepdim, MaxBackward1, MaxBackward0, jnp.max, jnp.argmax, return_types_max, "max"
    )


def min(a, dim=None, keepdim=False):  # noqa: A001
    """Mirrors `torch.min` (see `max`)."""
    return _ext(
        a, dim, keepdim, MinBackward1, MinBackward0, jnp.min, jnp.argmin, return_types_min, "min"
    )


@op("AmaxBackward0", saved=("self", "result"))
def AmaxBackward0(F, node, g, a, r):  # noqa: N802
    shape, dims, keepdim = node._extra
    x = F.data(a)
    rr = F.data(r)
    if dims is not None and not keepdim:
        rr = jnp.expand_dims(rr, dims)
    m = x == rr
    cnt = jnp.sum(m, axis=dims, keepdims=True).astype(x.dtype)
    gg = _restore(F, g, shape, dims, keepdim)
    return (F.mask(gg / F.expand(F.const(cnt), shape), m),)


def amax(a, dim=None, keepdim=False):
    dims = _dims(dim, a.ndim) if dim not in (None, ()) else None
    out = jnp.max(a._data, axis=dims, keepdims=keepdim)
    return record(out, AmaxBackward0, (a,), (a, OUT), (a._data.shape, dims, keepdim))


def argmax(a, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(jnp.argmax(a._data).astype(jnp.int64))
    return Tensor._make(
        jnp.argmax(a._data, axis=norm_dim(dim, a.ndim), keepdims=keepdim).astype(jnp.int64)
    )


def argmin(a, dim=None, keepdim=False):
    if dim is None:
        return Tensor._make(jnp.argmin(a._data).astype(jnp.int64))
    return Tensor._make(
        jnp.argmin(a._data, axis=norm_dim(dim, a.ndim), keepdims=keepdim).astype(jnp.int64)
    )


@op("LinalgVectorNormBackward0", saved=("self", "result"))
def LinalgVectorNormBackward0(F, node, g, a, r):  # noqa: N802
    shape, dims, keepdim, p = node._extra
    rr = r
    if dims is not None and not keepdim:
        rr = F.unsqueeze_dims(r, dims)
        g = F.unsqueeze_dims(g, dims)
    if p == 2:
        # d||a||/da = a / ||a||, defined as 0 at a == 0 (torch's subgradient).
        safe = F.where(F.data(rr) == 0, 1.0, rr)
        scale = F.where(F.data(rr) == 0, 0.0, g / safe)
        return (a * F.expand(scale, shape),)
    if p == 1:
        return (F.sign(F.data(a)) * F.expand(g, shape),)
    # General p: a * |a|^(p-2) / ||a||^(p-1)
    return (a * F.pow(F.abs(a), p - 2) * F.expand(g / F.pow(rr, p - 1), shape),)


def norm(a, p="fro", dim=None, keepdim=False, dtype=None):
    """Mirrors `torch.norm(input, p='fro', dim=None, keepdim=False)` for vector norms."""
    if p == "fro" or p is None:
        p = 2
    if a.dtype.category < 2:
        raise RuntimeError(
            "linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
            f"{_long_name(a.dtype)}"
        )
    dims = _dims(dim, a.ndim)
    x = a._data
    if p == 2:
        out = jnp.sqrt(jnp.sum(x * x, axis=dims, keepdims=keepdim))
    elif p == float("inf"):
        out = jnp.max(jnp.abs(x), axis=dims, keepdims=keepdim)
    else:
        out = jnp.sum(jnp.abs(x) ** p, axis=dims, keepdims=keepdim) ** (1.0 / p)
    return record(out, LinalgVectorNormBackward0, (a,), (a, OUT), (x.shape, dims, keepdim, p))


@op("VarBackward0", saved=("self",))
def VarBackward0(F, node, g, a):  # noqa: N802
    shape, dims, keepdim, correction, n = node._extra
    m = F.mean_dims(a, dims)
    gg = _restore(F, g, shape, dims, keepdim)
    return (gg * 2 * (a - m) / (n - correction),)


@op("StdBackward0", saved=("self", "result"))
def StdBackward0(F, node, g, a, r):  # noqa: N802
    shape, dims, keepdim, correction, n = node._extra
    m = F.mean_dims(a, dims)
    gg = _restore(F, g / r, shape, dims, keepdim)
    return (gg * (a - m) / (n - correction),)


def _var_args(a, dim, unbiased, correction):
    dims = _dims(dim, a.ndim)
    if correction is None:
        correction = 1 if unbiased in (None, True) else 0
    n = 1
    for d in range(a.ndim) if dims is None else dims:
        n *= a._data.shape[d]
    return dims, correction, n


def var(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Mirrors `torch.var`."""
    dims, c, n = _var_args(a, dim, unbiased, correction)
    out = jnp.var(a._data, axis=dims, ddof=c, keepdims=keepdim)
    return record(out, VarBackward0, (a,), (a,), (a._data.shape, dims, keepdim, c, n))


def std(a, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """Mirrors `torch.std`."""
    dims, c, n = _var_args(a, dim, unbiased, correction)
    out = jnp.std(a._data, axis=dims, ddof=c, keepdims=keepdim)
    return record(out, StdBackward0, (a,), (a, OUT), (a._data.shape, dims, keepdim, c, n))


@op("LogsumexpBackward0", saved=("self", "result"))
def LogsumexpBackward0(F, node, g, a, r):  # noqa: N802
    shape, dims, keepdim = node._extra
    rr = r if keepdim else F.unsqueeze_dims(r, dims)
    gg = _restore(F, g, shape, dims, keepdim)
    return (gg * F.exp(a - F.expand(rr, shape)),)


def logsumexp(a, dim, keepdim=False):
    """Mirrors `torch.logsumexp(input, dim, keepdim=False)`."""
    import jax

    dims = _dims(dim, a.ndim)
    out = jax.scipy.special.logsumexp(a._data, axis=dims, keepdims=keepdim)
    return record(out, LogsumexpBackward0, (a,), (a, OUT), (a._data.shape, dims, keepdim))


@op("CumsumBackward0")
def CumsumBackward0(F, node, g):  # noqa: N802
    from .shape import flip

    d = node._extra
    if F.is_graph:
        return (flip(cumsum(flip(g, [d]), d), [d]),)
    return (jnp.flip(jnp.cumsum(jnp.flip(g, d), axis=d), d),)


def cumsum(a, dim, *, dtype=None):
    d = norm_dim(dim, a.ndim)
    x = a._data.astype(jnp.int64) if a.dtype.category < 2 else a._data
    return record(jnp.cumsum(x, axis=d), CumsumBackward0, (a,), (), d)


def all(a, dim=None, keepdim=False):  # noqa: A001
    return Tensor._make(jnp.all(a._data, axis=dim, keepdims=keepdim))


def any(a, dim=None, keepdim=False):  # noqa: A001
    return Tensor._make(jnp.any(a._data, axis=dim, keepdims=keepdim))


def count_nonzero(a, dim=None):
    return Tensor._make(jnp.count_nonzero(a._data, axis=dim).astype(jnp.int64))
