"""compat._printing against live torch: reprs must match torch 2.13's character for character."""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import pathlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

try:
    import torch
except ImportError:
    # On CI a missing torch is a broken environment, not a reason to skip.
    if os.environ.get("CI"):
        raise
    pytest.skip("torch is not installed", allow_module_level=True)

try:
    from compat import _printing as printing
except Exception:  # compat/__init__.py may be mid-edit; the module itself stands alone.
    _path = pathlib.Path(__file__).resolve().parents[2] / "compat" / "_printing.py"
    _spec = importlib.util.spec_from_file_location("_compat_printing", _path)
    printing = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(printing)


_TORCH_DEFAULTS = torch._tensor_str.get_printoptions()


@contextlib.contextmanager
def both_options(**kwargs: Any) -> Iterator[None]:
    """Sets the same print options in torch and compat, restoring both afterwards."""
    saved_torch = torch._tensor_str.get_printoptions()
    saved_compat = printing.get_printoptions()
    torch.set_printoptions(**kwargs)
    printing.set_printoptions(**kwargs)
    try:
        yield
    finally:
        torch.set_printoptions(**saved_torch)
        printing.set_printoptions(**saved_compat)


@pytest.fixture
def restore_printoptions() -> Iterator[None]:
    saved_torch = torch._tensor_str.get_printoptions()
    saved_compat = printing.get_printoptions()
    yield
    torch.set_printoptions(**saved_torch)
    printing.set_printoptions(**saved_compat)


def compat_repr(t: torch.Tensor, **kwargs: Any) -> str:
    """format_tensor on the NumPy copy of ``t`` with ``t``'s dtype and autograd state."""
    dtype = str(t.dtype).removeprefix("torch.")
    detached = t.detach()
    values = detached.float().numpy() if t.dtype == torch.bfloat16 else detached.numpy()
    grad_fn = type(t.grad_fn).__name__ if t.grad_fn is not None else None
    return printing.format_tensor(
        values, dtype, requires_grad=t.requires_grad, grad_fn_name=grad_fn, **kwargs
    )


def assert_same(t: torch.Tensor) -> None:
    expected = repr(t)
    got = compat_repr(t)
    assert got == expected, f"\ntorch:\n{expected}\ncompat:\n{got}"


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# --- the seeds' outputs --------------------------------------------------------------------------


def test_seed_outputs_verbatim():
    cases = {
        "tensor([ 0.,  4.,  8., 12.])": (np.array([0.0, 4.0, 8.0, 12.0]), "float32", {}),
        "tensor([True, True, True, True])": (np.ones(4, bool), "bool", {}),
        "tensor(4096.)": (np.array(4096.0), "float32", {}),
        "tensor(1989.2413, grad_fn=<MulBackward0>)": (
            np.array(1989.2413, np.float32),
            "float32",
            {"grad_fn_name": "MulBackward0"},
        ),
        "tensor(0.4857, requires_grad=True)": (
            np.array(0.4857, np.float32),
            "float32",
            {"requires_grad": True},
        ),
        "tensor([0., 1., 2., 3.], requires_grad=True)": (
            np.arange(4.0),
            "float32",
            {"requires_grad": True},
        ),
        "tensor([1418.8359,  741.6139,  -53.5094], grad_fn=<MulBackward0>)": (
            np.array([1418.8359, 741.6139, -53.5094], np.float32),
            "float32",
            {"grad_fn_name": "MulBackward0"},
        ),
        "tensor(True)": (np.array(True), "bool", {}),
    }
    for expected, (values, dtype, kwargs) in cases.items():
        assert printing.format_tensor(values, dtype, **kwargs) == expected


def test_seed_matrix_with_requires_grad():
    t = torch.tensor(
        [[0.1120, -0.0213, 0.5249], [-0.8316, 1.2080, 0.0077], [0.3, -2.0, 1.5]],
        requires_grad=True,
    )
    assert repr(t).startswith("tensor([[ 0.1120, -0.0213,  0.5249],")
    assert_same(t)


def test_grad_fn_names_from_real_graphs():
    x = torch.tensor([0.6012, -0.2897, 2.4452], requires_grad=True)
    assert_same(x)
    assert_same(x * 2)
    assert_same(x + 1)
    assert_same((x * x).sum())
    assert_same(torch.tensor(3.0, requires_grad=True))


