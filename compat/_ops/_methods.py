"""Installs torch's Tensor methods and operators on `compat.Tensor`, each a one-liner into the op
families."""

from __future__ import annotations

from .._tensor import Tensor
from . import elementwise as ew
from . import linalg, nn, reductions, shape
from ._base import op, record

_check_inplace = shape.check_inplace
_commit = shape.commit


def _inplace(fn):
    """Makes `t.op_(...)` from `op(t, ...)`: refuse on a grad-requiring leaf, compute out of
    place, then commit into `t` (version bump, grad_fn swap, write-through to a view's base)."""

    def method(self, *args, **kwargs):
        _check_inplace(self)
        return _commit(self, fn(self, *args, **kwargs))

    method.__name__ = fn.__name__ + "_"
    return method


def _rsub(self, other):
    return ew.rsub(self, other)


def _rpow(self, other):
    return ew.pow(other, self)


def _rmatmul(self, other):
    return linalg.matmul(other, self)


@op("ZeroBackward0")
def ZeroBackward0(F, node, g):  # noqa: N802
    return (F.zeros_like(g),)


@op("FillBackward2")
def FillBackward2(F, node, g):  # noqa: N802
    return (F.zeros_like(g),)


@op("FillBackward3")
def FillBackward3(F, node, g):  # noqa: N802
    return F.zeros_like(g), F.sum(g)


def _zero_(self):
    from ._base import filled

    _check_inplace(self)
    # Recorded as torch does: the old values (and their history) get no gradient.
    res = record(filled(self._data.shape, 0, self._data.dtype), ZeroBackward0, (self,))
    return _commit(self, res)


def _fill_(self, value):
    import jax.numpy as jnp

    _check_inplace(self)
    v = value._data if isinstance(value, Tensor) else value
    new = jnp.full(self._data.shape, v, self._data.dtype)
    if isinstance(value, Tensor):
        return _commit(self, record(new, FillBackward3, (self, value)))
    return _commit(self, record(new, FillBackward2, (self,)))


def _copy_(self, src, non_blocking=False):
    del non_blocking
    _check_inplace(self)
    from .shape import expand, to_dtype

    res = to_dtype(src, self.dtype) if src.dtype is not self.dtype else src
    if tuple(res.shape) != tuple(self.shape):
        res = expand(res, *self.shape)
    res = shape.clone(res)
    return _commit(self, res)


def _max(self, dim=None, keepdim=False):
    return reductions.max(self, dim, keepdim)


def _min(self, dim=None, keepdim=False):
    return reductions.min(self, dim, keepdim)


def _sum(self, dim=None, keepdim=False, *, dtype=None):
    return reductions.sum(self, dim, keepdim, dtype=dtype)


def _mean(self, dim=None, keepdim=False, *, dtype=None):
    return reductions.mean(self, dim, keepdim, dtype=dtype)


def _conv(dt):
    def f(self, memory_format=None):
        del memory_format
        return shape.to_dtype(self, dt)

    return f


