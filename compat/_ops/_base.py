"""The machinery every op family shares: unwrapping arguments, torch's type promotion, recording
onto the graph, and the two array namespaces backward rules are written against.

A backward rule is `rule(F, node, grads, *saved)`. `F` is `RAW` (JAX arrays, used by a plain
backward: no graph, no tensor wrappers) or `GRAPH` (compat tensors, used with
`create_graph=True` so the backward is itself recorded and differentiable). Rules use arithmetic
operators plus the names both namespaces define, so one rule serves both.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from .. import _dtype, _grad_mode, _node
from .._tensor import Tensor

_state = _grad_mode._state
OUT = object()  # placeholder in `saved` for the op's own output


def is_tensor(x) -> bool:
    return isinstance(x, Tensor)


def data(x):
    """The JAX array (or Python scalar) behind an argument."""
    return x._data if isinstance(x, Tensor) else x


def wrap(arr, requires_grad: bool = False) -> Tensor:
    return Tensor._make(arr, requires_grad)


def as_tensor_arg(x, dt=None) -> Tensor:
    """Turns an array-like argument (scalar, list, JAX/NumPy array) into a Tensor."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, jax.Array):
        return Tensor._make(x)
    if dt is None:
        dt = _dtype.result_type(x) if isinstance(x, (bool, int, float, complex)) else None
    return Tensor._make(to_array(x, dt))


def to_array(x, dt=None):
    """A JAX array from Python/NumPy data, with torch's dtype defaults."""
    if isinstance(x, Tensor):
        arr = x._data
        return arr if dt is None or arr.dtype == dt.jax else arr.astype(dt.jax)
    if dt is None:
        dt = infer_dtype(x)
    return (
        jnp.asarray(np.asarray(x, dtype=dt.jax))
        if not isinstance(x, jax.Array)
        else x.astype(dt.jax)
    )


def infer_dtype(x) -> _dtype.dtype:
    """torch.tensor's dtype inference: bool, int64, default float or complex."""
    if isinstance(x, Tensor):
        return x.dtype
    if isinstance(x, (np.ndarray, np.generic, jax.Array)):
        return _dtype.from_jax(x.dtype)
    if isinstance(x, (list, tuple)):
        kinds = set()
        _scan_kinds(x, kinds)
        for k, d in ((complex, None), (float, None), (int, _dtype.int64), (bool, _dtype.bool_)):
            if k in kinds:
                if d is None:
                    return _dtype.result_type(k(0))
                return d
        return _dtype.get_default_dtype()
    return _dtype.result_type(x)


def _scan_kinds(x, kinds: set) -> None:
    for v in x:
        if isinstance(v, (list, tuple)):
            _scan_kinds(v, kinds)
        elif isinstance(v, Tensor):
            kinds.add({0: bool, 1: int, 2: float, 3: complex}[v.dtype.category])
        elif isinstance(v, bool | np.bool_):
            kinds.add(bool)
        elif isinstance(v, int | np.integer):
            kinds.add(int)
        elif isinstance(v, complex | np.complexfloating):
            kinds.add(complex)
        else:
            kinds.add(float)


def check_broadcast(sa: tuple, sb: tuple) -> None:
    """Raises torch's error when two shapes do not broadcast (first mismatch from the right)."""
    n = len(sa) if len(sa) > len(sb) else len(sb)
    for i in range(1, n + 1):
        x = sa[-i] if i <= len(sa) else 1
        y = sb[-i] if i <= len(sb) else 1
        if x != y and x != 1 and y != 1:
            raise RuntimeError(
                f"The size of tensor a ({x}) must match the size of tensor b "
                f"({y}) at non-singleton dimension {n - i}"
            )


