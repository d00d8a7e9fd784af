"""Backward rules' namespace over compat tensors, used with `create_graph=True`.

Every name here is a recorded compat op, so the gradient computed by a rule is itself a graph
that can be differentiated again (Hessians, gradient penalties).
"""

from __future__ import annotations

import jax.numpy as jnp

from . import elementwise as ew
from . import linalg, reductions, shape
from ._base import Tensor, op, record


def _t(x):
    return x if isinstance(x, Tensor) else Tensor._make(jnp.asarray(x))


@op("SumToSizeBackward0")
def _SumToBackward(F, node, g):  # noqa: N802
    return (F.expand(g, node._extra),)


def _sum_to(g, target):
    target = tuple(target)
    if tuple(g.shape) == target:
        return g
    from ._base import _raw_sum_to

    return record(_raw_sum_to(g._data, target), _SumToBackward, (g,), (), g._data.shape)


@op("IndexPutBackward0")
def _ScatterBackward(F, node, g):  # noqa: N802
    return (F.getitem(g, node._extra),)


@op("FlatSetZeroBackward0")
def _FlatSetZeroBackward(F, node, g):  # noqa: N802
    return (F.flat_set_zero(g, node._extra),)


@op("FlatTakeBackward0")
def _FlatTakeBackward(F, node, g):  # noqa: N802
    idx, shape = node._extra
    return (
        F.reshape(
            F.scatter_zeros((_numel(shape),), F.data_of(idx).ravel(), F.reshape(g, (-1,))), shape
        ),
    )


def _numel(shape):
    n = 1
    for s in shape:
        n *= s
    return n


class _Graph:
    is_graph = True
    sum_to = staticmethod(_sum_to)
    exp = staticmethod(ew.exp)
    log = staticmethod(ew.log)
    sqrt = staticmethod(ew.sqrt)
    sin = staticmethod(ew.sin)
    cos = staticmethod(ew.cos)
    tanh = staticmethod(ew.tanh)
    sigmoid = staticmethod(ew.sigmoid)
    abs = staticmethod(ew.abs)
    matmul = staticmethod(linalg.matmul)
    outer = staticmethod(linalg.outer)

    @staticmethod
    def sign(x):
        return _t(jnp.sign(x._data if isinstance(x, Tensor) else x))

    @staticmethod
    def conj(x):
        return x

    @staticmethod
    def zeros_like(x):
        return Tensor._make(jnp.zeros_like(x._data))

    @staticmethod
    def where(cond, a, b):
        c = cond._data if isinstance(cond, Tensor) else cond
        if not isinstance(a, Tensor) and not isinstance(b, Tensor):
            return Tensor._make(jnp.where(c, a, b))
        if not isinstance(a, Tensor):
            a = Tensor._make(jnp.full((), a, b._data.dtype))
        if not isinstance(b, Tensor):
            b = Tensor._make(jnp.full((), b, a._data.dtype))
        return ew.where(Tensor._make(c), a, b)

    @staticmethod
    def mask(g, cond):
        # Selects rather than multiplies, so masked-out entries are +0. as torch's are.
        c = cond._data if isinstance(cond, Tensor) else cond
        zero = Tensor._make(jnp.zeros((), g._data.dtype))
        return ew.where(Tensor._make(c), g, zero)

    @staticmethod
    def pow(a, b):
        return ew.pow(a, b)

    @staticmethod
    def reshape(g, s):
        return shape.view(g, *s) if tuple(g.shape) != tuple(s) else g

    @staticmethod
    def expand(g, s):
        s = tuple(s)
        if tuple(g.shape) == s:
            return g
        return shape.expand(g, *s)

    @staticmethod
    def mT(g):  # noqa: N802
        return shape.transpose(g, -1, -2)

    @staticmethod
    def permute(g, axes):
        return shape.permute(g, *axes)

    @staticmethod
    def sum(g, axis=None, keepdims=False):
        if axis is None:
            return reductions.sum(g)
        return reductions.sum(g, axis, keepdims)

    @staticmethod
    def cast(g, jdt):
        from .. import _dtype

        return shape.to_dtype(g, _dtype.from_jax(jdt))

    @staticmethod
    def getitem(g, idx):
        return shape.getitem(g, idx)

    @staticmethod
    def scatter_zeros(shp, idx, g):
        out = jnp.zeros(shp, g._data.dtype).at[idx].add(g._data)
        return record(out, _ScatterBackward, (g,), (), idx)

    @staticmethod
    def flat_set_zero(g, idx):
        flat = idx.ravel()
        out = g._data.ravel().at[flat].set(0).reshape(g._data.shape)
        return record(out, _FlatSetZeroBackward, (g,), (), idx)

    @staticmethod
    def flat_take(g, idx, shp):
        out = g._data.ravel()[idx.ravel()].reshape(shp)
        return record(out, _FlatTakeBackward, (g,), (), (idx, g._data.shape))

    @staticmethod
    def data_of(x):
        return x._data if isinstance(x, Tensor) else x

    @staticmethod
    def stack(gs, axis):
        return shape.stack(gs, axis)

    @staticmethod
    def cat(gs, axis):
        return shape.cat(gs, axis)

    @staticmethod
    def unsqueeze_dims(g, dims):
        for d in sorted(dims):
            g = shape.unsqueeze(g, d)
        return g

    @staticmethod
    def zeros(shp, like):
        return Tensor._make(jnp.zeros(shp, like._data.dtype))

    @staticmethod
    def data(x):
        return x._data if isinstance(x, Tensor) else x

    @staticmethod
    def const(x):
        return Tensor._make(x) if not isinstance(x, Tensor) else x

    @staticmethod
    def prod_all(x):
        return reductions.prod(x)

    @staticmethod
    def mean_dims(a, dims):
        return reductions.mean(a, dims, True) if dims is not None else reductions.mean(a)

    @staticmethod
    def clamp_min(x, lo):
        return ew.clamp(x, min=lo)


GRAPH = _Graph()
