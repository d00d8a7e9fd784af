"""Tensor creation: `tensor`, `arange`, `ones`, `zeros`, `full`, `eye`, `linspace`, `empty`, the
legacy constructors (`Tensor(3, 5)`, `FloatTensor(3, 3)`), `from_numpy` and the random factories
(drawn from torch's own CPU stream, see `_random`)."""

from __future__ import annotations

import math
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from . import _dtype, _grad_mode
from . import _random as _rng
from ._ops._base import infer_dtype
from ._tensor import Tensor


def _finish(arr, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr)
    if requires_grad:
        if t.dtype.category < 2:
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients"
            )
        t._rg = True
    return t


def _size(size) -> tuple:
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s.item())
        if not isinstance(s, (int, np.integer)):
            raise TypeError(
                f"expected a sequence of integers or a single integer, got '{type(s).__name__}'"
            )
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(int(s))
    return tuple(out)


def _dt(dtype, default=None) -> _dtype.dtype:
    if dtype is None:
        return default if default is not None else _dtype.get_default_dtype()
    return _dtype.to_dtype(dtype)


def _to_numpy(data, dt):
    if isinstance(data, Tensor):
        return np.asarray(data._data)
    if isinstance(data, (list, tuple)):
        return np.asarray(_flatten_tensors(data), dtype=dt.jax)
    return np.asarray(data, dtype=dt.jax)


def _flatten_tensors(data):
    out = []
    for v in data:
        if isinstance(v, Tensor):
            out.append(np.asarray(v._data).tolist())
        elif isinstance(v, (list, tuple)):
            out.append(_flatten_tensors(v))
        else:
            out.append(v)
    return out


def _check_nesting(data) -> None:
    """Raises torch's error for ragged nested sequences: the expected length at each dim is
    taken from the first element, as torch infers the shape."""
    shape = []
    probe = data
    while isinstance(probe, (list, tuple, Tensor)):
        if isinstance(probe, Tensor):
            shape += list(probe.shape)
            break
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]

    def walk(seq, dim):
        if dim == len(shape):
            if isinstance(seq, (list, tuple)):
                raise TypeError(f"must be real number, not {type(seq).__name__}")
            return
        if isinstance(seq, Tensor):
            return
        if not isinstance(seq, (list, tuple)):
            raise TypeError("not a sequence")
        if len(seq) != shape[dim]:
            raise ValueError(
                f"expected sequence of length {shape[dim]} at dim {dim} (got {len(seq)})"
            )
        for item in seq:
            walk(item, dim + 1)

    walk(data, 0)


def tensor(data, *, dtype=None, device=None, requires_grad=False, pin_memory=False) -> Tensor:
    """Mirrors `torch.tensor(data, dtype=None, requires_grad=False)`: copies `data`, inferring
    torch's dtype (int64 for integers, the default float dtype for floats)."""
    del device, pin_memory
    if isinstance(data, Tensor):
        warnings.warn(
            "To copy construct from a tensor, it is recommended to use sourceTensor.detach()."
            "clone() or sourceTensor.detach().clone().requires_grad_(True), rather than "
            "torch.tensor(sourceTensor).",
            UserWarning,
            stacklevel=2,
        )
        arr = data._data if dtype is None else data._data.astype(_dt(dtype).jax)
        return _finish(arr, requires_grad)
    if isinstance(data, jax.Array) and not isinstance(data, jax.core.Tracer):
        data = np.asarray(data)
    if isinstance(data, jax.core.Tracer):
        dt = _dt(dtype, _dtype.from_jax(data.dtype))
        return _finish(data.astype(dt.jax), requires_grad)
    dt = _dt(dtype, infer_dtype(data))
    try:
        arr = _to_numpy(data, dt)
    except (ValueError, TypeError) as e:
        _check_nesting(data)
        raise TypeError(f"could not convert data to a tensor: {e}") from None
    if arr.dtype == object:
        raise TypeError(f"can't convert np.ndarray of type {arr.dtype}")
    return _finish(jnp.asarray(arr), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    del device
    if isinstance(data, Tensor):
        return data if dtype is None else data.to(dtype)
    return tensor(data, dtype=dtype)


def from_numpy(arr: np.ndarray) -> Tensor:
    """Mirrors `torch.from_numpy` (a copy: JAX arrays never alias NumPy memory)."""
    if not isinstance(arr, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(arr).__name__})")
    return Tensor._make(jnp.asarray(arr))


def _fill(size, value, dtype, requires_grad):
    shape = _size(size)
    dt = _dt(dtype)
    return _finish(jnp.full(shape, value, dt.jax), requires_grad)


