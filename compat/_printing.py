"""Torch's exact tensor ``repr``, reproduced on NumPy arrays.

Tutorial output is compared verbatim with torch's, so this module follows the rules of
``torch/_tensor_str.py`` (torch 2.13) to the character: precision, integer-valued floats printed
as ``1.``, the automatic switch to scientific notation, column alignment, line wrapping at
``linewidth``, summarization with ``...``, and the ``dtype=``/``grad_fn=``/``requires_grad=``
suffixes. It works on NumPy arrays only, so it depends on nothing else in compat.

Performance: the per-element work that torch does in Python (finding the widest element, the
integer check, the notation choice) is done here with NumPy; only the elements actually shown
are formatted in Python, and a summarized tensor is cut down to its edges first.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

__all__ = [
    "dtype_repr",
    "format_size",
    "format_tensor",
    "get_printoptions",
    "printoptions",
    "set_printoptions",
]

# Torch's defaults; "short" and "full" are the other two profiles.
_PROFILES: dict[str, dict[str, Any]] = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

# Key order matches torch.get_printoptions().
_OPTS: dict[str, Any] = {**_PROFILES["default"], "sci_mode": None}

_FLOAT_DTYPES = ("float16", "bfloat16", "float32", "float64")
_COMPLEX_DTYPES = ("complex64", "complex128")
_INT_DTYPES = ("uint8", "int8", "int16", "int32", "int64")

# Torch's alternative spellings (torch.float is torch.float32, ...); repr uses the canonical one.
_DTYPE_ALIASES = {
    "float": "float32",
    "double": "float64",
    "half": "float16",
    "cfloat": "complex64",
    "cdouble": "complex128",
    "long": "int64",
    "int": "int32",
    "short": "int16",
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Sets the options used by :func:`format_tensor`; mirrors ``torch.set_printoptions``.

    As in torch, ``profile`` (``"default"``, ``"short"`` or ``"full"``) is applied first and the
    other arguments override it; an unknown profile is ignored; and ``sci_mode`` is always
    assigned, so any call without it goes back to the automatic choice.

    Args:
        precision: Digits after the decimal point (torch's default 4).
        threshold: Element count above which tensors are summarized with ``...`` (1000).
        edgeitems: Items kept at each end of every summarized dimension (3).
        linewidth: Characters per line before elements wrap (80).
        profile: A named set of the four options above.
        sci_mode: ``True``/``False`` forces scientific/fixed notation; ``None`` picks one
            from the values.

    Example:
        >>> set_printoptions(precision=2)
        >>> format_tensor(np.array([1.12345], np.float32), "float32")
        'tensor([1.12])'
        >>> set_printoptions(profile="default")
    """
    if profile is not None and profile in _PROFILES:
        _OPTS.update(_PROFILES[profile])
    if precision is not None:
        _OPTS["precision"] = precision
    if threshold is not None:
        _OPTS["threshold"] = threshold
    if edgeitems is not None:
        _OPTS["edgeitems"] = edgeitems
    if linewidth is not None:
        _OPTS["linewidth"] = linewidth
    _OPTS["sci_mode"] = sci_mode


