"""Runs a script or a notebook under `as_torch()` (the engine of `python -m compat`)."""

from __future__ import annotations

import ast
import io
import json
import os
import runpy
import sys
import tokenize
import traceback

from ._as_torch import as_torch


def run_path(path: str, args: list[str]) -> int:
    if not os.path.exists(path):
        print(f"compat: no such file: {path}", file=sys.stderr)
        return 2
    if path.endswith(".ipynb"):
        return run_notebook(path)
    old_argv = sys.argv
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        with as_torch():
            runpy.run_path(path, run_name="__main__")
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    finally:
        sys.argv = old_argv
        sys.path.pop(0)
    return 0


def _cells(path: str) -> list[str]:
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    out = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        out.append("".join(src) if isinstance(src, list) else src)
    return out


def _strip_magics(src: str) -> tuple[str, list[str]]:
    kept, skipped = [], []
    for line in src.splitlines():
        s = line.lstrip()
        if s.startswith(("%", "!")):
            skipped.append(s)
            kept.append(line[: len(line) - len(s)] + "pass")
        else:
            kept.append(line)
    return "\n".join(kept), skipped


def run_notebook(path: str, use_compat: bool = True) -> int:
    """Runs a notebook's code cells in order in one namespace, showing each cell's last
    expression as Jupyter would. Magics and shell lines are skipped with a note; a cell that
    raises is reported and the run continues; the exit status is 1 if any cell failed."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    try:
        return run_cells(_cells(path), use_compat=use_compat)
    finally:
        sys.path.pop(0)


def run_cells(cells: list[str], use_compat: bool = True) -> int:
    """Runs code cells in one namespace (see `run_notebook`); returns the number that raised
    (as an exit status: 0 or 1)."""
    import contextlib

    ns: dict = {"__name__": "__main__"}
    failed = 0
    ctx = as_torch() if use_compat else contextlib.nullcontext()
    with ctx:
        for i, src in enumerate(cells, 1):
            code, skipped = _strip_magics(src)
            for s in skipped:
                print(f"[compat] cell {i}: skipped IPython line: {s}")
            try:
                _run_cell(code, ns)
            except Exception as e:
                failed += 1
                print(f"[compat] cell {i} raised {type(e).__name__}: {e}")
                if os.environ.get("COMPAT_TRACEBACK"):
                    traceback.print_exc(file=sys.stdout)
    return 1 if failed else 0


def _run_cell(code: str, ns: dict) -> None:
    tree = ast.parse(code)
    if not tree.body:
        return
    last = tree.body[-1]
    show = isinstance(last, ast.Expr) and not _quiet(code)
    body = tree.body[:-1] if show else tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "<cell>", "exec"), ns)
    if show:
        value = eval(compile(ast.Expression(last.value), "<cell>", "eval"), ns)
        if value is not None:
            print(pretty(value))


def _quiet(code: str) -> bool:
    """IPython's rule: a cell whose last token (comments aside) is `;` displays nothing."""
    skip = (
        tokenize.ENDMARKER,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.COMMENT,
        tokenize.INDENT,
        tokenize.DEDENT,
    )
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(code).readline))
    except (tokenize.TokenError, SyntaxError):
        return code.rstrip().endswith(";")
    for tok in reversed(tokens):
        if tok.type not in skip:
            return tok.type == tokenize.OP and tok.string == ";"
    return False


def pretty(obj, width: int = 79) -> str:
    """IPython's display of a value: containers break one element per line when too long, and
    objects with the default repr show as `<Name at 0x...>`."""
    kind = type(obj)
    if isinstance(obj, dict) and kind.__repr__ is dict.__repr__:
        parts = [f"{pretty(k, width)}: {pretty(v, width)}" for k, v in obj.items()]
        flat = "{" + ", ".join(parts) + "}"
        if len(flat) <= width and "\n" not in flat:
            return flat
        return "{" + ",\n ".join(p.replace("\n", "\n ") for p in parts) + "}"
    # Subclasses with a repr of their own (torch.Size, namedtuples) show that repr, as in IPython.
    if isinstance(obj, (tuple, list)) and kind.__repr__ in (tuple.__repr__, list.__repr__):
        open_, close = ("(", ")") if isinstance(obj, tuple) else ("[", "]")
        parts = [pretty(x, width) for x in obj]
        trail = "," if isinstance(obj, tuple) and len(obj) == 1 else ""
        flat = open_ + ", ".join(parts) + trail + close
        if len(flat) <= width and "\n" not in flat:
            return flat
        ind = " " * len(open_)
        lines = [p.replace("\n", "\n" + ind) for p in parts]
        return open_ + (",\n" + ind).join(lines) + trail + close
    if type(obj).__repr__ is object.__repr__:
        mod = type(obj).__module__
        name = (
            type(obj).__qualname__
            if mod in ("builtins", "__main__")
            else f"{mod}.{type(obj).__qualname__}"
        )
        return f"<{name} at {hex(id(obj))}>"
    return repr(obj)