# --- floats --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "values",
    [
        [0.0, 0.0, 0.0],
        [1.0, 2.0, 3.0],
        [1.5, -2.25, 3.0],
        [-0.0, 1.0],
        [-0.0, 1.5],
        [-0.0, 0.0],
        [float("nan"), 1.0],
        [float("nan"), 1.5],
        [float("inf"), -float("inf"), 2.0],
        [float("inf"), -float("inf"), 2.5],
        [float("nan"), float("inf"), 0.0],
        [9.99996, 1.0],
        [99999.5, 0.5],
        [0.00009999, 1.0],
        [0.0001, 0.1],
        [1.0, 1000.0],
        [1.0, 1000.5],
        [1.0, 1001.0],
        [1e8, 1.0e8],
        [1.0000001e8, 1.0e8],
        [123456789.0],
        [1e-5],
        [1e-300, 1e300],
        [-1e-300, 1e300, -1e-200],
        [1e100, -1.5],
        [3.0],
        [-3.0],
        [0.1234567, -123.456],
    ],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_float_rules(values, dtype):
    assert_same(torch.tensor(values, dtype=torch.float64).to(dtype))


@pytest.mark.parametrize(
    "value", [3.0, -3.0, 0.0, -0.0, 0.5, 1e-7, 1e9, float("nan"), float("-inf"), 2.0**40]
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16])
def test_zero_dim(value, dtype):
    assert_same(torch.tensor(value, dtype=torch.float64).to(dtype))


def test_integer_valued_floats_print_with_dot():
    assert printing.format_tensor(np.array([1.0, -20.0]), "float32") == "tensor([  1., -20.])"
    assert printing.format_tensor(np.array(3.0), "float32") == "tensor(3.)"


def test_negative_zero():
    assert printing.format_tensor(np.array([-0.0, 1.0]), "float32") == "tensor([-0., 1.])"
    assert_same(torch.tensor([-0.0, 0.5]))
    assert_same(torch.tensor(-0.0))


def test_sci_mode_thresholds():
    assert printing.format_tensor(np.array([1e-5, 1.0]), "float32") == (
        "tensor([1.0000e-05, 1.0000e+00])"
    )
    assert printing.format_tensor(np.array([1.0, 1000.0]), "float32") == ("tensor([   1., 1000.])")
    assert printing.format_tensor(np.array([1.0, 1001.0]), "float32") == (
        "tensor([1.0000e+00, 1.0010e+03])"
    )
    for values in ([1e8], [1.01e8], [1e-4], [0.99e-4], [0.5, 500.0], [0.5, 500.5]):
        assert_same(torch.tensor(values))


# --- other dtypes --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8])
def test_integers(dtype):
    info = torch.iinfo(dtype)
    assert_same(torch.tensor([1, 2, 3], dtype=dtype))
    assert_same(torch.tensor([info.min, 0, info.max], dtype=dtype))
    assert_same(torch.tensor(info.max, dtype=dtype))
    assert_same(torch.arange(0, 100, dtype=dtype).reshape(10, 10))


def test_large_int64():
    t = torch.tensor([2**62, -(2**63), 5, 2**63 - 1])
    assert_same(t)
    assert printing.format_tensor(np.array([7, -12]), "int64") == "tensor([  7, -12])"


def test_bools():
    assert printing.format_tensor(np.array([True, False]), "bool") == "tensor([ True, False])"
    assert_same(torch.tensor([[True, False], [False, False]]))
    assert_same(torch.tensor(False))
    assert_same(torch.ones(2000, dtype=torch.bool))


@pytest.mark.parametrize("dtype", [torch.complex64, torch.complex128])
def test_complex(dtype):
    assert_same(torch.tensor([1 + 2j, -0.5 - 1j, 3j, -2], dtype=dtype))
    assert_same(torch.tensor([1 + 1j, 2 - 3j], dtype=dtype))
    assert_same(torch.tensor(complex(1.5, -0.0), dtype=dtype))
    assert_same(torch.tensor([complex(float("nan"), 1), complex(0, float("inf"))], dtype=dtype))
    assert_same(torch.tensor([1e-6 + 1j, 1e6 - 2j], dtype=dtype))
    assert_same(torch.randn(40, 30, dtype=dtype, generator=_gen()))


