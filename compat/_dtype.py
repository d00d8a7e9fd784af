"""torch's dtypes and type-promotion rules, over JAX dtypes.

compat keeps JAX's 64-bit mode on (torch's integer default is int64) and therefore always names a
dtype explicitly when it creates an array, so float32 results never silently widen.
"""

from __future__ import annotations

import builtins

import jax.numpy as jnp
import numpy as np

# Categories order the kinds as torch's promotion does: bool < integer < floating < complex.
_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:  # noqa: N801 - torch's name
    """A torch dtype: `compat.float32` prints as `torch.float32`.

    Attributes mirror torch's: `is_floating_point`, `is_complex`, `is_signed`, `itemsize`.
    """

    __slots__ = ("name", "jax", "category", "is_signed", "itemsize", "_legacy")

    def __init__(self, name: str, jax_dtype, category: int, legacy: str) -> None:
        self.name = name
        self.jax = np.dtype(jax_dtype)
        self.category = category
        self.is_signed = name not in ("uint8", "bool")
        self.itemsize = self.jax.itemsize
        self._legacy = legacy

    @property
    def is_floating_point(self) -> bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> bool:
        return self.category == _COMPLEX

    def __repr__(self) -> str:
        return f"torch.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float32 = dtype("float32", jnp.float32, _FLOAT, "FloatTensor")
float64 = dtype("float64", jnp.float64, _FLOAT, "DoubleTensor")
float16 = dtype("float16", jnp.float16, _FLOAT, "HalfTensor")
bfloat16 = dtype("bfloat16", jnp.bfloat16, _FLOAT, "BFloat16Tensor")
int64 = dtype("int64", jnp.int64, _INT, "LongTensor")
int32 = dtype("int32", jnp.int32, _INT, "IntTensor")
int16 = dtype("int16", jnp.int16, _INT, "ShortTensor")
int8 = dtype("int8", jnp.int8, _INT, "CharTensor")
uint8 = dtype("uint8", jnp.uint8, _INT, "ByteTensor")
bool_ = dtype("bool", jnp.bool_, _BOOL, "BoolTensor")
complex64 = dtype("complex64", jnp.complex64, _COMPLEX, "ComplexFloatTensor")
complex128 = dtype("complex128", jnp.complex128, _COMPLEX, "ComplexDoubleTensor")

ALL = (
    float32,
    float64,
    float16,
    bfloat16,
    int64,
    int32,
    int16,
    int8,
    uint8,
    bool_,
    complex64,
    complex128,
)
_BY_JAX = {d.jax: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
ALIASES = {
    "float": float32,
    "double": float64,
    "half": float16,
    "long": int64,
    "int": int32,
    "short": int16,
    "cfloat": complex64,
    "cdouble": complex128,
}

_default_float = [float32]


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def get_default_dtype() -> dtype:
    """Mirrors `torch.get_default_dtype()`."""
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    """Mirrors `torch.set_default_dtype(d)`: only float32 and float64 are accepted."""
    if d not in (float32, float64, float16, bfloat16):
        raise TypeError(f"only floating-point types are supported as the default type, got {d}")
    _default_float[0] = d


def from_jax(jdt) -> dtype:
    """The compat dtype of a JAX/NumPy dtype."""
    try:
        return _BY_JAX[jdt]
    except KeyError:
        d = _BY_JAX.get(np.dtype(jdt))
        if d is None:
            raise TypeError(f"compat has no dtype for {jdt}") from None
        return d


def to_dtype(obj) -> dtype:
    """Accepts a compat dtype, a Python type (`float`, `int`, `bool`) or a NumPy dtype."""
    if isinstance(obj, dtype):
        return obj
    if obj is builtins.float:
        return get_default_dtype()
    if obj is builtins.int:
        return int64
    if obj is builtins.bool:
        return bool_
    if obj is builtins.complex:
        return complex64
    return from_jax(np.dtype(obj))


def promote_types(a: dtype, b: dtype) -> dtype:
    """torch.promote_types: the smallest dtype both convert to."""
    if a is b:
        return a
    return from_jax(jnp.promote_types(a.jax, b.jax))


def _scalar_dtype(value) -> dtype:
    # Python numbers take the default dtype of their kind, as torch's wrapped numbers do.
    if isinstance(value, builtins.bool):
        return bool_
    if isinstance(value, builtins.int):
        return int64
    if isinstance(value, builtins.complex):
        return complex128 if get_default_dtype() is float64 else complex64
    return get_default_dtype()


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    # The precedence rule torch applies between dimensioned tensors, 0-dim tensors and scalars:
    # an operand of a lower priority class only matters when its category is higher.
    if higher is None:
        return lower
    if lower is None:
        return higher
    if higher.category == _COMPLEX:
        return higher
    if lower.category == _COMPLEX:
        if higher.category == _FLOAT:
            return complex128 if higher is float64 else complex64
        return lower
    if higher.category == _FLOAT:
        return higher
    if higher.category == _BOOL or lower.category == _FLOAT:
        return promote_types(higher, lower)
    return higher


def result_type(*operands) -> dtype:
    """torch.result_type over tensors and Python scalars (tensors expose `.dtype`, `.ndim`)."""
    dim_t = zero_t = scalar_t = None
    for op in operands:
        d = getattr(op, "dtype", None)
        if isinstance(d, dtype):
            if op.ndim:
                dim_t = d if dim_t is None else promote_types(dim_t, d)
            else:
                zero_t = d if zero_t is None else promote_types(zero_t, d)
        else:
            s = _scalar_dtype(op)
            scalar_t = s if scalar_t is None else promote_types(scalar_t, s)
    return _combine(_combine(dim_t, zero_t), scalar_t)