_METHODS = {
    # arithmetic operators
    "__add__": lambda self, o: ew.add(self, o),
    "__radd__": lambda self, o: ew.add(self, o),
    "__sub__": lambda self, o: ew.sub(self, o),
    "__rsub__": _rsub,
    "__mul__": lambda self, o: ew.mul(self, o),
    "__rmul__": lambda self, o: ew.mul(self, o),
    "__truediv__": lambda self, o: ew.div(self, o),
    "__rtruediv__": lambda self, o: ew.rdiv(self, o),
    "__floordiv__": lambda self, o: ew.floor_divide(self, o),
    "__rfloordiv__": lambda self, o: ew.floor_divide(Tensor._make(_arr(o, self)), self),
    "__mod__": lambda self, o: ew.remainder(self, o),
    "__pow__": lambda self, o: ew.pow(self, o),
    "__rpow__": _rpow,
    "__matmul__": lambda self, o: linalg.matmul(self, o),
    "__rmatmul__": _rmatmul,
    "__neg__": lambda self: ew.neg(self),
    "__pos__": lambda self: self,
    "__abs__": lambda self: ew.abs(self),
    "__invert__": lambda self: ew.bitwise_not(self),
    "__and__": lambda self, o: ew.bitwise_and(self, o),
    "__or__": lambda self, o: ew.bitwise_or(self, o),
    "__xor__": lambda self, o: ew.bitwise_xor(self, o),
    "__rand__": lambda self, o: ew.bitwise_and(self, o),
    "__ror__": lambda self, o: ew.bitwise_or(self, o),
    "__eq__": lambda self, o: ew.eq(self, o),
    "__ne__": lambda self, o: ew.ne(self, o),
    "__lt__": lambda self, o: ew.lt(self, o),
    "__le__": lambda self, o: ew.le(self, o),
    "__gt__": lambda self, o: ew.gt(self, o),
    "__ge__": lambda self, o: ew.ge(self, o),
    "__getitem__": lambda self, k: shape.getitem(self, k),
    "__setitem__": lambda self, k, v: shape.setitem(self, k, v),
    # in-place operators
    "__iadd__": lambda self, o: Tensor.add_(self, o),
    "__isub__": lambda self, o: Tensor.sub_(self, o),
    "__imul__": lambda self, o: Tensor.mul_(self, o),
    "__itruediv__": lambda self, o: Tensor.div_(self, o),
    "__ipow__": lambda self, o: Tensor.pow_(self, o),
    # math
    "add": lambda self, o, *, alpha=1: ew.add(self, o, alpha=alpha),
    "sub": lambda self, o, *, alpha=1: ew.sub(self, o, alpha=alpha),
    "subtract": lambda self, o, *, alpha=1: ew.sub(self, o, alpha=alpha),
    "mul": lambda self, o: ew.mul(self, o),
    "multiply": lambda self, o: ew.mul(self, o),
    "div": lambda self, o, *, rounding_mode=None: ew.div(self, o, rounding_mode=rounding_mode),
    "divide": lambda self, o, *, rounding_mode=None: ew.div(self, o, rounding_mode=rounding_mode),
    "true_divide": lambda self, o: ew.div(self, o),
    "pow": lambda self, e: ew.pow(self, e),
    "neg": ew.neg,
    "negative": ew.neg,
    "exp": ew.exp,
    "log": ew.log,
    "log1p": ew.log1p,
    "log2": ew.log2,
    "log10": ew.log10,
    "sqrt": ew.sqrt,
    "rsqrt": ew.rsqrt,
    "sin": ew.sin,
    "cos": ew.cos,
    "tan": ew.tan,
    "tanh": ew.tanh,
    "sigmoid": ew.sigmoid,
    "relu": ew.relu,
    "abs": ew.abs,
    "absolute": ew.abs,
    "sign": ew.sign,
    "erf": ew.erf,
    "square": ew.square,
    "reciprocal": ew.reciprocal,
    "clamp": lambda self, min=None, max=None: ew.clamp(self, min, max),  # noqa: A002
    "clip": lambda self, min=None, max=None: ew.clamp(self, min, max),  # noqa: A002
    "clamp_min": lambda self, m: ew.clamp(self, m, None),
    "clamp_max": lambda self, m: ew.clamp(self, None, m),
    "maximum": ew.maximum,
    "minimum": ew.minimum,
    "floor": ew.floor,
    "ceil": ew.ceil,
    "round": ew.round,
    "eq": ew.eq,
    "ne": ew.ne,
    "lt": ew.lt,
    "le": ew.le,
    "gt": ew.gt,
    "ge": ew.ge,
    "equal": ew.equal,
    "allclose": ew.allclose,
    "isclose": ew.isclose,
    "isnan": ew.isnan,
    "isinf": ew.isinf,
    "isfinite": ew.isfinite,
    "logical_not": ew.logical_not,
    "masked_fill": shape.masked_fill,
    # reductions
    "sum": _sum,
    "mean": _mean,
    "prod": lambda self, dim=None, keepdim=False, *, dtype=None: reductions.prod(
        self, dim, keepdim, dtype=dtype
    ),
    "max": _max,
    "min": _min,
    "amax": lambda self, dim=None, keepdim=False: reductions.amax(self, dim, keepdim),
    "argmax": lambda self, dim=None, keepdim=False: reductions.argmax(self, dim, keepdim),
    "argmin": lambda self, dim=None, keepdim=False: reductions.argmin(self, dim, keepdim),
    "norm": lambda self, p="fro", dim=None, keepdim=False, dtype=None: reductions.norm(
        self, p, dim, keepdim, dtype
    ),
    "var": reductions.var,
    "std": reductions.std,
    "logsumexp": reductions.logsumexp,
    "cumsum": reductions.cumsum,
    "all": reductions.all,
    "any": reductions.any,
    "count_nonzero": reductions.count_nonzero,
    "softmax": lambda self, dim, dtype=None: nn.softmax(self, dim, dtype=dtype),
    "log_softmax": lambda self, dim, dtype=None: nn.log_softmax(self, dim, dtype=dtype),
    # linear algebra
    "dot": linalg.dot,
    "inner": linalg.dot,
    "mm": linalg.mm,
    "mv": linalg.mv,
    "bmm": linalg.bmm,
    "matmul": linalg.matmul,
    "outer": linalg.outer,
    # shape
    "view": shape.view,
    "view_as": shape.view_as,
    "reshape": shape.reshape,
    "reshape_as": shape.reshape_as,
    "flatten": shape.flatten,
    "unflatten": shape.unflatten,
    "squeeze": shape.squeeze,
    "unsqueeze": shape.unsqueeze,
    "permute": shape.permute,
    "transpose": shape.transpose,
    "swapaxes": shape.transpose,
    "t": shape.t_,
    "expand": shape.expand,
    "expand_as": shape.expand_as,
    "repeat": shape.repeat,
    "flip": shape.flip,
    "select": shape.select,
    "narrow": shape.narrow,
    "unbind": shape.unbind,
    "split": shape.split,
    "chunk": shape.chunk,
    "clone": shape.clone,
    "contiguous": shape.contiguous,
    "nonzero": shape.nonzero,
    "diag": shape.diag,
    "to": shape.to,
    "float": _conv("float32"),
    "double": _conv("float64"),
    "half": _conv("float16"),
    "bfloat16": _conv("bfloat16"),
    "long": _conv("int64"),
    "int": _conv("int32"),
    "short": _conv("int16"),
    "bool": _conv("bool"),
    "byte": _conv("uint8"),
    "char": _conv("int8"),
    "cpu": lambda self, *a, **k: self,
    "cuda": lambda self, *a, **k: self,
    "zero_": _zero_,
    "fill_": _fill_,
    "copy_": _copy_,
}

