"""compat._random against live torch: same seed, same calls, same bits."""

import importlib.util
import json
import math
import os
import platform
import re
import subprocess
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

try:
    import torch
except ImportError:
    if os.environ.get("CI"):
        raise
    pytest.skip("torch is not installed", allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]

try:
    from compat import _random as R
except ImportError:  # compat/__init__.py mid-edit: load the module from its file
    _spec = importlib.util.spec_from_file_location("compat_random", ROOT / "compat" / "_random.py")
    R = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(R)

SEEDS = [0, 1, 42, 2**32 + 5, 0xDEADBEEFCAFEF00D]
SHAPES = [(), (1,), (3,), (15,), (16,), (17,), (31,), (33,), (100,), (5, 3), (3, 3), (1000,)]
SHAPES += [(10007,)]
FLOAT_DTYPES = {"float32": torch.float32, "float64": torch.float64}
TORCH_DTYPES = {
    "bool": torch.bool,
    "uint8": torch.uint8,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}


def pair(seed):
    return torch.Generator().manual_seed(seed), R.Generator().manual_seed(seed)


def assert_bits(ours, theirs):
    """Same dtype, same shape, same bytes."""
    theirs = theirs.detach()
    if theirs.dtype == torch.bfloat16:
        expected = theirs.view(torch.int16).numpy()
        ours_bits = np.ascontiguousarray(ours).view(np.int16)
    else:
        expected = theirs.numpy()
        assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
        ours_bits = np.ascontiguousarray(ours).view(np.uint8)
        expected = np.ascontiguousarray(expected).view(np.uint8)
    assert ours.shape == tuple(theirs.shape)
    mismatched = int(np.count_nonzero(ours_bits != expected))
    assert mismatched == 0, f"{mismatched} bytes differ"


def torch_error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - we want whatever torch raises
        return e
    raise AssertionError("torch did not raise")


