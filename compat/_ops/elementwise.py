"""Element-wise ops: arithmetic, comparisons and unary math.

Each op is its forward (a JAX call on promoted arrays), its node class (torch's grad_fn name) and
its backward rule, side by side.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from .. import _dtype
from ._base import OUT, Tensor, data, op, promote, record

# Pre-compiled kernels: a jitted function dispatches through JAX's C++ fast path, cheaper than
# the Python layers of `jnp` ufuncs, and eager compat calls these thousands of times.
_k_add = jax.jit(jnp.add)
_k_sub = jax.jit(jnp.subtract)
_k_mul = jax.jit(jnp.multiply)
_k_div = jax.jit(jnp.divide)
_k_square = jax.jit(lambda x: x * x)
_k_ipow = jax.jit(lambda x, e: x**e, static_argnums=1)
_k_pow = jax.jit(jnp.power)


# -- add / sub ------------------------------------------------------------------------------------
@op("AddBackward0", saved=("alpha",))
def AddBackward0(F, node, g, alpha):  # noqa: N802
    sa, sb = node._extra
    return F.sum_to(g, sa), F.sum_to(g if alpha == 1 else g * alpha, sb)


@op("SubBackward0", saved=("alpha",))
def SubBackward0(F, node, g, alpha):  # noqa: N802
    sa, sb = node._extra
    return F.sum_to(g, sa), F.sum_to(-g if alpha == 1 else g * -alpha, sb)


@op("RsubBackward1", saved=("alpha",))
def RsubBackward1(F, node, g, alpha):  # noqa: N802
    return (F.sum_to(-g if alpha == 1 else g * -alpha, node._extra[0]),)


def _shape(x):
    return x._data.shape if isinstance(x, Tensor) else ()


def add(a, b, *, alpha=1):
    """Mirrors `torch.add(input, other, alpha=1)`."""
    (x, y), _ = promote(a, b)
    out = _k_add(x, y) if alpha == 1 else x + y * alpha
    return record(out, AddBackward0, (a, b), (alpha,), (_shape(a), _shape(b)))


def sub(a, b, *, alpha=1):
    """Mirrors `torch.sub(input, other, alpha=1)`."""
    _check_sub(a, b)
    (x, y), _ = promote(a, b)
    out = _k_sub(x, y) if alpha == 1 else x - y * alpha
    return record(out, SubBackward0, (a, b), (alpha,), (_shape(a), _shape(b)))


def rsub(a, b, *, alpha=1):
    """`b - alpha * a`: what `scalar - tensor` computes (torch's rsub)."""
    _check_sub(a, b)
    (x, y), _ = promote(a, b)
    out = y - (x if alpha == 1 else x * alpha)
    if isinstance(b, Tensor):
        return record(out, SubBackward0, (b, a), (alpha,), (_shape(b), _shape(a)))
    return record(out, RsubBackward1, (a,), (alpha,), (_shape(a),))


def _is_bool(t) -> bool:
    if isinstance(t, Tensor):
        return t._data.dtype == jnp.bool_
    return isinstance(t, bool)


def _check_sub(a, b):
    if not (_is_bool(a) or _is_bool(b)):
        return
    if all(getattr(t, "dtype", None) is _dtype.bool_ or isinstance(t, bool) for t in (a, b)):
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    for t in (a, b):
        if getattr(t, "dtype", None) is _dtype.bool_ or isinstance(t, bool):
            raise RuntimeError(
                "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
                "trying to invert a mask, use the `~` or `logical_not()` operator instead."
            )


# -- mul / div ------------------------------------------------------------------------------------
@op("MulBackward0", saved=("self", "other"))
def MulBackward0(F, node, g, a, b):  # noqa: N802
    ga = gb = None
    ta, tb = node.next_functions
    if ta[0] is not None:
        ga = F.sum_to(g * b, node._extra[0])
    if tb[0] is not None:
        gb = F.sum_to(g * a, node._extra[1])
    return ga, gb


def mul(a, b):
    """Mirrors `torch.mul(input, other)`."""
    (x, y), _ = promote(a, b)
    out = _k_mul(x, y)
    # As torch: `self` is saved only when `other` needs a gradient, and vice versa.
    # A Python scalar is saved as the 0-d array promote made of it (torch's wrapped number): a
    # saved tensor, freed by backward like any other.
    sa = (a if isinstance(a, Tensor) else x) if isinstance(b, Tensor) and b._rg else None
    sb = (b if isinstance(b, Tensor) else y) if isinstance(a, Tensor) and a._rg else None
    return record(out, MulBackward0, (a, b), (sa, sb), (_shape(a), _shape(b)))


@op("DivBackward0", saved=("self", "other"))
def DivBackward0(F, node, g, a, b):  # noqa: N802
    ga = gb = None
    if node.next_functions[0][0] is not None:
        ga = F.sum_to(g / b, node._extra[0])
    if node.next_functions[1][0] is not None:
        gb = F.sum_to(-g * a / (b * b), node._extra[1])
    return ga, gb


def div(a, b, *, rounding_mode=None):
    """Mirrors `torch.div(input, other, rounding_mode=None)`."""
    if rounding_mode is not None:
        (x, y), rd = promote(a, b)
        if rounding_mode == "floor":
            out = jnp.floor_divide(x, y) if rd.category < 2 else jnp.floor(x / y)
        elif rounding_mode == "trunc":
            out = jnp.trunc(x / y).astype(rd.jax)
        else:
            raise RuntimeError(
                "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                f"'{rounding_mode}'"
            )
        return record(out, DivBackward2, (a, b), (), (_shape(a), _shape(b)))
    rd = _dtype.result_type(a, b)
    if rd.category < 2:
        rd = _dtype.get_default_dtype()
        a = a.to(rd) if isinstance(a, Tensor) else a
        b = b.to(rd) if isinstance(b, Tensor) else b
    (x, y), _ = promote(a, b)
    saved = (a if isinstance(a, Tensor) else x, b if isinstance(b, Tensor) else y)
    return record(_k_div(x, y), DivBackward0, (a, b), saved, (_shape(a), _shape(b)))


def rdiv(a, b):
    """`b / a` for a Python scalar `b`: torch computes `reciprocal(a) * b`."""
    return mul(reciprocal(a), b)


@op("ReciprocalBackward0", saved=("result",))
def ReciprocalBackward0(F, node, g, r):  # noqa: N802
    return (-g * r * r,)


def reciprocal(a):
    a = _to_float(a)
    return record(1 / a._data, ReciprocalBackward0, (a,), (OUT,))


def _to_float(a):
    if a.dtype.category < 2:
        return a.to(_dtype.get_default_dtype())
    return a


# -- pow ------------------------------------------------------------------------------------------
@op("PowBackward0", saved=("self", "exponent"))
def PowBackward0(F, node, g, a, e):  # noqa: N802
    if e == 0:
        return (g * 0,)
    return (g * e * F.pow(a, e - 1),)


@op("PowBackward1", saved=("self", "exponent", "result"))
def PowBackward1(F, node, g, a, e, r):  # noqa: N802
    ga = gb = None
    if node.next_functions[0][0] is not None:
        ga = F.sum_to(g * e * F.pow(a, e - 1), node._extra[0])
    if node.next_functions[1][0] is not None:
        # d/de a**e = a**e * log(a), defined as 0 where a == 0 and e >= 0 (torch's convention).
        la = F.where(F.data(a) == 0, 0.0, F.log(F.where(F.data(a) == 0, 1.0, a)))
        gb = F.sum_to(g * r * la, node._extra[1])
    return ga, gb


@op("PowBackward2", saved=("exponent", "result"))
def PowBackward2(F, node, g, e, r):  # noqa: N802
    import math

    return (g * r * math.log(node._extra),)


def pow(a, b):  # noqa: A001 - torch's name
    """Mirrors `torch.pow(input, exponent)`."""
    if isinstance(a, Tensor) and not isinstance(b, Tensor):
        rd = _dtype.result_type(a, b)
        if rd is not a.dtype:
            a = a.to(rd)
        x = a._data
        if isinstance(b, int) and rd.category == 1 and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        if b == 2:
            out = _k_square(x)  # exactly what XLA computes for x ** 2
        elif isinstance(b, int) and not isinstance(b, bool):
            out = _k_ipow(x, b)
        else:
            out = _k_pow(x, jnp.asarray(b, x.dtype))
        return record(out, PowBackward0, (a,), (a, b))
    if not isinstance(a, Tensor):
        (x, y), rd = promote(a, b)
        if rd is not b.dtype:
            b = b.to(rd)
        return record(x**y, PowBackward2, (b,), (b, OUT), a)
    (x, y), rd = promote(a, b)
    return record(x**y, PowBackward1, (a, b), (a, b, OUT), (_shape(a), _shape(b)))


# -- unary ----------------------------------------------------------------------------------------
def _unary(fn, cls, saved_in=False, saved_out=False, floatify=True):
    def f(a):
        if floatify and a.dtype.category < 2:
            a = a.to(_dtype.get_default_dtype())
        saved = (a,) if saved_in else (OUT,) if saved_out else ()
        return record(fn(a._data), cls, (a,), saved)

    return f


@op("NegBackward0")
def NegBackward0(F, node, g):  # noqa: N802
    return (-g,)


neg = _unary(jnp.negative, NegBackward0, floatify=False)


@op("ExpBackward0", saved=("result",))
def ExpBackward0(F, node, g, r):  # noqa: N802
    return (g * r,)


exp = _unary(jnp.exp, ExpBackward0, saved_out=True)


@op("LogBackward0", saved=("self",))
def LogBackward0(F, node, g, a):  # noqa: N802
    return (g / a,)


log = _unary(jnp.log, LogBackward0, saved_in=True)


@op("Log1PBackward0", saved=("self",))
def Log1PBackward0(F, node, g, a):  # noqa: N802
    return (g / (a + 1),)


log1p = _unary(jnp.log1p, Log1PBackward0, saved_in=True)


@op("Log2Backward0", saved=("self",))
def Log2Backward0(F, node, g, a):  # noqa: N802
    return (g / (a * 0.6931471805599453),)


log2 = _unary(jnp.log2, Log2Backward0, saved_in=True)


@op("Log10Backward0", saved=("self",))
def Log10Backward0(F, node, g, a):  # noqa: N802
    return (g / (a * 2.302585092994046),)


log10 = _unary(jnp.log10, Log10Backward0, saved_in=True)


@op("SqrtBackward0", saved=("result",))
def SqrtBackward0(F, node, g, r):  # noqa: N802
    return (g / (2 * r),)


sqrt = _unary(jnp.sqrt, SqrtBackward0, saved_out=True)


@op("RsqrtBackward0", saved=("result",))
def RsqrtBackward0(F, node, g, r):  # noqa: N802
    return (-0.5 * g * r * r * r,)


rsqrt = _unary(jax.lax.rsqrt, RsqrtBackward0, saved_out=True)


@op("SinBackward0", saved=("self",))
def SinBackward0(F, node, g, a):  # noqa: N802
    return (g * F.cos(a),)


sin = _unary(jnp.sin, SinBackward0, saved_in=True)


@op("CosBackward0", saved=("self",))
def CosBackward0(F, node, g, a):  # noqa: N802
    return (-g * F.sin(a),)


cos = _unary(jnp.cos, CosBackward0, saved_in=True)


@op("TanBackward0", saved=("result",))
def TanBackward0(F, node, g, r):  # noqa: N802
    return (g * (1 + r * r),)


tan = _unary(jnp.tan, TanBackward0, saved_out=True)


@op("TanhBackward0", saved=("result",))
def TanhBackward0(F, node, g, r):  # noqa: N802
    return (g * (1 - r * r),)


tanh = _unary(jnp.tanh, TanhBackward0, saved_out=True)


@op("SigmoidBackward0", saved=("result",))
def SigmoidBackward0(F, node, g, r):  # noqa: N802
    return (g * r * (1 - r),)


sigmoid = _unary(jax.nn.sigmoid, SigmoidBackward0, saved_out=True)


@op("AbsBackward0", saved=("self",))
def AbsBackward0(F, node, g, a):  # noqa: N802
    return (g * F.sign(F.data(a)),)


abs = _unary(jnp.abs, AbsBackward0, saved_in=True, floatify=False)  # noqa: A001


@op("SignBackward0")
def SignBackward0(F, node, g):  # noqa: N802
    return (F.zeros_like(g),)


sign = _unary(jnp.sign, SignBackward0, floatify=False)


@op("ReluBackward0", saved=("result",))
def ReluBackward0(F, node, g, r):  # noqa: N802
    return (F.mask(g, F.data(r) > 0),)


relu = _unary(jax.nn.relu, ReluBackward0, saved_out=True, floatify=False)


@op("ErfBackward0", saved=("self",))
def ErfBackward0(F, node, g, a):  # noqa: N802
    return (g * 1.1283791670955126 * F.exp(-(a * a)),)


erf = _unary(jax.scipy.special.erf, ErfBackward0, saved_in=True)


def square(a):
    """Mirrors `torch.square`: torch records it as `pow(a, 2)`."""
    return pow(a, 2)


@op("ClampBackward1", saved=("self", "min", "max"))
def ClampBackward1(F, node, g, a, lo, hi):  # noqa: N802
    x = F.data(a)
    keep = jnp.ones(x.shape, bool)
    if lo is not None:
        keep = keep & (x >= lo)
    if hi is not None:
        keep = keep & (x <= hi)
    return (F.mask(g, keep),)


def clamp(a, min=None, max=None):  # noqa: A002
    """Mirrors `torch.clamp(input, min=None, max=None)` with scalar bounds."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        lo = a if min is None else maximum(a, min)
        return lo if max is None else minimum(lo, max)
    out = jnp.clip(a._data, min, max)
    return record(out, ClampBackward1, (a,), (a, min, max))


@op("MaximumBackward0", saved=("self", "other"))
def MaximumBackward0(F, node, g, a, b):  # noqa: N802
    x, y = F.data(a), F.data(b)
    half = jnp.where(x == y, 0.5, 1.0).astype(x.dtype)
    ga = F.sum_to(F.mask(g, x >= y) * half, node._extra[0])
    gb = F.sum_to(F.mask(g, y >= x) * half, node._extra[1])
    return ga, gb


@op("MinimumBackward0", saved=("self", "other"))
def MinimumBackward0(F, node, g, a, b):  # noqa: N802
    x, y = F.data(a), F.data(b)
    half = jnp.where(x == y, 0.5, 1.0).astype(x.dtype)
    ga = F.sum_to(F.mask(g, x <= y) * half, node._extra[0])
    gb = F.sum_to(F.mask(g, y <= x) * half, node._extra[1])
    return ga, gb


def maximum(a, b):
    """Mirrors `torch.maximum`."""
    b = b if isinstance(b, Tensor) else Tensor._make(jnp.asarray(b, a._data.dtype))
    (x, y), _ = promote(a, b)
    return record(jnp.maximum(x, y), MaximumBackward0, (a, b), (a, b), (_shape(a), _shape(b)))


def minimum(a, b):
    """Mirrors `torch.minimum`."""
    b = b if isinstance(b, Tensor) else Tensor._make(jnp.asarray(b, a._data.dtype))
    (x, y), _ = promote(a, b)
    return record(jnp.minimum(x, y), MinimumBackward0, (a, b), (a, b), (_shape(a), _shape(b)))


@op("WhereBackward0", saved=("condition",))
def WhereBackward0(F, node, g, cond):  # noqa: N802
    return (F.sum_to(F.mask(g, cond), node._extra[0]), F.sum_to(F.mask(g, ~cond), node._extra[1]))


def where(cond, a=None, b=None):
    """Mirrors `torch.where(condition, input, other)`."""
    if a is None and b is None:
        from .shape import nonzero

        return nonzero(cond, as_tuple=True)
    c = data(cond)
    (x, y), _ = promote(a, b)
    # torch's WhereBackward0 has edges to `input` and `other` only (the condition has none).
    return record(jnp.where(c, x, y), WhereBackward0, (a, b), (c,), (_shape(a), _shape(b)))


# -- comparisons and logic (never differentiable) -------------------------------------------------
def _compare(fn):
    def f(a, b):
        (x, y), _ = promote(a, b)
        return Tensor._make(fn(x, y))

    return f


eq = _compare(jnp.equal)
ne = _compare(jnp.not_equal)
lt = _compare(jnp.less)
le = _compare(jnp.less_equal)
gt = _compare(jnp.greater)
ge = _compare(jnp.greater_equal)


def logical_not(a):
    return Tensor._make(jnp.logical_not(a._data))


def bitwise_not(a):
    if a.dtype.category >= 2:
        raise TypeError(
            "~ (operator.invert) is only implemented on integer and Boolean-type tensors"
        )
    return Tensor._make(jnp.invert(a._data))


def _bitwise(fn, sym):
    def f(a, b):
        (x, y), rd = promote(a, b)
        if rd.category >= 2:
            raise RuntimeError(f"\"{sym}_cpu\" not implemented for '{_cname(rd)}'")
        return Tensor._make(fn(x, y))

    return f


def _cname(d):
    return {"float32": "Float", "float64": "Double", "float16": "Half"}.get(d.name, d.name)


bitwise_and = _bitwise(jnp.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(jnp.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(jnp.bitwise_xor, "bitwise_xor")


def isnan(a):
    return Tensor._make(jnp.isnan(a._data))


def isinf(a):
    return Tensor._make(jnp.isinf(a._data))


def isfinite(a):
    return Tensor._make(jnp.isfinite(a._data))


def allclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(jnp.allclose(data(a), data(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def isclose(a, b, rtol=1e-05, atol=1e-08, equal_nan=False):
    return Tensor._make(jnp.isclose(data(a), data(b), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(a, b) -> bool:
    return a.shape == b.shape and bool(jnp.all(a._data == b._data))


# -- piecewise-constant ops: defined, zero gradients (torch records them all the same) ----------
def _zero_grads(F, node, g):
    shapes = node._extra
    return tuple(None if s is None else F.sum_to(F.zeros_like(g), s) for s in shapes)


DivBackward2 = op("DivBackward2")(_zero_grads)
FloorBackward0 = op("FloorBackward0")(_zero_grads)
CeilBackward0 = op("CeilBackward0")(_zero_grads)
RoundBackward0 = op("RoundBackward0")(_zero_grads)
RoundBackward1 = op("RoundBackward1")(_zero_grads)


def floor(a):
    if a.dtype.category < 2:
        return a.clone()
    return record(jnp.floor(a._data), FloorBackward0, (a,), (), (a._data.shape,))


def ceil(a):
    if a.dtype.category < 2:
        return a.clone()
    return record(jnp.ceil(a._data), CeilBackward0, (a,), (), (a._data.shape,))


def round(a, decimals=0):  # noqa: A001
    cls = RoundBackward0 if decimals == 0 else RoundBackward1
    return record(jnp.round(a._data, decimals), cls, (a,), (), (a._data.shape,))


@op("NotImplemented")
def FloorDivideBackward(F, node, g):  # noqa: N802
    raise RuntimeError("derivative for aten::floor_divide is not implemented")


def floor_divide(a, b):
    (x, y), rd = promote(a, b)
    out = jnp.floor_divide(x, y) if rd.category < 2 else jnp.floor(x / y)
    return record(out, FloorDivideBackward, (a, b), ())


@op("RemainderBackward0")
def RemainderBackward0(F, node, g):  # noqa: N802
    return (g,)


@op("RemainderBackward1", saved=("self", "other"))
def RemainderBackward1(F, node, g, a, b):  # noqa: N802
    ga = F.sum_to(g, node._extra[0]) if node.next_functions[0][0] is not None else None
    gb = None
    if node.next_functions[1][0] is not None:
        q = jnp.floor(F.data(a) / F.data(b))
        gb = F.sum_to(-g * F.const(q), node._extra[1])
    return ga, gb


def remainder(a, b):
    (x, y), _ = promote(a, b)
    out = jnp.remainder(x, y)
    if isinstance(b, Tensor):
        return record(out, RemainderBackward1, (a, b), (a, b), (_shape(a), _shape(b)))
    return record(out, RemainderBackward0, (a,), ())