def test_complex_values_given_as_reals():
    got = printing.format_tensor(np.array([1.0, 2.0]), "complex64")
    assert got == repr(torch.tensor([1.0, 2.0], dtype=torch.complex64))


@pytest.mark.parametrize(
    "dtype",
    [
        torch.float32,
        torch.float64,
        torch.float16,
        torch.bfloat16,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
        torch.complex64,
        torch.complex128,
    ],
)
def test_every_dtype_suffix(dtype):
    assert_same(torch.ones(3, dtype=dtype))
    assert_same(torch.zeros(2, 2, dtype=dtype))
    assert_same(torch.ones((), dtype=dtype))
    assert_same(torch.ones(0, dtype=dtype))
    assert_same(torch.ones(2, 0, 3, dtype=dtype))


def test_float_values_rounded_into_narrow_dtypes():
    values = np.array([0.1, 1 / 3, 1234.5678], np.float64)
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        expected = repr(torch.tensor(values).to(dtype))
        assert printing.format_tensor(values, str(dtype)[6:]) == expected


def test_ml_dtypes_bfloat16_input():
    import ml_dtypes

    values = np.array([0.1, 2.5, -3.0], np.float32).astype(ml_dtypes.bfloat16)
    expected = repr(torch.tensor([0.1, 2.5, -3.0]).to(torch.bfloat16))
    assert printing.format_tensor(values, "bfloat16") == expected


# --- empty tensors and shapes --------------------------------------------------------------------


def test_empty():
    assert printing.format_tensor(np.zeros(0), "float32") == "tensor([])"
    assert printing.format_tensor(np.zeros((0, 3)), "float32") == "tensor([], size=(0, 3))"
    assert printing.format_tensor(np.zeros(0), "int64") == "tensor([], dtype=torch.int64)"
    assert_same(torch.zeros(3, 0, dtype=torch.bool, requires_grad=False))
    assert_same(torch.zeros(0, 2, 0, dtype=torch.float64))
    assert_same(torch.zeros(0, requires_grad=True))


@pytest.mark.parametrize("shape", [(5,), (2, 3), (2, 3, 4), (2, 2, 3, 2), (1, 1, 1, 1), (3, 1)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.int64, torch.float64])
def test_shapes_up_to_4d(shape, dtype):
    t = (torch.randn(shape, generator=_gen(1)) * 10).to(dtype)
    assert_same(t)


def test_nested_blank_lines():
    got = printing.format_tensor(np.arange(8).reshape(2, 2, 2), "int64")
    assert got == "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]])"


# --- wrapping, summarization, suffix placement ---------------------------------------------------


def test_line_wrapping():
    assert_same(torch.randn(30, generator=_gen(2)))
    assert_same(torch.randn(3, 25, generator=_gen(3)))
    assert_same(torch.arange(100))
    assert_same(torch.randn(2, 2, 40, generator=_gen(4), dtype=torch.float64))


def test_summarization():
    assert_same(torch.arange(2000.0))
    assert_same(torch.arange(2000))
    assert_same(torch.randn(50, 50, generator=_gen(5)))
    assert_same(torch.randn(5, 300, generator=_gen(6)))
    assert_same(torch.randn(300, 5, generator=_gen(7)))
    assert_same(torch.randn(20, 20, 20, generator=_gen(8)))
    assert_same(torch.randn(4, 7, 8, 9, generator=_gen(9)))
    assert_same(torch.arange(1001.0))
    assert_same(torch.arange(1000.0))


def test_summarized_notation_uses_shown_values_only():
    t = torch.ones(2000)
    t[1000] = 1e-8  # hidden by the summary, so no scientific notation
    assert_same(t)
    assert compat_repr(t) == "tensor([1., 1., 1.,  ..., 1., 1., 1.])"