def assert_same_error(torch_fn, ours_fn):
    """Our exception has torch's class and torch's message."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        err = torch_error(torch_fn)
    text = str(err).split("\n")[0]
    with pytest.raises(type(err), match=re.escape(text)):
        ours_fn()


# ------------------------------------------------------------------------------------ bits


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_randn_and_rand_match_torch_bit_for_bit(seed, dtype):
    tg, g = pair(seed)
    for shape in SHAPES:
        assert_bits(
            g.randn(shape, dtype), torch.randn(shape, dtype=FLOAT_DTYPES[dtype], generator=tg)
        )
        assert_bits(
            g.rand(shape, dtype), torch.rand(shape, dtype=FLOAT_DTYPES[dtype], generator=tg)
        )


def test_large_randn_matches_torch():
    tg, g = pair(2024)
    for dtype in ("float32", "float64"):
        expected = torch.randn(200_003, dtype=FLOAT_DTYPES[dtype], generator=tg)
        assert_bits(g.randn(200_003, dtype), expected)


def test_interleaved_calls_carry_state_and_normal_cache():
    tg, g = pair(7)
    # randn(1) twice: the second draw comes from the cached Box-Muller sine.
    steps = [
        ("randn", (1,), "float32"),
        ("randn", (1,), "float32"),
        ("randn", (3,), "float64"),
        ("randint", (4,), "int64"),
        ("randn", (1,), "float64"),  # takes the cache left by randn(3)
        ("randn", (20,), "float32"),  # vectorised path: cache left alone
        ("randn", (1,), "float32"),
        ("rand", (5,), "float32"),
        ("randperm", 7, "int64"),
        ("randn", (2, 2), "float64"),
        ("randint", (3,), "int32"),
        ("rand", (17,), "float64"),
        ("randn", (), "float32"),
    ]
    for kind, shape, dtype in steps:
        if kind == "randint":
            ours = g.randint(-3, 1000, shape, dtype)
            theirs = torch.randint(-3, 1000, shape, dtype=TORCH_DTYPES[dtype], generator=tg)
        elif kind == "randperm":
            ours = g.randperm(shape, dtype)
            theirs = torch.randperm(shape, dtype=TORCH_DTYPES[dtype], generator=tg)
        else:
            ours = getattr(g, kind)(shape, dtype)
            theirs = getattr(torch, kind)(shape, dtype=TORCH_DTYPES[dtype], generator=tg)
        assert_bits(ours, theirs)


RANGES = [
    (0, 10),
    (-5, 5),
    (3, 4),
    (0, 2**31),
    (0, 2**32),
    (0, 2**32 + 1),
    (-(2**40), 2**40),
    (10**9, 10**9 + 7),
    (-(2**63), 2**63 - 1),
]


@pytest.mark.parametrize("low,high", RANGES)
def test_randint_int64_matches_torch(low, high):
    tg, g = pair(11)
    for shape in [(1,), (7,), (300,)]:
        assert_bits(g.randint(low, high, shape), torch.randint(low, high, shape, generator=tg))


@pytest.mark.parametrize(
    "dtype,low,high",
    [
        ("int32", -(2**31), 2**31),
        ("int32", 0, 100),
        ("int16", -300, 300),
        ("int8", -128, 128),
        ("uint8", 0, 256),
        ("bool", 0, 2),
        ("float32", -1000, 1000),
        ("float32", 0, 2**24),
        ("float64", -(2**40), 2**40),
        ("float16", 0, 2048),
        ("bfloat16", -100, 100),
    ],
)
def test_randint_other_dtypes_match_torch(dtype, low, high):
    tg, g = pair(5)
    for _ in range(2):
        ours = g.randint(low, high, (50,), dtype)
        assert_bits(ours, torch.randint(low, high, (50,), dtype=TORCH_DTYPES[dtype], generator=tg))


def test_randint_float_warns_like_torch_outside_exact_range():
    tg, g = pair(3)
    with pytest.warns(UserWarning, match=re.escape("to - 1 is out of bounds [-(2^24), 2^24]")):
        ours = g.randint(0, 2**25, (10,), "float32")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.randint(0, 2**25, (10,), dtype=torch.float32, generator=tg)
    assert_bits(ours, theirs)


@pytest.mark.parametrize("n", [0, 1, 2, 5, 20, 100, 1000, 70000])
def test_randperm_matches_torch(n):
    tg, g = pair(n)
    assert_bits(g.randperm(n), torch.randperm(n, generator=tg))
    assert_bits(g.rand(3), torch.rand(3, generator=tg))  # same number of draws consumed


@pytest.mark.parametrize("dtype", ["int32", "int16", "float32", "float16", "float64"])
def test_randperm_dtypes_match_torch(dtype):
    tg, g = pair(9)
    assert_bits(
        g.randperm(300, dtype), torch.randperm(300, dtype=TORCH_DTYPES[dtype], generator=tg)
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("n", [1, 5, 15, 16, 17, 100, 1003])
def test_normal_with_mean_and_std_matches_torch(dtype, n):
    tg, g = pair(n)
    for mean, std in [(3.0, 0.5), (-1.25, 7.3), (0.1, 0.0)]:
        theirs = torch.empty(n, dtype=FLOAT_DTYPES[dtype]).normal_(mean, std, generator=tg)
        assert_bits(g.normal((n,), mean, std, dtype), theirs)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
def test_uniform_with_bounds_matches_torch(dtype):
    tg, g = pair(21)
    for low, high in [(-2.0, 5.0), (0.3, 0.7), (-1e3, 1e4), (2.0, 2.0)]:
        for n in (1, 16, 999):
            theirs = torch.empty(n, dtype=TORCH_DTYPES[dtype]).uniform_(low, high, generator=tg)
            assert_bits(g.uniform((n,), low, high, dtype), theirs)


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
def test_complex_randn_and_rand_match_torch(dtype):
    tg, g = pair(4)
    for n in (3, 8, 9, 100):
        assert_bits(g.randn((n,), dtype), torch.randn(n, dtype=TORCH_DTYPES[dtype], generator=tg))
        assert_bits(g.rand((n,), dtype), torch.rand(n, dtype=TORCH_DTYPES[dtype], generator=tg))


def test_module_level_seed_functions_follow_torch():
    torch.manual_seed(123)
    ours_gen = R.manual_seed(123)
    assert ours_gen is R.default_generator
    assert R.initial_seed() == torch.initial_seed() == 123
    assert_bits(R.default_generator.randn(40), torch.randn(40))
    assert R.manual_seed(1.9).initial_seed() == torch.manual_seed(1.9).initial_seed() == 1
    s = R.seed()
    assert 0 <= s < 2**64 and R.initial_seed() == s


@pytest.mark.parametrize("seed", [-1, -(2**63), 2**64 - 1, 2**63])
def test_manual_seed_wraps_negative_seeds_like_torch(seed):
    tg, g = pair(seed)
    assert g.initial_seed() == tg.initial_seed()
    assert_bits(g.randn(20), torch.randn(20, generator=tg))


def test_new_generator_starts_from_torch_default_seed():
    tg = torch.Generator()
    g = R.Generator()
    assert g.initial_seed() == tg.initial_seed() == R.DEFAULT_SEED == 67280421310721
    assert_bits(g.randn(50), torch.randn(50, generator=tg))
    assert_bits(R.Generator().get_state(), torch.Generator().get_state())


# ------------------------------------------------------------------------------------ state


def test_get_state_is_torch_byte_layout_at_every_counter_position():
    tg, g = pair(99)
    assert_bits(g.get_state(), tg.get_state())
    for draws in (1, 622, 1, 1, 1, 700):
        g.rand(draws)
        torch.rand(draws, generator=tg)
        assert_bits(g.get_state(), tg.get_state())
    g.randn(3, "float64")  # leaves a cached normal
    torch.randn(3, dtype=torch.float64, generator=tg)
    assert_bits(g.get_state(), tg.get_state())


def test_set_state_round_trips_and_accepts_torch_states():
    tg, g = pair(5)
    g.randn(5)
    torch.randn(5, generator=tg)
    saved = g.get_state()
    first = g.randn(7)
    assert_bits(g.set_state(saved).randn(7), torch.from_numpy(first))
    # torch's own state bytes load into ours and continue the same stream.
    other = R.Generator().set_state(tg.get_state().numpy())
    assert_bits(other.randn(7), torch.randn(7, generator=tg))
    assert other.initial_seed() == 5
    # And ours loads into torch.
    tg2 = torch.Generator()
    tg2.set_state(torch.from_numpy(g.get_state()))
    assert_bits(g.rand(30), torch.rand(30, generator=tg2))
    assert_bits(R.Generator().set_state(bytes(saved)).get_state(), torch.from_numpy(saved))


def test_set_state_rejects_bad_states_like_torch():
    g = R.Generator()
    tg = torch.Generator()
    assert_same_error(
        lambda: tg.set_state(torch.zeros(10, dtype=torch.uint8)),
        lambda: g.set_state(np.zeros(10, np.uint8)),
    )
    assert_same_error(
        lambda: tg.set_state(torch.zeros(5056, dtype=torch.uint8)),
        lambda: g.set_state(np.zeros(5056, np.uint8)),
    )
    with pytest.raises(TypeError, match="RNG state must be a torch.ByteTensor"):
        g.set_state(np.zeros(5056, np.int8))


# ------------------------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "torch_fn,ours_fn",
    [
        (lambda: torch.randint(5, 5, (3,)), lambda: R.Generator().randint(5, 5, (3,))),
        (lambda: torch.randint(5, 3, (3,)), lambda: R.Generator().randint(5, 3, (3,))),
        (
            lambda: torch.randint(0, 257, (3,), dtype=torch.uint8),
            lambda: R.Generator().randint(0, 257, (3,), "uint8"),
        ),
        (
            lambda: torch.randint(-(2**31) - 1, 0, (3,), dtype=torch.int32),
            lambda: R.Generator().randint(-(2**31) - 1, 0, (3,), "int32"),
        ),
        (
            lambda: torch.randint(-200, 0, (3,), dtype=torch.int8),
            lambda: R.Generator().randint(-200, 0, (3,), "int8"),
        ),
        (
            lambda: torch.randint(-(2**16), 0, (3,), dtype=torch.int16),
            lambda: R.Generator().randint(-(2**16), 0, (3,), "int16"),
        ),
        (
            lambda: torch.randint(0, 3, (3,), dtype=torch.bool),
            lambda: R.Generator().randint(0, 3, (3,), "bool"),
        ),
        (
            lambda: torch.randint(0, 70000, (3,), dtype=torch.float16),
            lambda: R.Generator().randint(0, 70000, (3,), "float16"),
        ),
        (lambda: torch.randint(0, 2**63, (3,)), lambda: R.Generator().randint(0, 2**63, (3,))),
        (lambda: torch.randn(2, -1), lambda: R.Generator().randn((2, -1))),
        (lambda: torch.randperm(-1), lambda: R.Generator().randperm(-1)),
        (
            lambda: torch.randperm(2050, dtype=torch.float16),
            lambda: R.Generator().randperm(2050, "float16"),
        ),
        (
            lambda: torch.randperm(70000, dtype=torch.float16),
            lambda: R.Generator().randperm(70000, "float16"),
        ),
        (
            lambda: torch.randperm(300, dtype=torch.uint8),
            lambda: R.Generator().randperm(300, "uint8"),
        ),
        (
            lambda: torch.randperm(129, dtype=torch.int8),
            lambda: R.Generator().randperm(129, "int8"),
        ),
        (
            lambda: torch.randperm(3, dtype=torch.bool),
            lambda: R.Generator().randperm(3, "bool"),
        ),
        (
            lambda: torch.empty(3).normal_(0, -1),
            lambda: R.Generator().normal((3,), 0, -1),
        ),
        (
            lambda: torch.empty(3).normal_(0, float("nan")),
            lambda: R.Generator().normal((3,), 0, float("nan")),
        ),
        (
            lambda: torch.randn(3, dtype=torch.int64),
            lambda: R.Generator().randn((3,), "int64"),
        ),
        (
            lambda: torch.empty(3).uniform_(1, 0),
            lambda: R.Generator().uniform((3,), 1, 0),
        ),
        (
            lambda: torch.empty(3).uniform_(0, float("inf")),
            lambda: R.Generator().uniform((3,), 0, float("inf")),
        ),
        (
            lambda: torch.empty(3).uniform_(-3e38, 3e38),
            lambda: R.Generator().uniform((3,), -3e38, 3e38),
        ),
        (
            lambda: torch.rand(3, dtype=torch.int32),
            lambda: R.Generator().rand((3,), "int32"),
        ),
        (lambda: torch.Generator().manual_seed(2**64), lambda: R.Generator().manual_seed(2**64)),
        (lambda: torch.Generator().manual_seed(1.5), lambda: R.Generator().manual_seed(1.5)),
        (lambda: torch.Generator().manual_seed(True), lambda: R.Generator().manual_seed(True)),
    ],
)
def test_errors_match_torch(torch_fn, ours_fn):
    assert_same_error(torch_fn, ours_fn)


def test_pinned_error_messages():
    g = R.Generator()
    msg = "random_ expects 'from' to be less than 'to', but got from=5 >= to=5"
    with pytest.raises(RuntimeError, match=re.escape(msg)):
        g.randint(5, 5, (3,))
    with pytest.raises(
        RuntimeError, match=re.escape("normal expects std >= 0.0, but found std -1")
    ):
        g.normal((3,), 0.0, -1.0)
    with pytest.raises(NotImplementedError, match="float16"):
        g.randn((3,), "float16")
    with pytest.raises(TypeError, match="unsupported dtype name"):
        g.rand((3,), "float8")


def test_failed_calls_and_empty_shapes_consume_nothing():
    tg, g = pair(8)
    with pytest.raises(RuntimeError):
        g.randint(3, 3, (4,))
    assert g.randn((0, 4)).shape == (0, 4)
    assert g.randint(0, 5, (0,)).dtype == np.int64
    assert_bits(g.get_state(), tg.get_state())


# ------------------------------------------------------------------------------------ helpers


def _round_fraction_to(value: Fraction, dtype) -> float:
    """Round an exact rational to the nearest dtype value, ties to even."""
    approx = dtype(float(value))
    neighbours = [np.nextafter(approx, dtype(-np.inf)), approx, np.nextafter(approx, dtype(np.inf))]
    int_type = np.int64 if dtype == np.float64 else np.int32

    def key(c):
        return abs(Fraction(float(c)) - value), int(np.array(c).view(int_type)) & 1

    return float(min(neighbours, key=key))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fma_emulation_is_correctly_rounded(dtype):
    rng = np.random.default_rng(0)
    n = 3000
    a = rng.standard_normal(n).astype(dtype)
    b = (rng.standard_normal(n) * 10.0 ** rng.integers(-3, 4, n)).astype(dtype)
    # Addends that nearly cancel the product, or sit half an ulp away, stress the rounding.
    c = -(a.astype(np.float64) * b) * (1 + rng.standard_normal(n) * 2.0 ** -rng.integers(1, 60, n))
    c = c.astype(dtype)
    fma = R._fma32 if dtype == np.float32 else R._fma64
    got = fma(a, b, c)
    for x, y, z, r in zip(a.tolist(), b.tolist(), c.tolist(), got.tolist(), strict=True):
        exact = Fraction(x) * Fraction(y) + Fraction(z)
        assert _round_fraction_to(exact, dtype) == r


# ------------------------------------------------------------------------------------ start-up

_PROBE = r"""
import json, os, sys
import importlib.util
spec = importlib.util.spec_from_file_location("compat_random", sys.argv[1])
R = importlib.util.module_from_spec(spec)
spec.loader.exec_module(R)
import torch
out = {"torch_default": torch.initial_seed(), "torch_new": torch.Generator().initial_seed(),
       "ours_default": R.initial_seed(), "ours_new": R.Generator().initial_seed(),
       "capability": torch.backends.cpu.get_cpu_capability(), "same": {}}
