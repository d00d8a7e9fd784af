"""Torch's CPU random stream, bit for bit, in NumPy.

`Generator` mirrors ``torch.Generator`` on the CPU: an mt19937 engine seeded the way ATen seeds it,
and ATen's CPU transforms on top of it (uniform, Box-Muller normal, modular randint, Fisher-Yates
randperm). After ``manual_seed(s)``, the same sequence of calls gives the same bits as torch 2.13.

What ATen does, as measured against live torch (x86-64, capabilities DEFAULT, AVX2, AVX512):

* The engine is the reference mt19937. The 32-bit seed is the seed's low 32 bits; the full 64-bit
  seed is kept for ``initial_seed()``. ``random()`` is one 32-bit output; ``random64()`` joins two
  outputs, the first one as the high half.
* ``uniform_`` (and ``rand``): float32 keeps the low 24 bits of ``random()`` times 2**-24; float64
  keeps the low 53 bits of ``random64()`` times 2**-53; then ``x * (to - from) + from``, which the
  AVX2/AVX512 kernels compute with a fused multiply-add. float16 and bfloat16 do the float32
  computation (float32 bounds) and cast. A result that lands on ``to`` in the target dtype is
  replaced by ``from``.
* ``normal_`` (and ``randn``) on fewer than 16 elements: scalar Box-Muller in double from two
  float64 uniforms, ``r = sqrt(-2 log1p(-u2))``, ``theta = 2 pi u1``; ``r cos(theta)`` is returned
  and ``r sin(theta)`` is cached in the generator for the next scalar draw (whatever the dtype).
* ``normal_`` on 16 elements or more: all uniforms are drawn first, then Box-Muller runs on blocks
  of 16 (``u1 = 1 - data[j]``, ``u2 = data[j + 8]``, cos to slot ``j``, sin to slot ``j + 8``).
  When the size is not a multiple of 16, 16 fresh uniforms are drawn and the last 16 outputs are
  recomputed from them. float64 uses libm's ``log``/``cos``/``sin``; float32 uses the
  ``avx_mathfun`` polynomials on AVX2/AVX512 machines and libm's ``logf``/``cosf``/``sinf``
  otherwise. This path never touches the cache. The final ``* std + mean`` is fused.
* ``randint``: ``random() % range + low``, or ``random64() % range + low`` once the range reaches
  2**28 (whatever the dtype; older releases switched at 2**32 and only for some dtypes). Floating
  dtypes first pull ``low``/``high`` in to values the dtype represents.
* ``randperm(n)``: Fisher-Yates swapping ``i`` with ``i + random() % (n - i)`` for
  ``n < (2**32 - 1) // 20``; above that, the inside-out variant with ``random64() % (i + 1)``.
* ``torch.default_generator`` is seeded from ``/dev/urandom`` at start-up; a new
  ``torch.Generator()`` starts from 67280421310721.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import math
import os
import platform
import warnings
from collections.abc import Sequence

import numpy as np

__all__ = [
    "DEFAULT_SEED",
    "Generator",
    "default_generator",
    "initial_seed",
    "manual_seed",
    "seed",
]

DEFAULT_SEED = 67280421310721
"""Seed of a freshly constructed ``torch.Generator()`` (ATen's ``default_rng_seed_val``)."""

_N = 624  # mt19937 state words
_STATE_NBYTES = 5056  # sizeof(CPUGeneratorImplState) in ATen
_RANDPERM_SMALL = (2**32 - 1) // 20  # below this n, randperm uses random() % (n - i)
_TWO_PI = 2.0 * math.pi

# Torch's get_rng_state() byte layout (CPUGeneratorImplState, little-endian x86-64/aarch64).
_STATE_DTYPE = np.dtype(
    {
        "names": [
            "seed",
            "left",
            "seeded",
            "next",
            "state",
            "normal_x",
            "normal_y",
            "normal_rho",
            "normal_is_valid",
            "next_float",
            "next_float_valid",
        ],
        "formats": ["<u8", "<i4", "<i4", "<u8", ("<u8", (_N,)), "<f8", "<f8", "<f8", "<i4"]
        + ["<f4", "u1"],
        "offsets": [0, 8, 12, 16, 24, 5016, 5024, 5032, 5040, 5048, 5052],
        "itemsize": _STATE_NBYTES,
    }
)

# name -> (ScalarType name used in NotImplementedError, C++ type name used in bounds errors)
_DTYPES = {
    "bool": ("Bool", "bool"),
    "uint8": ("Byte", "unsigned char"),
    "int8": ("Char", "signed char"),
    "int16": ("Short", "short int"),
    "int32": ("Int", "int"),
    "int64": ("Long", "long int"),
    "float16": ("Half", "c10::Half"),
    "bfloat16": ("BFloat16", "c10::BFloat16"),
    "float32": ("Float", "float"),
    "float64": ("Double", "double"),
    "complex64": ("ComplexFloat", "c10::complex<float>"),
    "complex128": ("ComplexDouble", "c10::complex<double>"),
}
_FLOATS = ("float16", "bfloat16", "float32", "float64")
_COMPLEX = {"complex64": "float32", "complex128": "float64"}
_MANTISSA_DIGITS = {"float16": 11, "bfloat16": 8, "float32": 24, "float64": 53}
_RANDPERM_ITEMSIZE_NAME = {
    "uint8": "uint8_t",
    "int8": "int8_t",
    "int16": "int16_t",
    "int32": "int32_t",
}


# --------------------------------------------------------------------------- platform behaviour


def _x86_has_avx2() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line.split()
                    return "avx2" in flags and "fma" in flags
    except OSError:
        pass
    return True  # every x86-64 CPU sold for a decade has AVX2; torch then picks that kernel


def _kernel_flavour() -> tuple[bool, bool]:
    """Returns (uses_fma, uses_avx_mathfun): how ATen's dispatched CPU kernel computes here.

    Follows torch's own choice: ``ATEN_CPU_CAPABILITY=default`` selects the portable kernels
    (no FMA contraction, libm for float32 Box-Muller); otherwise an x86 CPU with AVX2 gets the
    AVX2/AVX512 kernels. Non-x86 builds (aarch64) are assumed to contract ``a * b + c`` and to
    use libm; that case was not measured.
    """
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64", "x86", "i686"):
        return True, False
    if os.environ.get("ATEN_CPU_CAPABILITY", "").strip().lower() == "default":
        return False, False
    avx = _x86_has_avx2()
    return avx, avx


_USE_FMA, _USE_AVX_MATHFUN = _kernel_flavour()


def _load_libm():
    name = ctypes.util.find_library("m")
    try:
        lib = ctypes.CDLL(name) if name else None
    except OSError:
        lib = None
    if lib is None:
        return None
    fns = {}
    for fn in ("logf", "cosf", "sinf"):
        f = getattr(lib, fn, None)
        if f is None:
            return None
        f.restype = ctypes.c_float
        f.argtypes = [ctypes.c_float]
        fns[fn] = f
    return fns


_LIBM = _load_libm()


# --------------------------------------------------------------------------- exact float helpers


def _two_sum(a, b):
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _round_to_odd_sum(a, b):
    """a + b rounded to odd in float64 (exact sum lies between result and its odd neighbour)."""
    s, err = _two_sum(a, b)
    even = (s.view(np.int64) & 1) == 0
    fix = (err != 0) & even
    return np.where(fix, np.nextafter(s, np.where(err > 0, np.inf, -np.inf)), s)


def _split(a):
    # Veltkamp split into two halves of at most 26 bits each.
    t = 134217729.0 * a
    hi = t - (t - a)
    return hi, a - hi


def _two_prod(a, b):
    # Exact product a * b = p + err, done on mantissas so that the split cannot overflow.
    ma, ea = np.frexp(a)
    mb, eb = np.frexp(b)
    p = ma * mb
    ah, al = _split(ma)
    bh, bl = _split(mb)
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    e = ea + eb
    return np.ldexp(p, e), np.ldexp(err, e)


def _fma64(a, b, c) -> np.ndarray:
    """Correctly rounded float64 ``a * b + c`` (Boldo-Melquiond emulation via round-to-odd)."""
    a, b, c = np.broadcast_arrays(*(np.asarray(v, np.float64) for v in (a, b, c)))
    with np.errstate(all="ignore"):
        uh, ul = _two_prod(a, b)
        th, tl = _two_sum(c, uh)
        out = th + _round_to_odd_sum(tl, ul)
        plain = a * b + c
    # Infinities and NaNs: the plain expression already has the IEEE answer.
    return np.where(np.isfinite(plain), out, plain)


def _fma32(a, b, c) -> np.ndarray:
    """Correctly rounded float32 ``a * b + c``: the product is exact in float64."""
    p = np.asarray(a, np.float64) * np.asarray(b, np.float64)
    p, c = np.broadcast_arrays(p, np.asarray(c, np.float64))
    shape = p.shape
    p, c = p.ravel(), c.ravel()
    with np.errstate(all="ignore"):
        s = p + c
        # Rounding s to float32 is a second rounding; it can only go wrong when s sits exactly
        # half-way between two floats (or in the subnormal range): redo those via round-to-odd.
        low_bits = s.view(np.int64) & 0x1FFFFFFF
        risky = (low_bits == 0x10000000) | ((np.abs(s) < 2.0**-125) & (s != 0))
        if risky.any():
            s[risky] = _round_to_odd_sum(p[risky], c[risky])
        return s.astype(np.float32).reshape(shape)


def _madd(x, scale, shift, dtype, fused: bool):
    """``x * scale + shift`` in ``dtype`` (float32/float64), fused or with two roundings."""
    if fused:
        return _fma32(x, scale, shift) if dtype == np.float32 else _fma64(x, scale, shift)
    with np.errstate(all="ignore"):
        return (x * dtype(scale) + dtype(shift)).astype(dtype)


# --------------------------------------------------------------------------- avx_mathfun, emulated
# Cephes-derived polynomials from ATen's avx_mathfun.h, evaluated step by step in float32. GCC
# contracts each "multiply then add" that feeds nothing else into an FMA; the emulation follows.

_F = np.float32
_LOG_P = [
    7.0376836292e-2,
    -1.1514610310e-1,
    1.1676998740e-1,
    -1.2420140846e-1,
    1.4249322787e-1,
    -1.6668057665e-1,
    2.0000714765e-1,
    -2.4999993993e-1,
    3.3333331174e-1,
]
_MIN_NORM_POS = np.array(0x00800000, np.int32).view(np.float32)
_HALF_BITS = int(np.array(0.5, np.float32).view(np.int32))


def _avx_log(x: np.ndarray) -> np.ndarray:
    x = np.maximum(x, _MIN_NORM_POS)
    bits = x.view(np.int32)
    e = ((bits >> 23) - 0x7F).astype(_F) + _F(1)
    x = ((bits & ~0x7F800000) | _HALF_BITS).view(np.float32)
    small = x < _F(0.707106781186547524)
    tmp = np.where(small, x, _F(0))
    x = x - _F(1)
    e = e - np.where(small, _F(1), _F(0))
    x = x + tmp
    z = x * x
    y = np.full_like(x, _F(_LOG_P[0]))
    for p in _LOG_P[1:]:
        y = _fma32(y, x, _F(p))
    y = y * x
    y = _fma32(y, z, e * _F(-2.12194440e-4))
    y = y - z * _F(0.5)
    x = x + y
    return x + e * _F(0.693359375)


def _avx_sincos(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    sign_sin = np.signbit(x)
    x = np.abs(x)
    j = (x * _F(1.27323954473516)).astype(np.int32)  # 4 / pi, truncated toward zero
    j = (j + 1) & ~1
    y = j.astype(_F)
    sign_sin ^= (j & 4) != 0
    sign_cos = (~(j - 2) & 4) != 0
    use_sin_poly = (j & 2) == 0
    for dp in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8):
        x = _fma32(y, _F(dp), x)
    z = x * x
    yc = _fma32(_F(2.443315711809948e-005), z, _F(-1.388731625493765e-003))
    yc = _fma32(yc, z, _F(4.166664568298827e-002))
    yc = _fma32(yc * z, z, -(z * _F(0.5))) + _F(1)
    ys = _fma32(_F(-1.9515295891e-4), z, _F(8.3321608736e-3))
    ys = _fma32(ys, z, _F(-1.6666654611e-1))
    ys = _fma32(ys * z, x, x)
    s = np.where(use_sin_poly, ys, yc)
    c = np.where(use_sin_poly, yc, ys)
    return np.where(sign_sin, -s, s), np.where(sign_cos, -c, c)


# --------------------------------------------------------------------------- small helpers


def _fmt(x: float) -> str:
    """A double as C++'s ``std::ostream <<`` prints it (6 significant digits)."""
    return format(x, "g")


def _shape_tuple(shape) -> tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    shape = tuple(int(d) for d in shape)
    for d in shape:
        if d < 0:
            raise RuntimeError(
                f"Trying to create tensor with negative dimension {d}: {list(shape)}"
            )
    return shape


def _numpy_dtype(name: str) -> np.dtype:
    if name == "bfloat16":
        import ml_dtypes  # shipped with jax

        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def _float_limits(name: str) -> tuple[float, float]:
    """(lowest, max) of a floating dtype, as Python floats."""
    if name == "bfloat16":
        import ml_dtypes

        info = ml_dtypes.finfo(ml_dtypes.bfloat16)
    else:
        info = np.finfo(np.dtype(name))
    return float(info.min), float(info.max)


def _check_dtype(name: str) -> None:
    if name not in _DTYPES:
        raise TypeError(f"unsupported dtype name {name!r}; expected one of {sorted(_DTYPES)}")


def _libm_map(fn, x: np.ndarray) -> np.ndarray:
    return np.fromiter(map(fn, x.ravel().tolist()), np.float64, x.size).reshape(x.shape)


def _libm_f32(fn: str, x: np.ndarray) -> np.ndarray:
    """The C library's float32 ``logf``/``cosf``/``sinf``, element by element."""
    if _LIBM is None:  # no C library at hand: close, but not bit-exact
        ref = {"logf": np.log, "cosf": np.cos, "sinf": np.sin}[fn]
        return ref(x.astype(np.float64)).astype(np.float32)
    return _libm_map(_LIBM[fn], x).astype(np.float32)


def _key_from_seed(seed: int) -> np.ndarray:
    key = np.empty(_N, np.uint32)
    s = seed & 0xFFFFFFFF
    for i in range(_N):
        key[i] = s
        s = (1812433253 * (s ^ (s >> 30)) + i + 1) & 0xFFFFFFFF
    return key


def _nondeterministic_seed() -> int:
    return int.from_bytes(os.urandom(8), "little")


def _unpack_seed(seed) -> int:
    # torch reads the seed as a signed or unsigned 64-bit integer and keeps its uint64 bits.
    if not -(2**63) <= seed < 2**64:
        raise ValueError("Overflow when unpacking long long")
    return seed & (2**64 - 1)


# --------------------------------------------------------------------------- the generator


class Generator:
    """``torch.Generator`` for the CPU: torch's mt19937 stream and ATen's CPU transforms.

    A new generator starts from ``DEFAULT_SEED`` (67280421310721), as ``torch.Generator()`` does.
    The sampling methods return NumPy arrays holding exactly the bits torch would produce after
    the same seed and the same sequence of calls.

    Differences from torch: there is no ``device`` argument (CPU only), the samplers take a shape
    and a dtype name (``"float32"``, ``"int64"``, ...) and return NumPy arrays, and ``get_state``
    returns a NumPy ``uint8`` array (with torch's byte layout) instead of a ``ByteTensor``.

    Example:
        >>> g = Generator().manual_seed(0)
        >>> g.randn((2,)).tolist()
        [1.5409960746765137, -0.293428897857666]
    """

    def __init__(self) -> None:
        self._bitgen = np.random.MT19937()
        self.manual_seed(DEFAULT_SEED)

    # ------------------------------------------------------------------ seeding and state

    def manual_seed(self, seed: int) -> Generator:
        """Seeds the generator, like ``torch.Generator.manual_seed``.

        Args:
            seed: an integer in ``[-2**63, 2**64)``; negative seeds wrap to their uint64 bits.

        Returns:
            This generator.

        Raises:
            RuntimeError: ``seed`` is not an integer (``bool`` included, as in torch).
            ValueError: ``seed`` is outside the 64-bit range.

        Example:
            >>> Generator().manual_seed(-1).initial_seed()
            18446744073709551615
        """
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise RuntimeError(f"manual_seed expected a long, but got {type(seed).__name__}")
        self._set_seed(_unpack_seed(int(seed)))
        return self

    def _set_seed(self, seed: int) -> None:
        self._seed = seed
        self._fresh = True  # engine seeded, nothing drawn yet (torch: left=1, next=0)
        self._next_double: float | None = None
        self._next_float: float | None = None
        self._bitgen.state = {
            "bit_generator": "MT19937",
            "state": {"key": _key_from_seed(seed), "pos": _N},
        }

    def initial_seed(self) -> int:
        """Returns the seed last given to ``manual_seed`` (or picked by ``seed``).

        Example:
            >>> Generator().initial_seed()
            67280421310721
        """
        return self._seed

    def seed(self) -> int:
        """Reseeds from ``/dev/urandom`` (64 bits, as torch does) and returns the new seed.

        Example:
            >>> g = Generator()
            >>> g.seed() == g.initial_seed()
            True
        """
        s = _nondeterministic_seed()
        self._set_seed(s)
        return s

    def get_state(self) -> np.ndarray:
        """Returns the full state as 5056 ``uint8``, byte for byte ``torch.get_rng_state()``.

        Example:
            >>> Generator().manual_seed(0).get_state().shape
            (5056,)
        """
        st = self._bitgen.state["state"]
        pos = int(st["pos"])
        rec = np.zeros((), _STATE_DTYPE)
        rec["seed"] = self._seed
        rec["seeded"] = 1
        if self._fresh:
            rec["left"], rec["next"] = 1, 0
        else:
            rec["left"], rec["next"] = _N + 1 - pos, pos
        rec["state"] = st["key"].astype(np.uint64)
        if self._next_double is not None:
            rec["normal_is_valid"] = 1
            rec["normal_y"] = self._next_double
        if self._next_float is not None:
            rec["next_float_valid"] = 1
            rec["next_float"] = self._next_float
        return np.frombuffer(rec.tobytes(), np.uint8).copy()

    def set_state(self, new_state) -> Generator:
        """Restores a state from ``get_state`` (or from ``torch.get_rng_state().numpy()``).

        Args:
            new_state: 5056 bytes: a ``uint8`` array or a bytes-like object.

        Returns:
            This generator.

        Raises:
            TypeError: ``new_state`` is an array whose dtype is not ``uint8``.
            RuntimeError: the size is wrong or the engine fields are invalid.

        Example:
            >>> g = Generator()
            >>> s = g.get_state()
            >>> a = g.rand((3,))
            >>> bool((g.set_state(s).rand((3,)) == a).all())
            True
        """
        if isinstance(new_state, np.ndarray):
            if new_state.dtype != np.uint8:
                raise TypeError("RNG state must be a torch.ByteTensor")
            raw = np.ascontiguousarray(new_state).tobytes()
        else:
            raw = bytes(new_state)
        if len(raw) != _STATE_NBYTES:
            raise RuntimeError(
                f"Expected a CPUGeneratorImplState of size {_STATE_NBYTES} but found the input "
                f"RNG state size to be {len(raw)}"
            )
        rec = np.frombuffer(raw, _STATE_DTYPE)[0]
        left, nxt, seeded = int(rec["left"]), int(rec["next"]) & 0xFFFFFFFF, int(rec["seeded"])
        if not (seeded != 0 and 0 < left <= _N and nxt <= _N):
            raise RuntimeError("Invalid mt19937 state")
        key = rec["state"].astype(np.uint32)  # torch keeps the low 32 bits of each word
        # Where torch's counter stands: `left` draws remain before the next twist.
        pos = _N + 1 - left
        self._bitgen.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
        self._seed = int(rec["seed"])
        self._fresh = nxt == 0
        self._next_double = float(rec["normal_y"]) if rec["normal_is_valid"] else None
        self._next_float = float(rec["next_float"]) if rec["next_float_valid"] else None
        return self

    # ------------------------------------------------------------------ raw draws

    def _random(self, n: int) -> np.ndarray:
        """n outputs of ``random()`` (uint32)."""
        if n <= 0:
            return np.zeros(0, np.uint32)
        self._fresh = False
        return self._bitgen.random_raw(n).astype(np.uint32)

    def _random64(self, n: int) -> np.ndarray:
        """n outputs of ``random64()``: two 32-bit draws, the first is the high half."""
        if n <= 0:
            return np.zeros(0, np.uint64)
        self._fresh = False
        pairs = self._bitgen.random_raw(2 * n).reshape(n, 2)
        return (pairs[:, 0] << np.uint64(32)) | pairs[:, 1]

    def _uniform01(self, n: int, name: str) -> np.ndarray:
        """n draws of ``uniform_real_distribution<T>(0, 1)`` for T = float32 or float64."""
        if name == "float64":
            bits = self._random64(n) & np.uint64((1 << 53) - 1)
            return bits.astype(np.float64) * 2.0**-53
        bits = self._random(n) & np.uint32((1 << 24) - 1)
        return bits.astype(np.float32) * np.float32(2.0**-24)

    # ------------------------------------------------------------------ uniform

    def rand(self, shape: int | Sequence[int], dtype_name: str = "float32") -> np.ndarray:
        """``torch.rand(*shape, dtype=..., generator=self)``: uniform on ``[0, 1)``.

        Example:
            >>> Generator().manual_seed(0).rand((2,)).tolist()
            [0.49625658988952637, 0.7682217955589294]
        """
        return self.uniform(shape, 0.0, 1.0, dtype_name)

    def uniform(
        self,
        shape: int | Sequence[int],
        low: float = 0.0,
        high: float = 1.0,
        dtype_name: str = "float32",
    ) -> np.ndarray:
        """``torch.empty(shape, dtype=...).uniform_(low, high, generator=self)``.

        Raises:
            NotImplementedError: ``dtype_name`` is not a floating or complex dtype.
            RuntimeError: ``low``/``high`` are out of range for the dtype, or ``low > high``.

        Example:
            >>> Generator().manual_seed(0).uniform((2,), -1.0, 1.0, "float64").shape
            (2,)
        """
        shape = _shape_tuple(shape)
        _check_dtype(dtype_name)
        base = _COMPLEX.get(dtype_name, dtype_name)
        scalar, cname = _DTYPES[base]
        if base not in _FLOATS:
            raise NotImplementedError(f"\"check_uniform_bounds\" not implemented for '{scalar}'")
        low, high = float(low), float(high)
        lo_lim, hi_lim = _float_limits(base)
        if not lo_lim <= low <= hi_lim:
            raise RuntimeError(f"from is out of bounds for {cname}")
        if not lo_lim <= high <= hi_lim:
            raise RuntimeError(f"to is out of bounds for {cname}")
        if not low <= high:
            raise RuntimeError(
                f"uniform_ expects to return a [from, to) range, but found from={_fmt(low)} "
                f"> to={_fmt(high)}"
            )
        if not high - low <= hi_lim:
            raise RuntimeError(
                f"uniform_ expects to-from <= std::numeric_limits<{scalar}>::max(), but found "
                f"to={_fmt(high)} and from={_fmt(low)} which result in to-from to exceed the limit"
            )
        n = math.prod(shape)
        if base != dtype_name:  # complex: uniform_ on the (..., 2) real view
            out = self._uniform_flat(2 * n, low, high, base)
            return out.view(np.dtype(dtype_name)).reshape(shape)
        return self._uniform_flat(n, low, high, base).reshape(shape)

    def _uniform_flat(self, n: int, low: float, high: float, name: str) -> np.ndarray:
        # float64 works in double; every narrower type draws a float32 uniform between float32
        # bounds and casts. A value that rounds up to `high` in the target type becomes `low`.
        if name == "float64":
            lo, hi = np.float64(low), np.float64(high)
            out = _madd(self._uniform01(n, name), hi - lo, lo, np.float64, _USE_FMA)
        else:
            lo, hi = np.float32(low), np.float32(high)
            out = _madd(self._uniform01(n, "float32"), hi - lo, lo, np.float32, _USE_FMA)
            dt = _numpy_dtype(name)
            out, lo, hi = out.astype(dt), lo.astype(dt), hi.astype(dt)
        return np.where(out >= hi, lo, out)

    # ------------------------------------------------------------------ normal

    def randn(self, shape: int | Sequence[int], dtype_name: str = "float32") -> np.ndarray:
        """``torch.randn(*shape, dtype=..., generator=self)``: standard normal samples.

        Example:
            >>> Generator().manual_seed(0).randn((3,)).tolist()
            [1.5409960746765137, -0.293428897857666, -2.1787893772125244]
        """
        return self.normal(shape, 0.0, 1.0, dtype_name)

    def normal(
        self,
        shape: int | Sequence[int],
        mean: float = 0.0,
        std: float = 1.0,
        dtype_name: str = "float32",
    ) -> np.ndarray:
        """``torch.empty(shape, dtype=...).normal_(mean, std, generator=self)``.

        float16 and bfloat16 raise NotImplementedError: ATen's 16-wide path lays their results
        out differently from float32, and that layout is not reproduced here.

        Raises:
            RuntimeError: ``std < 0`` (or NaN).
            NotImplementedError: ``dtype_name`` is not float32, float64, complex64 or complex128.

        Example:
            >>> Generator().manual_seed(0).normal((2,), 10.0, 2.0).tolist()
            [13.081992149353027, 9.413142204284668]
        """
        shape = _shape_tuple(shape)
        _check_dtype(dtype_name)
        mean, std = float(mean), float(std)
        if not std >= 0.0:
            raise RuntimeError(f"normal expects std >= 0.0, but found std {_fmt(std)}")
        n = math.prod(shape)
        if n == 0:
            return np.zeros(shape, _numpy_dtype(dtype_name))
        base = _COMPLEX.get(dtype_name, dtype_name)
        if base not in ("float32", "float64"):
            scalar = _DTYPES[base][0]
            if base in _FLOATS:
                raise NotImplementedError(
                    f"normal for {dtype_name} is not implemented in compat (use float32)"
                )
            raise NotImplementedError(f"\"normal_kernel_cpu\" not implemented for '{scalar}'")
        if base != dtype_name:  # complex: real view, each part with variance std**2 / 2
            out = self._normal_flat(2 * n, mean, std / math.sqrt(2), base)
            return out.view(np.dtype(dtype_name)).reshape(shape)
        return self._normal_flat(n, mean, std, base).reshape(shape)

    def _normal_flat(self, n: int, mean: float, std: float, name: str) -> np.ndarray:
        dt = np.dtype(name).type
        if n < 16:
            z = np.array([self._scalar_standard_normal() for _ in range(n)])
            return _madd(z, std, mean, np.float64, _USE_FMA).astype(dt)
        u = self._uniform01(n, name)
        full = n - n % 16
        out = np.empty(n, dt)
        out[:full] = self._box_muller_16(u[:full], mean, std, name)
        if n % 16:
            # The uniforms after the last full block are drawn but replaced: ATen refills the
            # last 16 slots with fresh uniforms and redoes them.
            out[n - 16 :] = self._box_muller_16(self._uniform01(16, name), mean, std, name)
        return out

    def _scalar_standard_normal(self) -> float:
        """One draw of ``normal_distribution<double>`` before ``* std + mean``; uses the cache."""
        if self._next_double is not None:
            z, self._next_double = self._next_double, None
        else:
            u1, u2 = self._uniform01(2, "float64").tolist()
            r = math.sqrt(-2.0 * math.log1p(-u2))
            theta = _TWO_PI * u1
            self._next_double = r * math.sin(theta)
            z = r * math.cos(theta)
        return z

    def _box_muller_16(self, u: np.ndarray, mean: float, std: float, name: str) -> np.ndarray:
        """ATen's normal_fill_16 on consecutive blocks of 16 uniforms."""
        blocks = u.reshape(-1, 16)
        u1, u2 = 1 - blocks[:, :8], blocks[:, 8:]
        if name == "float64":
            radius = np.sqrt(-2.0 * _libm_map(math.log, u1))
            theta = _TWO_PI * u2
            cos, sin = _libm_map(math.cos, theta), _libm_map(math.sin, theta)
            fdt = np.float64
        elif _USE_AVX_MATHFUN:
            radius = np.sqrt(np.float32(-2.0) * _avx_log(u1))
            theta = np.float32(_TWO_PI) * u2
            sin, cos = _avx_sincos(theta)
            fdt = np.float32
        else:
            radius = np.sqrt(np.float32(-2.0) * _libm_f32("logf", u1))
            theta = (_TWO_PI * u2.astype(np.float64)).astype(np.float32)
            cos, sin = _libm_f32("cosf", theta), _libm_f32("sinf", theta)
            fdt = np.float32
        fdt_mean, fdt_std = fdt(mean), fdt(std)
        with np.errstate(all="ignore"):
            both = np.concatenate([radius * cos, radius * sin], axis=1)
        return _madd(both, fdt_std, fdt_mean, fdt, True).ravel()

    # ------------------------------------------------------------------ integers

    def randint(
        self,
        low: int,
        high: int,
        shape: int | Sequence[int],
        dtype_name: str = "int64",
    ) -> np.ndarray:
        """``torch.randint(low, high, shape, dtype=..., generator=self)``: integers in
        ``[low, high)``.

        Raises:
            RuntimeError: ``low >= high``, or the range does not fit the dtype.
            ValueError: ``low`` or ``high`` does not fit in int64.

        Example:
            >>> Generator().manual_seed(0).randint(0, 10, (5,)).tolist()
            [4, 9, 3, 0, 3]
        """
        shape = _shape_tuple(shape)
        _check_dtype(dtype_name)
        low, high = int(low), int(high)
        for v in (low, high):
            if not -(2**63) <= v < 2**63:
                raise ValueError("Overflow when unpacking long long")
        if not low < high:
            raise RuntimeError(
                f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}"
            )
        if dtype_name in _FLOATS:
            low, high = _update_from(low, dtype_name), _update_to(high, dtype_name)
            if not low < high:
                raise RuntimeError(
                    "random_ expects 'from' casted to dtype to be less than 'to' casted to "
                    f"dtype, but got from={low} >= to={high}"
                )
        _check_from_to_in_range(low, high - 1, dtype_name)
        n = math.prod(shape)
        dt = _numpy_dtype(dtype_name)
        if n == 0:
            return np.zeros(shape, dt)
        span = (high - low) & (2**64 - 1)
        # torch 2.13 keeps the modulo bias small by switching to 64-bit draws from 2**28 on.
        raw = self._random64(n) if span >= 2**28 else self._random(n).astype(np.uint64)
        vals = ((raw % np.uint64(span)) + np.uint64(low & (2**64 - 1))).view(np.int64)
        return _cast_int64(vals, dtype_name).reshape(shape)

    def randperm(self, n: int, dtype_name: str = "int64") -> np.ndarray:
        """``torch.randperm(n, dtype=..., generator=self)``: a random permutation of ``0..n-1``.

        Raises:
            RuntimeError: ``n < 0``, or ``n - 1`` does not fit the dtype.
            NotImplementedError: ``dtype_name="bool"``.

        Example:
            >>> Generator().manual_seed(0).randperm(5).tolist()
            [4, 0, 1, 3, 2]
        """
        _check_dtype(dtype_name)
        n = int(n)
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
        _check_randperm_n(n, dtype_name)
        if n < _RANDPERM_SMALL:
            perm = list(range(n))
            if n > 1:
                offsets = self._random(n - 1).astype(np.int64) % np.arange(n, 1, -1)
                for i, z in enumerate(offsets.tolist()):
                    j = i + z
                    perm[i], perm[j] = perm[j], perm[i]
        else:
            # Inside-out Fisher-Yates: too many elements for random() % n to stay unbiased.
            draws = self._random64(n) % np.arange(1, n + 1, dtype=np.uint64)
            perm = [0] * n
            for i, z in enumerate(draws.tolist()):
                perm[i] = perm[z]
                perm[z] = i
        return _cast_int64(np.array(perm, np.int64), dtype_name)


