"""Shared test helpers for comparing compat (and funcgrad) against live torch.

`require_torch()` imports torch for a test module: it skips the module where torch is missing,
except on CI (env var `CI` set), where a missing torch is a broken environment and fails.

The parity helpers run one piece of code twice, once with `torch` and once with `compat` passed
in as the module, and compare what came back: tensors by repr, dtype, shape, `requires_grad`,
`is_leaf`, `grad_fn` chain and values; exceptions by class and message; warnings by class and
message. They never import torch themselves.

Example:
    >>> torch = require_torch()
    >>> def case(T):
    ...     x = T.arange(3.0, requires_grad=True)
    ...     (x * x).sum().backward()
    ...     return x.grad
    >>> assert_parity(case, torch)
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

_TRIGGERED = re.compile(r"\s*\(Triggered internally at [^\n]*\)\s*$")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def require_torch():
    """Imports and returns torch; skips the calling module if torch is missing (fails on CI).

    Call it at module level, before anything else that needs torch:

        torch = require_torch()
    """
    try:
        import torch
    except ImportError:
        if os.environ.get("CI"):
            raise
        pytest.skip("torch is not installed", allow_module_level=True)
    return torch


def compat_module():
    """The `compat` package (imported lazily so collection errors point at the test)."""
    import compat

    return compat


def warning_text(message: Any) -> str:
    """A warning's text without torch's C++ "(Triggered internally at ...)" suffix."""
    return _TRIGGERED.sub("", str(message))


def mask_addresses(text: str) -> str:
    """Replaces object addresses (`0x7f...`) with `0x?`."""
    return _ADDRESS.sub("0x?", text)


class Raised:
    """What a failed call raised: the exception's class name and message."""

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc
        self.kind = type(exc).__name__
        self.message = str(exc)

    def __repr__(self) -> str:
        return f"Raised({self.kind}: {self.message!r})"


def attempt(fn: Callable[[], Any]) -> Any:
    """Calls `fn()`; returns its result or a `Raised` describing the exception."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the exception is the result under test
        return Raised(e)


def _is_tensor(obj) -> bool:
    return hasattr(obj, "grad_fn") and hasattr(obj, "requires_grad") and hasattr(obj, "dim")


def _is_node(obj) -> bool:
    return hasattr(obj, "next_functions") or type(obj).__name__ == "AccumulateGrad"


def values_only(obj):
    """`obj` with every tensor replaced by (its values, its requires_grad): for results whose
    graphs are torch-internal (double-backward formulas) and whose last printed digit may
    differ by float32 rounding."""
    if _is_tensor(obj):
        return (tensor_values(obj), obj.requires_grad)
    if isinstance(obj, (list, tuple)):
        return tuple(values_only(x) for x in obj)
    return obj


def tensor_values(t) -> np.ndarray:
    """A tensor's values as a NumPy array (detached, float64 for floating dtypes)."""
    arr = np.asarray(t.detach().numpy())
    return arr.astype(np.float64) if arr.dtype.kind in "fc" else arr


def node_summary(node, depth: int = 6):
    """`grad_fn` as nested (name, next_functions) tuples, `depth` levels deep."""
    if node is None:
        return None
    name = type(node).__name__
    if depth == 0 or name == "AccumulateGrad":
        if name == "AccumulateGrad":
            return (name, tuple(node.variable.shape))
        return (name, "...")
    return (name, tuple((node_summary(n, depth - 1), nr) for n, nr in node.next_functions))


def summarize(obj):
    """A library-independent description of `obj` for comparing torch's result with compat's."""
    if isinstance(obj, Raised):
        return ("raises", obj.kind, obj.message)
    if _is_tensor(obj):
        return {
            "repr": mask_addresses(repr(obj)),
            "dtype": str(obj.dtype),
            "shape": tuple(obj.shape),
            "requires_grad": obj.requires_grad,
            "is_leaf": obj.is_leaf,
            "grad_fn": node_summary(obj.grad_fn),
            "values": tensor_values(obj),
        }
    if _is_node(obj):
        return ("node", node_summary(obj), mask_addresses(repr(obj)))
    if isinstance(obj, np.ndarray):
        return (
            "ndarray",
            str(obj.dtype),
            obj.shape,
            obj.astype(np.float64) if obj.dtype.kind in "fc" else obj,
        )
    if isinstance(obj, (list, tuple)):
        kind = type(obj).__name__
        if kind not in ("list", "tuple"):  # torch.Size and friends
            return (kind, repr(obj), tuple(summarize(x) for x in obj))
        return (kind, tuple(summarize(x) for x in obj))
    if isinstance(obj, dict):
        return {k: summarize(v) for k, v in obj.items()}
    if isinstance(obj, (bool, int, float, complex, str, type(None))):
        return obj
    if type(obj).__name__ in ("dtype", "device"):
        return (type(obj).__name__, str(obj), repr(obj))
    return ("object", mask_addresses(repr(obj)))