for dtype in ("float32", "float64"):
    td = getattr(torch, dtype)
    tg, g = torch.Generator().manual_seed(17), R.Generator().manual_seed(17)
    checks = [(g.randn(1000, dtype), torch.randn(1000, dtype=td, generator=tg))]
    for n in (9, 999):
        checks.append((g.normal((n,), 0.5, 3.0, dtype),
                       torch.empty(n, dtype=td).normal_(0.5, 3.0, generator=tg)))
        checks.append((g.uniform((n,), -2.0, 5.0, dtype),
                       torch.empty(n, dtype=td).uniform_(-2.0, 5.0, generator=tg)))
    out["same"][dtype] = all(o.tobytes() == t.numpy().tobytes() for o, t in checks)
print(json.dumps(out))
"""


def _probe(env_extra):
    env = dict(os.environ, **env_extra)
    res = subprocess.run(
        [sys.executable, "-c", _PROBE, str(ROOT / "compat" / "_random.py")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def portable_kernel_probe():
    """A fresh interpreter where torch runs its portable (non-AVX) CPU kernels."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        pytest.skip("ATEN_CPU_CAPABILITY=default is only measured on x86-64")
    return _probe({"ATEN_CPU_CAPABILITY": "default"})


def test_start_up_seeds_match_torch(portable_kernel_probe):
    p = portable_kernel_probe
    # torch seeds its default generator from /dev/urandom; a new Generator from a constant.
    assert p["torch_new"] == p["ours_new"] == R.DEFAULT_SEED
    assert p["torch_default"] != R.DEFAULT_SEED and 0 <= p["torch_default"] < 2**64
    assert p["ours_default"] != R.DEFAULT_SEED and 0 <= p["ours_default"] < 2**64
    # Two interpreters, two different start-up seeds.
    again = subprocess.run(
        [
            sys.executable,
            "-c",
            "import importlib.util, sys; "
            "spec = importlib.util.spec_from_file_location('r', sys.argv[1]); "
            "R = importlib.util.module_from_spec(spec); spec.loader.exec_module(R); "
            "print(R.initial_seed())",
            str(ROOT / "compat" / "_random.py"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 0, again.stderr
    assert int(again.stdout) != p["ours_default"]


def test_portable_kernels_match_torch_default_capability(portable_kernel_probe):
    p = portable_kernel_probe
    assert p["capability"] == "DEFAULT"
    assert p["same"] == {"float32": True, "float64": True}


def test_one_million_randn_is_vectorised():
    g = R.Generator().manual_seed(0)
    out = g.randn(1_000_000)
    assert out.shape == (1_000_000,) and abs(float(out.mean())) < 0.01
    assert math.isclose(float(out.std()), 1.0, rel_tol=0.01)
