"""Shared pieces of the seed examples: the result row, comparisons, and the printed table."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

from funcgrad.testing import to_numpy

# Torch and XLA may sum in different orders; float32 results then differ in the last bits.
TORCH_RTOL = 1e-5
TORCH_ATOL = 1e-5


@dataclasses.dataclass(frozen=True)
class Row:
    """One checked quantity of one seed example.

    Attributes:
      seed: Seed document number, e.g. ``"003"``.
      example: Which example of the document (a short name).
      quantity: What was computed, e.g. ``"grad x"``.
      value: The funcgrad result (NumPy array, number or bool), computed under ``jax.jit``.
      expected: Closed-form reference computed independently (hand derivative), or None.
      documented: The number the seed document prints, transcribed, or None.
      torch: The same quantity computed live by torch, or None.
      ok: Whether ``value`` matches every reference that is present.
      rtol: Relative tolerance for ``expected``/``documented``.
      atol: Absolute tolerance, e.g. the rounding of inputs the seed prints with 4 decimals.
      note: Optional remark (why a tolerance, what the seed shows).
    """

    seed: str
    example: str
    quantity: str
    value: Any
    expected: Any = None
    documented: Any = None
    torch: Any = None
    ok: bool = False
    rtol: float = 1e-6
    atol: float = 1e-6
    note: str = ""


def close(value: Any, reference: Any, rtol: float, atol: float) -> bool:
    """Element-wise closeness of two array-likes with equal shapes (bools compared exactly)."""
    a, b = np.asarray(to_numpy(value)), np.asarray(to_numpy(reference))
    if a.shape != b.shape:
        return False
    if a.dtype == bool or b.dtype == bool or a.dtype.kind in "OUS":
        return bool(np.array_equal(a, b))
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def row(
    seed: str,
    example: str,
    quantity: str,
    value: Any,
    *,
    expected: Any = None,
    documented: Any = None,
    rtol: float = 1e-6,
    atol: float = 1e-6,
    note: str = "",
) -> Row:
    """Builds a Row, checking ``value`` against the closed form and the documented number."""
    if expected is None and documented is None:
        raise ValueError(f"{seed}/{example}/{quantity}: a row needs a reference to check.")
    value = to_numpy(value)
    ok = all(
        close(value, reference, rtol, atol)
        for reference in (expected, documented)
        if reference is not None
    )
    return Row(
        seed, example, quantity, value,
        expected=None if expected is None else to_numpy(expected),
        documented=None if documented is None else to_numpy(documented),
        ok=ok, rtol=rtol, atol=atol, note=note,
    )  # fmt: skip


def with_torch(rows: Iterable[Row], torch_values: Mapping[tuple[str, str], Any]) -> list[Row]:
    """Fills in the torch column; a row is then ok only if it also matches torch."""
    merged = []
    for r in rows:
        key = (r.example, r.quantity)
        if key not in torch_values:
            merged.append(r)
            continue
        reference = to_numpy(torch_values[key])
        ok = r.ok and close(r.value, reference, TORCH_RTOL, TORCH_ATOL)
        merged.append(dataclasses.replace(r, torch=reference, ok=ok))
    return merged


def torch_available() -> bool:
    """Whether ``import torch`` works here (torch is optional for the examples)."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def _number(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    number = float(v)
    return f"{number:.6g}" if math.isfinite(number) else str(number)


def _nested(array: np.ndarray) -> str:
    if array.ndim == 0:
        return _number(array.item())
    return "[" + ", ".join(_nested(sub) for sub in array) + "]"


def fmt(value: Any, width: int = 30) -> str:
    """Compact one-line rendering of a value for the table (numbers in %g form)."""
    if value is None:
        return "-"
    array = np.asarray(value)
    text = _nested(array) if array.dtype.kind in "biuf" else str(value)
    return text if len(text) <= width else text[: width - 3] + "..."


_COLUMNS = ("seed", "example", "quantity", "funcgrad", "closed form", "documented", "torch", "ok")
_WIDTHS = (4, 22, 28, 30, 30, 30, 30, 4)


def format_table(rows: Iterable[Row]) -> str:
    """The rows as a fixed-width text table."""
    lines = ["  ".join(name.ljust(w) for name, w in zip(_COLUMNS, _WIDTHS, strict=True))]
    lines.append("  ".join("-" * w for w in _WIDTHS))
    for r in rows:
        cells = (
            r.seed,
            fmt(r.example, _WIDTHS[1]),
            fmt(r.quantity, _WIDTHS[2]),
            fmt(r.value, _WIDTHS[3]),
            fmt(r.expected, _WIDTHS[4]),
            fmt(r.documented, _WIDTHS[5]),
            fmt(r.torch, _WIDTHS[6]),
            "ok" if r.ok else "FAIL",
        )
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, _WIDTHS, strict=True)).rstrip())
    return "\n".join(lines)


def main(run: Callable[[], list[Row]], torch_reference: Callable[[], dict]) -> int:
    """Runs one example module on its own: prints its table, returns the exit status."""
    rows = run()
    if torch_available():
        rows = with_torch(rows, torch_reference())
    print(format_table(rows))
    failed = [r for r in rows if not r.ok]
    print(f"\n{len(rows) - len(failed)} of {len(rows)} rows ok")
    return 1 if failed else 0