def zeros(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None) -> Tensor:
    """Mirrors `torch.zeros(*size)`."""
    del device, out, layout
    return _fill(size, 0, dtype, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False, out=None, layout=None) -> Tensor:
    """Mirrors `torch.ones(*size)`."""
    del device, out, layout
    return _fill(size, 1, dtype, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """Mirrors `torch.empty(*size)`: compat's memory is always zero-filled."""
    del device, kw
    return _fill(size, 0, dtype, requires_grad)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors `torch.full(size, fill_value)`: dtype inferred from the fill value."""
    del device
    if dtype is None:
        dtype = _dtype.result_type(fill_value)
    return _fill(
        (size,) if isinstance(size, int) else (tuple(size),), fill_value, dtype, requires_grad
    )


def _like(t, value, dtype, requires_grad):
    dt = t.dtype if dtype is None else _dt(dtype)
    return _finish(jnp.full(t._data.shape, value, dt.jax), requires_grad)


def zeros_like(t, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    del device, memory_format
    return _like(t, 0, dtype, requires_grad)


def ones_like(t, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    del device, memory_format
    return _like(t, 1, dtype, requires_grad)


def empty_like(t, *, dtype=None, device=None, requires_grad=False, memory_format=None):
    del device, memory_format
    return _like(t, 0, dtype, requires_grad)


def full_like(t, fill_value, *, dtype=None, device=None, requires_grad=False):
    del device
    return _like(t, fill_value, dtype, requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    del device
    return _finish(jnp.eye(n, n if m is None else m, dtype=_dt(dtype).jax), requires_grad)


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors `torch.arange(start, end, step)`: int64 for integer arguments, else the default
    float dtype."""
    del device
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = vals
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) / step < 0:
        raise RuntimeError("upper bound and larger bound inconsistent with step sign")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in vals)
        dt = _dtype.int64 if is_int else _dtype.get_default_dtype()
    else:
        dt = _dt(dtype)
    n = int(math.ceil((end - start) / step))
    if dt.category == 1:
        arr = (
            (np.int64(start) + np.arange(n, dtype=np.int64) * np.int64(step))
            if all(float(v).is_integer() for v in vals)
            else (start + np.arange(n, dtype=np.float64) * step).astype(np.int64)
        )
    else:
        # torch computes start + i * step in double for float types, then casts.
        arr = start + np.arange(n, dtype=np.float64) * step
    return _finish(jnp.asarray(arr.astype(dt.jax)), requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Mirrors `torch.linspace`: the first half counts up from `start`, the second half down
    from `end`, in the output dtype, as ATen's CPU kernel does."""
    del device
    dt = _dt(dtype)
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    ft = np.dtype(dt.jax) if dt.category >= 2 else np.dtype(np.float64)
    if steps == 1:
        arr = np.array([start], dtype=ft)
    else:
        s, e = ft.type(start), ft.type(end)
        step = (e - s) / ft.type(steps - 1)
        i = np.arange(steps)
        half = steps // 2
        arr = np.where(
            i < half, s + step * i.astype(ft), e - step * (steps - i - 1).astype(ft)
        ).astype(ft)
    return _finish(jnp.asarray(arr.astype(dt.jax)), requires_grad)


def legacy_new(default_dt, *args, **kwargs) -> Tensor:
    """`torch.Tensor(3, 5)` (zero-filled here), `torch.Tensor([1, 2])`, `torch.FloatTensor(...)`."""
    if kwargs.get("device") is not None:
        kwargs.pop("device")
    if kwargs:
        raise TypeError(f"new() received an invalid combination of arguments - got {kwargs}")
    if not args:
        return Tensor._make(jnp.zeros((0,), default_dt.jax))
    if len(args) == 1 and isinstance(args[0], (list, tuple, np.ndarray)):
        return Tensor._make(jnp.asarray(np.asarray(args[0], dtype=default_dt.jax)))
    if len(args) == 1 and isinstance(args[0], Tensor):
        return args[0]
    return Tensor._make(jnp.zeros(_size(args), default_dt.jax))


def _legacy_class(dt: _dtype.dtype):
    class _Meta(type):
        def __instancecheck__(cls, obj):
            return isinstance(obj, Tensor) and obj.dtype is dt

        def __repr__(cls):
            return f"<class 'torch.{dt._legacy}'>"

    def __new__(cls, *args, **kwargs):  # noqa: N807
        return legacy_new(dt, *args, **kwargs)

    return _Meta(dt._legacy, (), {"__new__": __new__})


FloatTensor = _legacy_class(_dtype.float32)
DoubleTensor = _legacy_class(_dtype.float64)
LongTensor = _legacy_class(_dtype.int64)
IntTensor = _legacy_class(_dtype.int32)
BoolTensor = _legacy_class(_dtype.bool_)
ByteTensor = _legacy_class(_dtype.uint8)
HalfTensor = _legacy_class(_dtype.float16)


# -- random -----------------------------------------------------------------------------------
class Generator(_rng.Generator):
    """Mirrors `torch.Generator()` (CPU)."""

    def __init__(self, device="cpu") -> None:
        del device
        super().__init__()


default_generator = _rng.default_generator
# torch's generator class prints as `<torch._C.Generator object at 0x...>`.
_rng.Generator.__module__ = "torch._C"


def manual_seed(seed) -> _rng.Generator:
    """Mirrors `torch.manual_seed(seed)`: reseeds the default generator."""
    return _rng.manual_seed(int(seed))


def seed() -> int:
    return _rng.seed()


def initial_seed() -> int:
    return _rng.initial_seed()


def get_rng_state():
    return Tensor._make(jnp.asarray(np.asarray(default_generator.get_state(), np.uint8)))


def set_rng_state(state) -> None:
    default_generator.set_state(np.asarray(state._data if isinstance(state, Tensor) else state))


def _gen(generator):
    from ._compile import is_compiling

    if is_compiling():
        raise RuntimeError(
            "compat.compile: random tensors cannot be drawn inside a compiled function (the "
            "draw would be frozen into the program). Draw them outside and pass them in."
        )
    return default_generator if generator is None else generator


def _rand_common(kind, size, dtype, requires_grad, generator):
    shape = _size(size)
    dt = _dt(dtype)
    if dt.category < 2:
        raise NotImplementedError(f"\"{kind}\" not implemented for '{_long(dt)}'")
    fn = getattr(_gen(generator), "randn" if kind.startswith("normal") else "rand")
    return _finish(jnp.asarray(fn(shape, dt.name)), requires_grad)


def _long(dt):
    return {"int64": "Long", "int32": "Int", "bool": "Bool"}.get(dt.name, dt.name)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """Mirrors `torch.randn(*size)`, bit for bit with torch's CPU generator."""
    del device
    if "size" in kw:
        size = (kw.pop("size"),)
    return _rand_common("normal_kernel_cpu", size, dtype, requires_grad, generator)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False, **kw) -> Tensor:
    """Mirrors `torch.rand(*size)`, bit for bit with torch's CPU generator."""
    del device
    if "size" in kw:
        size = (kw.pop("size"),)
    return _rand_common("check_uniform_bounds", size, dtype, requires_grad, generator)