def get_printoptions() -> dict[str, Any]:
    """Returns the current print options; mirrors ``torch._tensor_str.get_printoptions``.

    The dictionary can be passed back as ``set_printoptions(**options)``.

    Example:
        >>> get_printoptions()["precision"]
        4
    """
    return dict(_OPTS)


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Temporarily changes the print options; mirrors ``torch._tensor_str.printoptions``.

    Args:
        **kwargs: Any arguments of :func:`set_printoptions`.

    Example:
        >>> with printoptions(precision=1):
        ...     format_tensor(np.array(0.25, np.float32), "float32")
        'tensor(0.2)'
    """
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


def _canonical_dtype(name: str) -> str:
    name = name.removeprefix("torch.")
    name = _DTYPE_ALIASES.get(name, name)
    if name == "bool" or name in _FLOAT_DTYPES + _COMPLEX_DTYPES + _INT_DTYPES:
        return name
    raise ValueError(
        f"Unsupported dtype name {name!r}; expected one of torch's names without 'torch.': "
        f"{', '.join(_FLOAT_DTYPES + _COMPLEX_DTYPES + _INT_DTYPES + ('bool',))}."
    )


def dtype_repr(name: str) -> str:
    """Returns the ``repr`` of the torch dtype called ``name``, e.g. ``torch.float32``.

    Aliases such as ``"double"`` or ``"long"`` print under their canonical name, as in torch.

    Args:
        name: The dtype's name, with or without the ``torch.`` prefix.

    Raises:
        ValueError: If ``name`` is not a dtype compat supports.

    Example:
        >>> dtype_repr("double")
        'torch.float64'
    """
    return "torch." + _canonical_dtype(name)


def format_size(shape: Sequence[int]) -> str:
    """Returns the ``repr`` of ``torch.Size(shape)``.

    Args:
        shape: The dimensions.

    Example:
        >>> format_size((2, 3))
        'torch.Size([2, 3])'
    """
    return "torch.Size([" + ", ".join(str(int(d)) for d in shape) + "])"


def _as_dtype(values: np.ndarray, name: str) -> np.ndarray:
    """Returns ``values`` holding exactly what a torch tensor of dtype ``name`` would hold."""
    arr = np.asarray(values)
    if name == "bfloat16":
        if arr.dtype.name != "bfloat16":
            import ml_dtypes  # a dependency of jax; only needed to round into bfloat16

            arr = arr.astype(ml_dtypes.bfloat16)
        return arr
    target = np.dtype(name)
    return arr if arr.dtype == target else arr.astype(target)


def _edge_indices(size: int, edgeitems: int) -> np.ndarray:
    """Indices torch keeps along a dimension of ``size`` when summarizing."""
    if size > 2 * edgeitems:
        return np.r_[0:edgeitems, size - edgeitems : size]
    return np.arange(size)


class _FloatFormat:
    """How torch prints the elements of one real floating tensor (its ``_Formatter``)."""

    def __init__(self, shown: np.ndarray, precision: int, sci_mode: bool | None) -> None:
        self.precision = precision
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = shown.ravel()
        # Only nonzero finite values take part in the choice of notation and width.
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if vals.size == 0:
            return
        self.int_mode = bool(np.all(vals == np.ceil(vals)))
        mags = np.abs(vals)
        lo = float(mags.min())
        hi = float(mags.max())
        if sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = bool(sci_mode)
        # Torch formats every value to find the widest. Within one sign, fixed-point length grows
        # with |value| and the exponent's digit count grows with its distance from 1, so the
        # smallest and largest value of each sign are the only candidates.
        pos = vals[vals > 0]
        neg = vals[vals < 0]
        extremes = []
        for part in (pos, neg):
            if part.size:
                extremes += [float(part.min()), float(part.max())]
        if self.sci_mode:
            self.width = max(len(f"{v:.{precision}e}") for v in extremes)
        elif self.int_mode:
            self.width = max(len(f"{v:.0f}") + 1 for v in extremes)
        else:
            self.width = max(len(f"{v:.{precision}f}") for v in extremes)
        self.width = max(self.width, 1)

    def format(self, values: list[float]) -> list[str]:
        """Returns the strings for ``values``, right-aligned to the common width."""
        w = self.width
        if self.sci_mode:
            spec = f"{{:>{w}.{self.precision}e}}".format
            return [spec(v) for v in values]
        if self.int_mode:
            # Integer-valued floats print as "3."; nan and inf get no trailing dot.
            spec = f"{{:>{w - 1}.0f}}.".format
            plain = f"{{:>{w}.0f}}".format
            return [spec(v) if math.isfinite(v) else plain(v) for v in values]
        spec = f"{{:>{w}.{self.precision}f}}".format
        return [spec(v) for v in values]


def _element_strings(shown: np.ndarray, kind: str, opts: dict[str, Any]) -> tuple[list[str], int]:
    """Formats every element of ``shown`` (row-major) and returns them with the element width.

    The width is the one torch uses to decide how many elements fit on a line: the formatter's
    width for real tensors, both formatters' widths plus one for the ``j`` for complex ones.
    """
    precision = opts["precision"]
    sci_mode = opts["sci_mode"]
    if kind == "bool":
        flat = shown.ravel()
        width = 1 if flat.size == 0 else (5 if not flat.all() else 4)
        return [str(v).rjust(width) for v in flat.tolist()], width
    if kind == "int":
        flat = shown.ravel()
        width = 1
        if flat.size:
            width = max(1, len(str(flat.max())), len(str(flat.min())))
        spec = f"{{:>{width}}}".format
        return [spec(v) for v in flat.tolist()], width
    if kind == "float":
        flat = shown.astype(np.float64).ravel()
        fmt = _FloatFormat(flat, precision, sci_mode)
        return fmt.format(flat.tolist()), fmt.width
    real = shown.real.astype(np.float64).ravel()
    imag = shown.imag.astype(np.float64).ravel()
    real_fmt = _FloatFormat(real, precision, sci_mode)
    imag_fmt = _FloatFormat(imag, precision, sci_mode)
    out = []
    real_strs = real_fmt.format(real.tolist())
    imag_strs = imag_fmt.format(imag.tolist())
    for re_s, im_s in zip(real_strs, imag_strs, strict=True):
        im_s = (im_s + "j").lstrip()
        # A sign already present (negative numbers, -0.) doubles as the separator.
        out.append(re_s + im_s if im_s[0] in "+-" else re_s + "+" + im_s)
    return out, real_fmt.width + imag_fmt.width + 1


def _vector(items: list[str], cut: bool, indent: int, width: int, opts: dict[str, Any]) -> str:
    edge = opts["edgeitems"]
    if cut:
        items = items[:edge] + [" ..."] + items[edge:]
    # Each element takes its width plus ", ".
    per_line = max(1, math.floor((opts["linewidth"] - indent) / (width + 2)))
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(
    cells: np.ndarray,
    cuts: tuple[bool, ...],
    indent: int,
    width: int,
    opts: dict[str, Any],
) -> str:
    if cells.ndim == 1:
        return _vector(cells.tolist(), cuts[0], indent, width, opts)
    parts = [_nested(sub, cuts[1:], indent + 1, width, opts) for sub in cells]
    if cuts[0]:
        edge = opts["edgeitems"]
        parts = parts[:edge] + ["..."] + parts[edge:]
    # Sub-tensors of a k-D tensor are separated by k-2 blank lines.
    sep = "," + "\n" * (cells.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(parts) + "]"


def _body(arr: np.ndarray, kind: str, indent: int, opts: dict[str, Any]) -> str:
    """The bracketed contents of a non-empty tensor, as torch's ``_tensor_str`` writes them."""
    summarize = arr.size > opts["threshold"]
    edge = opts["edgeitems"]
    if arr.ndim == 0:
        strs, _ = _element_strings(arr, kind, opts)
        return strs[0]
    if summarize and not edge:
        return "[...]"
    if summarize:
        # Keep only the elements that will be shown; torch picks the notation and width
        # from these alone.
        shown = arr[np.ix_(*[_edge_indices(n, edge) for n in arr.shape])]
        cuts = tuple(n > 2 * edge for n in arr.shape)
    else:
        shown = arr
        cuts = (False,) * arr.ndim
    strs, width = _element_strings(shown, kind, opts)
    cells = np.empty(len(strs), dtype=object)
    cells[:] = strs
    return _nested(cells.reshape(shown.shape), cuts, indent, width, opts)