def test_suffixes_wrap_when_they_do_not_fit():
    t = torch.randn(4, generator=_gen(10), dtype=torch.float64, requires_grad=True)
    assert_same(t)
    assert_same(t * 3)
    assert_same(torch.randn(1, 9, generator=_gen(11), dtype=torch.float64, requires_grad=True))
    assert_same(torch.arange(9.0, dtype=torch.float16).requires_grad_())
    long_name = "BinaryCrossEntropyWithLogitsBackward0"
    got = printing.format_tensor(np.array([1.5] * 6), "float64", grad_fn_name=long_name)
    assert got == (
        "tensor([1.5000, 1.5000, 1.5000, 1.5000, 1.5000, 1.5000], dtype=torch.float64,\n"
        "       grad_fn=<BinaryCrossEntropyWithLogitsBackward0>)"
    )


def test_grad_fn_wins_over_requires_grad():
    got = printing.format_tensor(
        np.array(28.0), "float32", requires_grad=True, grad_fn_name="MulBackward0"
    )
    assert got == "tensor(28., grad_fn=<MulBackward0>)"


def test_custom_prefix():
    got = printing.format_tensor(np.eye(2), "float32", prefix="Tensor(")
    assert got == "Tensor([[1., 0.],\n        [0., 1.]])"
    nested = printing.format_tensor(np.arange(3.0), "float32", prefix="nested_tensor(")
    assert nested == "nested_tensor([0., 1., 2.])"


def test_default_dtype_float64():
    assert printing.format_tensor(np.ones(2), "float64", default_dtype="float64") == (
        "tensor([1., 1.])"
    )
    assert printing.format_tensor(np.ones(2), "float32", default_dtype="float64") == (
        "tensor([1., 1.], dtype=torch.float32)"
    )
    assert printing.format_tensor(np.ones(1), "complex128", default_dtype="float64") == (
        "tensor([1.+0.j])"
    )


# --- print options -------------------------------------------------------------------------------


def test_defaults_match_torch():
    assert printing.get_printoptions() == _TORCH_DEFAULTS


@pytest.mark.parametrize(
    "options",
    [
        {"precision": 2},
        {"precision": 0},
        {"precision": 8},
        {"sci_mode": True},
        {"sci_mode": False},
        {"threshold": 10},
        {"threshold": 0},
        {"edgeitems": 1, "threshold": 5},
        {"edgeitems": 0},
        {"edgeitems": 0, "threshold": 5},
        {"linewidth": 20},
        {"linewidth": 200},
        {"profile": "short"},
        {"profile": "full"},
        {"profile": "short", "precision": 6},
    ],
)
def test_options_match_torch(options):
    tensors = [
        torch.randn(30, generator=_gen(12)),
        torch.randn(6, 7, generator=_gen(13)) * 1000,
        torch.arange(2000.0),
        torch.arange(2000).reshape(40, 50),
        torch.tensor([1e-5, 1.0, 0.0, float("nan")]),
        torch.tensor([0.0, 0.0]),
        torch.tensor([1.0, 2.0, 3.0]),
        torch.tensor(3.25, requires_grad=True),
        torch.tensor([1 + 2j, 3 - 4j]),
        torch.zeros(0, 3),
    ]
    with both_options(**options):
        assert printing.get_printoptions() == torch._tensor_str.get_printoptions()
        for t in tensors:
            assert_same(t)
    assert printing.get_printoptions() == _TORCH_DEFAULTS


def test_set_printoptions_semantics(restore_printoptions):
    printing.set_printoptions(profile="full")
    assert printing.get_printoptions()["threshold"] == math.inf
    printing.set_printoptions(sci_mode=True)
    printing.set_printoptions(precision=3)
    # As in torch, every call assigns sci_mode, so leaving it out resets it.
    assert printing.get_printoptions() == {
        "precision": 3,
        "threshold": math.inf,
        "edgeitems": 3,
        "linewidth": 80,
        "sci_mode": None,
    }
    printing.set_printoptions(profile="no-such-profile")
    assert printing.get_printoptions()["precision"] == 3
    printing.set_printoptions(profile="default")
    assert printing.get_printoptions() == _TORCH_DEFAULTS


def test_printoptions_context_manager_restores():
    with printing.printoptions(precision=1, linewidth=40):
        assert printing.format_tensor(np.array(0.25), "float32") == "tensor(0.2)"
        assert printing.get_printoptions()["linewidth"] == 40
    assert printing.get_printoptions() == _TORCH_DEFAULTS
    with pytest.raises(RuntimeError, match="boom"):
        with printing.printoptions(precision=1):
            raise RuntimeError("boom")
    assert printing.get_printoptions() == _TORCH_DEFAULTS