def randn_like(t, *, dtype=None, requires_grad=False, generator=None):
    return randn(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, generator=generator)


def rand_like(t, *, dtype=None, requires_grad=False, generator=None):
    return rand(*t.shape, dtype=dtype or t.dtype, requires_grad=requires_grad, generator=generator)


def randint(
    low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False
) -> Tensor:
    """Mirrors `torch.randint(low=0, high, size)`."""
    del device
    if size is None:
        if isinstance(high, (tuple, list)):
            low, high, size = 0, low, high
        else:
            raise TypeError("randint() missing required argument 'size'")
    dt = _dt(dtype, _dtype.int64)
    arr = _gen(generator).randint(low, high, _size((size,)), dt.name)
    return _finish(jnp.asarray(arr), requires_grad)


def randperm(n, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    del device
    dt = _dt(dtype, _dtype.int64)
    return _finish(jnp.asarray(_gen(generator).randperm(n, dt.name)), requires_grad)


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None) -> Tensor:
    if size is None:
        raise NotImplementedError("compat: normal() with tensor mean/std is not supported")
    dt = _dt(dtype)
    return Tensor._make(jnp.asarray(_gen(generator).normal(_size((size,)), mean, std, dt.name)))


def _inplace_random(t, arr):
    from ._ops.shape import check_inplace, commit

    check_inplace(t)
    with _grad_mode.no_grad():
        commit(t, Tensor._make(jnp.asarray(arr)))
    return t


def normal_(t, mean=0.0, std=1.0, *, generator=None):
    return _inplace_random(t, _gen(generator).normal(t._data.shape, mean, std, t.dtype.name))


def uniform_(t, a=0.0, b=1.0, *, generator=None):
    return _inplace_random(t, _gen(generator).uniform(t._data.shape, a, b, t.dtype.name))


def random_(t, low=0, high=None, *, generator=None):
    return _inplace_random(t, _gen(generator).randint(low, high, t._data.shape, t.dtype.name))