# ------------------------------------------------------------------- randint/randperm checks


def _cast_roundtrip(v: int, name: str) -> int:
    """static_cast<int64_t>(static_cast<scalar_t>(v)); Half/BFloat16 convert through float."""
    x = np.array(v, np.int64)
    f = x.astype(np.float64) if name == "float64" else x.astype(np.float32)
    with np.errstate(over="ignore"):
        f = float(f.astype(_numpy_dtype(name)).astype(np.float64))
    return int(f) if math.isfinite(f) else v  # overflow: left to the range check that follows


def _update_from(low: int, name: str) -> int:
    # Moves `low` right until casting low (+1) to the dtype stays >= low (ATen's update_from).
    plus1 = _cast_roundtrip(low + 1, name)
    if plus1 < low:
        a = abs(low + 1)
        n = a.bit_length() - 1 if a else 0
        low = plus1 + (1 << (n - _MANTISSA_DIGITS[name] + 1))
    return low


def _update_to(high: int, name: str) -> int:
    minus1 = _cast_roundtrip(high - 1, name)
    if minus1 >= high:
        a = abs(high - 1)
        n = a.bit_length() - 1 if a else 0
        high = minus1 - (1 << (n - _MANTISSA_DIGITS[name] + 1))
    return high


def _check_from_to_in_range(low: int, to_inc: int, name: str) -> None:
    scalar, cname = _DTYPES[name]
    if name in _FLOATS:
        lo, hi = _float_limits(name)
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {cname}")
        if not lo <= to_inc <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {cname}")
        digits = _MANTISSA_DIGITS[name]
        for v, what in ((low, "from"), (to_inc, "to - 1")):
            if v < -(1 << digits) or v > (1 << digits):
                warnings.warn(
                    f"{what} is out of bounds [-(2^{digits}), 2^{digits}]. Due to precision "
                    f"limitations {cname} can support discrete uniform distribution only within "
                    "this range. This warning will become an error in version 1.7 release, "
                    "please fix the code in advance",
                    UserWarning,
                    stacklevel=3,
                )
    elif name in _COMPLEX:
        raise RuntimeError(
            "check_random_bounds handles only integral, floating-point and boolean types"
        )
    else:
        if name == "bool":
            lo, hi = 0, 1
        else:
            info = np.iinfo(np.dtype(name))
            lo, hi = int(info.min), int(info.max)
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {cname}")
        if not lo <= to_inc <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {cname}")