def assert_same_summary(expected, actual, path: str = "result") -> None:
    """Asserts two `summarize` results are equal; floats and arrays to within float32 rounding."""
    if isinstance(expected, np.ndarray) or isinstance(actual, np.ndarray):
        e, a = np.asarray(expected), np.asarray(actual)
        assert e.shape == a.shape, f"{path}: shape {a.shape} != torch's {e.shape}"
        if e.dtype.kind in "fc" or a.dtype.kind in "fc":
            np.testing.assert_allclose(
                a,
                e,
                rtol=1e-5,
                atol=1e-6,
                equal_nan=True,
                err_msg=f"{path}: values differ from torch's",
            )
        else:
            np.testing.assert_array_equal(a, e, err_msg=f"{path}: values differ from torch's")
        return
    if isinstance(expected, dict) and isinstance(actual, dict):
        assert expected.keys() == actual.keys(), (
            f"{path}: keys {actual.keys()} != {expected.keys()}"
        )
        for k in expected:
            assert_same_summary(expected[k], actual[k], f"{path}.{k}")
        return
    if isinstance(expected, tuple) and isinstance(actual, tuple):
        assert len(expected) == len(actual), f"{path}: {actual!r} != torch's {expected!r}"
        for i, (e, a) in enumerate(zip(expected, actual, strict=True)):
            assert_same_summary(e, a, f"{path}[{i}]")
        return
    if isinstance(expected, float) and isinstance(actual, float):
        assert actual == pytest.approx(expected, rel=1e-5, abs=1e-6, nan_ok=True), (
            f"{path}: {actual!r} != torch's {expected!r}"
        )
        return
    assert type(expected) is type(actual) and expected == actual, (
        f"{path}: compat gave {actual!r}, torch gave {expected!r}"
    )


# Warnings torch emits once per process (TORCH_WARN_ONCE): whether one shows up in a given case
# depends on what ran before, so parity ignores them (tests pin them separately).
WARN_ONCE = ("Using backward() with create_graph=True",)


def run_recorded(fn: Callable[[], Any]) -> tuple[Any, list[tuple[str, str]]]:
    """Runs `fn()` recording every warning; returns (result or Raised, [(class, text)])."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = attempt(fn)
    return result, [
        (w.category.__name__, warning_text(w.message))
        for w in caught
        if not str(w.message).startswith(WARN_ONCE)
    ]


def parity(case: Callable[[Any], Any], torch) -> tuple[Any, Any]:
    """Runs `case(torch)` and `case(compat)`; asserts results and warnings match; returns the
    two raw results (torch's, compat's) for further checks."""
    compat = compat_module()
    torch.manual_seed(0)
    expected, expected_warnings = run_recorded(lambda: case(torch))
    compat.manual_seed(0)
    actual, actual_warnings = run_recorded(lambda: case(compat))
    if isinstance(actual, Raised) and not isinstance(expected, Raised):
        raise AssertionError(f"compat raised where torch did not: {actual}") from actual.exc
    assert_same_summary(summarize(expected), summarize(actual))
    assert actual_warnings == expected_warnings, (
        f"warnings: compat {actual_warnings!r} != torch {expected_warnings!r}"
    )
    return expected, actual


def assert_parity(case: Callable[[Any], Any], torch) -> None:
    """Asserts `case` gives the same result and warnings with torch and with compat."""
    parity(case, torch)


def state_of(*tensors) -> list:
    """What a failed call must leave untouched: each tensor's values, version, and (for leaves
    and tensors retaining grad) its `.grad` object and values."""
    out = []
    for t in tensors:
        entry = [tensor_values(t).copy(), t._version]
        if t.is_leaf or t.retains_grad:
            g = t.grad
            entry += [
                id(g),
                None if g is None else tensor_values(g).copy(),
                None if g is None else g._version,
            ]
        out.append(entry)
    return out


def fails_cleanly(fn: Callable[[], Any], *tensors) -> Raised:
    """Calls `fn()`, which must raise, and asserts that `tensors` lost nothing (values,
    versions, `.grad` identity and values). Returns the `Raised` for comparison with torch."""
    before = state_of(*tensors)
    result = attempt(fn)
    assert isinstance(result, Raised), f"expected an error, got {result!r}"
    after = state_of(*tensors)
    assert len(before) == len(after)
    for i, (b, a) in enumerate(zip(before, after, strict=True)):
        assert len(b) == len(a), f"tensor {i}: state changed shape"
        for x, y in zip(b, a, strict=True):
            if isinstance(x, np.ndarray):
                np.testing.assert_array_equal(y, x, err_msg=f"tensor {i} changed by the failure")
            else:
                assert x == y, f"tensor {i} changed by the failed call: {b!r} -> {a!r}"
    return result