# --- helpers -------------------------------------------------------------------------------------


def test_format_size():
    assert printing.format_size((2, 3)) == repr(torch.Size([2, 3]))
    assert printing.format_size(()) == repr(torch.Size([]))
    assert printing.format_size([5]) == repr(torch.Size([5]))
    assert printing.format_size(np.array([4, 0, 1])) == repr(torch.Size([4, 0, 1]))


def test_dtype_repr():
    for name in ("float32", "float64", "bfloat16", "int64", "bool", "complex64", "uint8"):
        assert printing.dtype_repr(name) == repr(getattr(torch, name))
    assert printing.dtype_repr("double") == repr(torch.double)
    assert printing.dtype_repr("torch.long") == repr(torch.long)


def test_unknown_dtype_is_rejected():
    with pytest.raises(ValueError, match="Unsupported dtype name 'float8'"):
        printing.dtype_repr("float8")
    with pytest.raises(ValueError, match="Unsupported dtype name 'string'"):
        printing.format_tensor(np.zeros(2), "string")


# --- property tests ------------------------------------------------------------------------------

_NUMPY_DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "float16": np.float16,
    "bfloat16": np.float32,  # rounded into bfloat16 by both sides
    "int64": np.int64,
    "int16": np.int16,
    "int32": np.int32,
    "int8": np.int8,
    "uint8": np.uint8,
    "bool": np.bool_,
    "complex64": np.complex64,
    "complex128": np.complex128,
}


@st.composite
def _float_elements(draw: st.DrawFn, width: int) -> float:
    """Floats of mixed magnitudes, exactly representable at ``width`` bits."""
    half = width == 16
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(st.floats(width=width))  # any value, nan and inf included
    if kind == 1:
        return draw(st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-4, 1000.0, 1e4 if half else 1e8]))
    if kind <= 3:
        bound = 60_000 if half else 100_000
        return float(draw(st.integers(-bound, bound)))
    mantissa = draw(st.floats(-10, 10, width=width))
    exponent = draw(st.integers(-6, 3) if half else st.integers(-12, 12))
    return float(np.dtype(f"float{width}").type(mantissa * 10.0**exponent))


@st.composite
def _arrays(draw: st.DrawFn) -> tuple[np.ndarray, str]:
    name = draw(st.sampled_from(sorted(_NUMPY_DTYPES)))
    dtype = np.dtype(_NUMPY_DTYPES[name])
    ndim = draw(st.integers(0, 3))
    big = draw(st.booleans()) and ndim > 0
    side = st.integers(0, 14) if big else st.integers(0, 5)
    shape = tuple(draw(side) for _ in range(ndim))
    if name.startswith("float") or name.startswith("complex"):
        width = {"float16": 16, "float64": 64}.get(name, 32)
        elements = _float_elements(width)
        if name.startswith("complex"):
            elements = st.builds(complex, elements, elements)
    else:
        elements = None
    arr = draw(hnp.arrays(dtype, shape, elements=elements))
    return arr, name


@st.composite
def _options(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.integers(0, 3)):
        return {}
    return {
        "precision": draw(st.integers(0, 8)),
        "threshold": draw(st.sampled_from([0, 5, 30, 1000])),
        "edgeitems": draw(st.integers(0, 4)),
        "linewidth": draw(st.integers(10, 120)),
        "sci_mode": draw(st.sampled_from([None, True, False])),
    }


def _check_against_torch(case: tuple[np.ndarray, str], options: dict[str, Any]) -> None:
    arr, name = case
    with both_options(**options):
        tensor = torch.from_numpy(arr)
        if name == "bfloat16":
            tensor = tensor.to(torch.bfloat16)
        expected = repr(tensor)
        got = printing.format_tensor(arr, name)
    assert got == expected, f"\noptions={options}\ntorch:\n{expected}\ncompat:\n{got}"


@settings(max_examples=200, deadline=None)
@given(_arrays(), _options())
def test_random_arrays_match_torch(case, options):
    _check_against_torch(case, options)


@pytest.mark.slow
@settings(max_examples=5000, deadline=None)
@given(_arrays(), _options())
def test_random_arrays_match_torch_many(case, options):
    _check_against_torch(case, options)