def _check_randperm_n(n: int, name: str) -> None:
    scalar = _DTYPES[name][0]
    if name == "bool" or name in _COMPLEX:
        raise NotImplementedError(f"\"randperm\" not implemented for '{scalar}'")
    top = n - 1 if n > 0 else n
    if name in _RANDPERM_ITEMSIZE_NAME:
        if top > int(np.iinfo(np.dtype(name)).max):
            raise RuntimeError(
                f"value cannot be converted to type {_RANDPERM_ITEMSIZE_NAME[name]} without "
                "overflow"
            )
    if name == "float16" and n > 2**11 + 1:
        raise RuntimeError("n cannot be greater than 2049 for Half type.")
    if name == "float32" and n > 2**24 + 1:
        raise RuntimeError("n cannot be greater than 2^24+1 for Float type.")
    if name == "float64" and n > 2**53 + 1:
        raise RuntimeError("n cannot be greater than 2^53+1 for Double type.")


def _cast_int64(vals: np.ndarray, name: str) -> np.ndarray:
    """static_cast<T>(int64): floats round through float32 like c10's Half/BFloat16 do."""
    if name == "bool":
        return vals != 0
    if name in ("float16", "bfloat16"):
        return vals.astype(np.float32).astype(_numpy_dtype(name))
    return vals.astype(np.dtype(name))


# --------------------------------------------------------------------------- module-level API

default_generator = Generator()
default_generator._set_seed(_nondeterministic_seed())  # torch seeds it from /dev/urandom


def manual_seed(seed: int) -> Generator:
    """``torch.manual_seed``: seeds ``default_generator`` and returns it.

    Accepts anything ``int()`` accepts (``torch.manual_seed(1.5)`` seeds with 1).

    Example:
        >>> manual_seed(0).initial_seed()
        0
    """
    return default_generator.manual_seed(int(seed))


def initial_seed() -> int:
    """``torch.initial_seed``: the seed of ``default_generator``.

    Example:
        >>> manual_seed(7).initial_seed() == initial_seed()
        True
    """
    return default_generator.initial_seed()


def seed() -> int:
    """``torch.seed``: reseeds ``default_generator`` nondeterministically and returns the seed.

    Example:
        >>> seed() == initial_seed()
        True
    """
    return default_generator.seed()