def promote(*args, broadcast: bool = True):
    """Unwraps tensor/scalar arguments and casts array ones to torch's result dtype.

    Returns (arrays-or-scalars, result dtype). Python scalars stay Python scalars, so JAX's weak
    typing keeps the result in the promoted dtype. With `broadcast`, two tensor arguments must
    broadcast together (torch's RuntimeError otherwise).
    """
    if len(args) == 2:
        a, b = args
        # Fast path: two tensors of one dtype (the common case in a training loop).
        if isinstance(a, Tensor) and isinstance(b, Tensor):
            da, db = a._data, b._data
            if broadcast and da.shape != db.shape:
                check_broadcast(da.shape, db.shape)
            if da.dtype == db.dtype:
                return [da, db], _dtype.from_jax(da.dtype)
        # Fast path: a floating tensor and a Python int/float (`lr * w.grad`): the tensor's
        # dtype wins, as in torch's promotion.
        elif type(b) in (float, int) and isinstance(a, Tensor):
            dt = _dtype.from_jax(a._data.dtype)
            if dt.category == 2:
                return [a._data, filled((), b, a._data.dtype)], dt
        elif type(a) in (float, int) and isinstance(b, Tensor):
            dt = _dtype.from_jax(b._data.dtype)
            if dt.category == 2:
                return [filled((), a, b._data.dtype), b._data], dt
    rd = _dtype.result_type(*args)
    out = []
    for a in args:
        if isinstance(a, Tensor):
            arr = a._data
            if arr.dtype != rd.jax:
                arr = arr.astype(rd.jax)
            out.append(arr)
        elif isinstance(a, jax.Array):
            out.append(a if a.dtype == rd.jax else a.astype(rd.jax))
        elif a is None:
            out.append(a)
        else:
            # A Python scalar becomes a (cached) 0-d array of the result dtype: the value torch's
            # wrapped number takes, and a cheaper argument for a compiled kernel than a float.
            out.append(filled((), a, rd.jax))
    return out, rd


def _scalar_cat(v) -> int:
    if isinstance(v, bool):
        return 0
    if isinstance(v, int):
        return 1
    if isinstance(v, float):
        return 2
    return 3


_const_cache: dict = {}


def filled(shape: tuple, value, jdt):
    """A constant array, cached: JAX arrays are immutable, so one `zeros(8)` can back every
    `zero_()` of an 8-vector (creating one eagerly costs tens of microseconds)."""
    key = (shape, value, jdt)
    arr = _const_cache.get(key)
    if arr is None:
        arr = jnp.full(shape, value, jdt)
        if len(_const_cache) < 512 and not isinstance(arr, jax.core.Tracer):
            _const_cache[key] = arr
    return arr


def needs_grad(*inputs) -> bool:
    if not _state.enabled:
        return False
    for t in inputs:
        if isinstance(t, Tensor) and t._rg:
            return True
    return False


def record(out, cls, inputs, saved=(), extra=None) -> Tensor:
    """Wraps `out` (a JAX array) into a Tensor and, when grad is on and any input requires grad,
    attaches a `cls` node with edges to `inputs` and the values the backward rule needs."""
    res = Tensor._make(out)
    if _state.enabled:
        for t in inputs:
            if isinstance(t, Tensor) and t._rg:
                break
        else:
            return res
        if saved:
            saved = tuple(res if s is OUT else s for s in saved)
        node = _node.new_node(cls, inputs, saved, extra)
        res._rg = True
        res.grad_fn = node
    return res


def record_multi(outs, cls, inputs, saved=(), extra=None, differentiable=None) -> tuple:
    """Like `record` for an op with several outputs (unbind, split, max with dim)."""
    res = tuple(Tensor._make(o) for o in outs)
    if needs_grad(*inputs):
        node = _node.new_node(cls, inputs, saved, extra, nout=len(res))
        for i, r in enumerate(res):
            if differentiable is None or differentiable[i]:
                r._rg = True
                r.grad_fn = node
                r._output_nr = i
    return res


def op(torch_name: str, saved: tuple = ()):
    """Decorator turning a backward rule into its Node class (named as torch names it)."""

    def deco(rule):
        return _node.node_class(torch_name, rule, saved)

    return deco