def _add_suffixes(text: str, suffixes: list[str], indent: int, linewidth: float) -> str:
    # Torch's measure of the last line (two more than its length when there is no newline).
    last_len = len(text) - text.rfind("\n") + 1
    pieces = [text]
    for suffix in suffixes:
        if last_len + len(suffix) + 2 > linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            last_len = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            last_len += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)


def format_tensor(
    values: np.ndarray,
    dtype_name: str,
    *,
    requires_grad: bool = False,
    grad_fn_name: str | None = None,
    prefix: str = "tensor(",
    default_dtype: str = "float32",
) -> str:
    """Returns exactly what ``repr`` gives for a CPU torch tensor holding ``values``.

    Mirrors ``torch.Tensor.__repr__`` (``torch/_tensor_str.py``) under the current
    :func:`set_printoptions` options, for strided CPU tensors.

    Args:
        values: The tensor's elements; they are converted to ``dtype_name`` first (rounded into
            bfloat16 or float16 if given wider floats).
        dtype_name: Torch's dtype name without ``torch.``, e.g. ``"float32"``, ``"int64"``,
            ``"bool"``, ``"bfloat16"``, ``"complex64"``.
        requires_grad: Adds ``requires_grad=True`` when there is no ``grad_fn_name``.
        grad_fn_name: Name of the tensor's ``grad_fn`` node, e.g. ``"MulBackward0"``; adds
            ``grad_fn=<MulBackward0>``.
        prefix: The text before the contents; its length sets the indentation.
        default_dtype: What ``torch.get_default_dtype()`` would return; tensors of this dtype
            (and of its complex counterpart, int64 and bool) print without ``dtype=``.

    Returns:
        The ``repr`` string.

    Raises:
        ValueError: If ``dtype_name`` or ``default_dtype`` is not a supported dtype.

    Example:
        >>> format_tensor(np.array([0.0, 4.0, 8.0, 12.0]), "float32")
        'tensor([ 0.,  4.,  8., 12.])'
        >>> format_tensor(np.array(1989.2413), "float32", grad_fn_name="MulBackward0")
        'tensor(1989.2413, grad_fn=<MulBackward0>)'
    """
    name = _canonical_dtype(dtype_name)
    default = _canonical_dtype(default_dtype)
    opts = _OPTS
    arr = _as_dtype(values, name)
    if name == "bool":
        kind = "bool"
    elif name in _INT_DTYPES:
        kind = "int"
    elif name in _COMPLEX_DTYPES:
        kind = "complex"
    else:
        kind = "float"
    indent = len(prefix)
    shape = "(" + ", ".join(str(int(d)) for d in arr.shape) + ("," if arr.ndim == 1 else "") + ")"
    suffixes = []
    if arr.size == 0:
        # Torch shows the shape unless it is (0,), and the dtype unless it is the default
        # (with no elements, nothing hints at an integer dtype).
        if arr.ndim != 1:
            suffixes.append("size=" + shape)
        if name != default:
            suffixes.append("dtype=torch." + name)
        body = "[]"
    else:
        if not opts["edgeitems"]:
            suffixes.append("size=" + shape)
        default_complex = "complex128" if default == "float64" else "complex64"
        if name not in (default, default_complex, "int64", "bool"):
            suffixes.append("dtype=torch." + name)
        body = _body(arr, kind, indent, opts)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent, opts["linewidth"])