for _name in (
    "add",
    "sub",
    "mul",
    "div",
    "pow",
    "neg",
    "exp",
    "log",
    "sqrt",
    "sin",
    "cos",
    "tanh",
    "sigmoid",
    "relu",
    "abs",
    "clamp",
    "clamp_min",
    "clamp_max",
    "square",
    "reciprocal",
    "sign",
    "floor",
    "ceil",
    "round",
    "masked_fill",
    "t",
    "transpose",
    "unsqueeze",
    "squeeze",
    "log1p",
    "rsqrt",
):
    _METHODS[_name + "_"] = _inplace(_METHODS[_name])
_METHODS["subtract_"] = _METHODS["sub_"]
_METHODS["multiply_"] = _METHODS["mul_"]
_METHODS["divide_"] = _METHODS["div_"]


def _arr(o, like):
    import jax.numpy as jnp

    return jnp.asarray(o, like._data.dtype)


def _install():
    for name, fn in _METHODS.items():
        setattr(Tensor, name, fn)
    Tensor.T = property(shape.T)
    Tensor.mT = property(shape.mT)
    Tensor.H = property(shape.T)


_install()


def _random_methods():
    from .. import _creation

    Tensor.normal_ = _creation.normal_
    Tensor.uniform_ = _creation.uniform_
    Tensor.random_ = _creation.random_


_random_methods()