# ---------------------------------------------------------------------------------------------
# Shape helpers used by rules in both namespaces.


@functools.lru_cache(maxsize=4096)
def _reduce_plan(shape: tuple, target: tuple):
    lead = len(shape) - len(target)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, s in enumerate(target) if s == 1 and shape[lead + i] != 1
    )
    return axes


def _raw_sum_to(g, shape):
    shape = tuple(shape)
    if g.shape == shape:
        return g
    axes = _reduce_plan(g.shape, shape)
    if axes:
        g = jnp.sum(g, axis=axes)
    return g.reshape(shape) if g.shape != shape else g


class _Raw:
    """Backward rules' namespace over plain JAX arrays."""

    is_graph = False

    sum_to = staticmethod(_raw_sum_to)
    exp = staticmethod(jnp.exp)
    log = staticmethod(jnp.log)
    sqrt = staticmethod(jnp.sqrt)
    sin = staticmethod(jnp.sin)
    cos = staticmethod(jnp.cos)
    tanh = staticmethod(jnp.tanh)
    sign = staticmethod(jnp.sign)
    abs = staticmethod(jnp.abs)
    conj = staticmethod(jnp.conj)
    matmul = staticmethod(jnp.matmul)
    outer = staticmethod(jnp.outer)
    zeros_like = staticmethod(jnp.zeros_like)

    @staticmethod
    def sigmoid(x):
        return jax.nn.sigmoid(x)

    @staticmethod
    def where(cond, a, b):
        return jnp.where(cond, a, b)

    @staticmethod
    def mask(g, cond):
        return jnp.where(cond, g, jnp.zeros((), g.dtype))

    @staticmethod
    def pow(a, b):
        return jnp.power(a, b)

    @staticmethod
    def reshape(g, shape):
        return jnp.reshape(g, shape)

    @staticmethod
    def expand(g, shape):
        return jnp.broadcast_to(g, shape)

    @staticmethod
    def mT(g):  # noqa: N802
        return jnp.swapaxes(g, -1, -2)

    @staticmethod
    def permute(g, axes):
        return jnp.transpose(g, axes)

    @staticmethod
    def sum(g, axis=None, keepdims=False):
        return jnp.sum(g, axis=axis, keepdims=keepdims)

    @staticmethod
    def cast(g, jdt):
        return g if g.dtype == jdt else g.astype(jdt)

    @staticmethod
    def getitem(g, idx):
        return g[idx]

    @staticmethod
    def scatter_zeros(shape, idx, g):
        return jnp.zeros(shape, g.dtype).at[idx].add(g)

    @staticmethod
    def set_zero(g, idx):
        return g.at[idx].set(0)

    @staticmethod
    def stack(gs, axis):
        return jnp.stack(gs, axis)

    @staticmethod
    def cat(gs, axis):
        return jnp.concatenate(gs, axis)

    @staticmethod
    def unsqueeze_dims(g, dims):
        return jnp.expand_dims(g, dims)

    @staticmethod
    def zeros(shape, like):
        return jnp.zeros(shape, like.dtype)

    @staticmethod
    def data(x):
        return x._data if isinstance(x, Tensor) else x

    @staticmethod
    def const(x):
        return x

    @staticmethod
    def flat_set_zero(g, idx):
        return g.ravel().at[idx.ravel()].set(0).reshape(g.shape)

    @staticmethod
    def flat_take(g, idx, shape):
        return g.ravel()[idx.ravel()].reshape(shape)

    @staticmethod
    def data_of(x):
        return x

    @staticmethod
    def prod_all(x):
        return jnp.prod(x)

    @staticmethod
    def mean_dims(a, dims):
        return jnp.mean(a, axis=dims, keepdims=True)

    @staticmethod
    def clamp_min(x, lo):
        return jnp.maximum(x, lo)


RAW = _Raw()
