"""Writes every example module out as a Jupyter notebook, so the examples can be opened and run
cell by cell.

Usage::

    python examples/make_notebooks.py OUTDIR [NAME ...]

Each module of ``examples/`` (except this script and ``run_all.py``) becomes ``OUTDIR/NAME.ipynb``:
its docstring a markdown cell, a setup cell that makes this repository importable, its imports and
constants one cell, each function its own cell, and a last cell that runs the examples and prints
the checked table (where the module can save plots, a cell that saves them next to the notebook).
The seed 002 notebook also draws that seed's two computation graphs with ``funcgrad.make_dot``.
The notebooks run in plain Python with JAX; ``python -m compat`` is not needed. Writing them needs
nbformat (``pip install funcgrad[notebook]``).
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
NOT_EXAMPLES = frozenset({"run_all", "make_notebooks"})

SEED002_GRAPHS = [
    (
        "markdown",
        "## The seed's pictures\n\n"
        "The notebook draws its graphs with torchviz's `make_dot`. `funcgrad.make_dot` draws the "
        "same programs from their jaxprs, with torchviz's colours: inputs light blue, operations "
        "grey, constants orange, outputs green. `include_grad=True` adds the gradient's own "
        "graph. Jupyter shows the pictures inline (rendering needs the Graphviz `dot` program).",
    ),
    ("code", "fg.make_dot(jnp.dot, jnp.arange(4.0), jnp.ones(4), params=['x', 'z'])"),
    (
        "code",
        "def y_of_x(x):\n"
        "    z = x**2\n"
        "    return jnp.dot(x, z)\n\n\n"
        "fg.make_dot(y_of_x, jnp.arange(4.0), include_grad=True)",
    ),
]
EXTRA_CELLS = {"seed002_d2l_gradients": SEED002_GRAPHS}

_NOQA = re.compile(r"\s+# (noqa\b[^#\n]*|fmt: skip)$", re.M)


def example_modules() -> list[Path]:
    """The example modules, sorted by name."""
    return sorted(
        p
        for p in EXAMPLES.glob("*.py")
        if not p.stem.startswith("_") and p.stem not in NOT_EXAMPLES
    )


def _markdown(docstring: str) -> str:
    """A module docstring as markdown: its first line a title, reST literals as code."""
    title, _, body = docstring.strip().partition("\n")
    text = f"# {title}\n{body}"
    text = re.sub(r":\w+:`~?([^`]+)`", r"`\1`", text)
    return text.replace("``", "`").rstrip() + "\n"


def _setup_cell() -> str:
    return (
        "# The examples import this repository's `examples` package and funcgrad: make the\n"
        "# repository importable (edit REPO if the repository has moved).\n"
        "import sys\n\n"
        f"REPO = {str(ROOT)!r}\n"
        "if REPO not in sys.path:\n"
        "    sys.path.insert(0, REPO)"
    )


def _is_script_guard(node: ast.stmt, name: str) -> bool:
    """Whether `node` is `if __name__ == "__main__":` (name "__name__") or the scripts'
    `if __package__ in (None, ""):` path set-up (name "__package__")."""
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (
        isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == name
    )


def _main_cell(node: ast.If, source: str) -> str:
    """The `if __name__ == "__main__":` body as a notebook cell, without leaving the kernel."""
    lines = []
    for stmt in node.body:
        exc = stmt.exc if isinstance(stmt, ast.Raise) else None
        if (
            isinstance(exc, ast.Call)
            and isinstance(exc.func, ast.Name)
            and exc.func.id == "SystemExit"
            and len(exc.args) == 1
        ):
            lines.append(f"status = {ast.get_source_segment(source, exc.args[0])}")
            lines.append(
                'if status:\n    raise RuntimeError("some rows do not match their references")'
            )
        else:
            lines.append(textwrap.dedent(ast.get_source_segment(source, stmt, padded=True)))
    return "\n".join(lines)


def _plot_cell() -> str:
    return (
        "# Saves the plots next to the notebook (needs matplotlib: pip install funcgrad[plot]).\n"
        "import importlib.util\n\n"
        'if importlib.util.find_spec("matplotlib") is None:\n'
        '    print("matplotlib is not installed: no plots")\n'
        "else:\n"
        '    for path in plot("."):\n'
        '        print("saved", path)'
    )


def module_cells(path: Path) -> list[tuple[str, str]]:
    """The (kind, source) cells of one example module, kind "markdown" or "code"."""
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    lines = source.splitlines()
    body = list(tree.body)
    cells: list[tuple[str, str]] = []
    docstring = ast.get_docstring(tree)
    if docstring is not None:
        cells.append(("markdown", _markdown(docstring)))
        body = body[1:]
    cells.append(("code", _setup_cell()))
    pending: list[str] = []  # consecutive plain statements (imports, constants) share a cell
    main_cell = None
    start = tree.body[0].end_lineno if docstring is not None else 0

    def flush() -> None:
        text = _NOQA.sub("", "\n".join(pending)).strip("\n")
        if text.strip():
            cells.append(("code", text))
        pending.clear()

    for node in body:
        chunk = "\n".join(lines[start : node.end_lineno])
        start = node.end_lineno
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if _is_script_guard(node, "__package__"):
            continue
        if _is_script_guard(node, "__name__"):
            main_cell = _main_cell(node, source)
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            flush()
            pending.append(chunk)
            flush()
        else:
            pending.append(chunk)
    flush()
    defined = {n.name for n in body if isinstance(n, ast.FunctionDef)}
    for kind, text in EXTRA_CELLS.get(path.stem, ()):
        cells.append((kind, text))
    if "plot" in defined:
        cells.append(("code", _plot_cell()))
    if main_cell is not None:
        cells.append(("code", main_cell))
    return cells


def make_notebook(path: Path):
    """The notebook (an `nbformat.NotebookNode`, validated) for one example module."""
    try:
        import nbformat
    except ImportError as e:
        raise ImportError("make_notebooks needs nbformat: pip install funcgrad[notebook]") from e
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    rel = path.relative_to(ROOT).as_posix()
    for kind, text in module_cells(path):
        new = nbformat.v4.new_markdown_cell if kind == "markdown" else nbformat.v4.new_code_cell
        nb.cells.append(new(text))
    note = f"*Generated from `{rel}` by `examples/make_notebooks.py`; edit the module, not this.*"
    nb.cells.insert(1, nbformat.v4.new_markdown_cell(note))
    nbformat.validate(nb)
    return nb


def write_notebooks(out_dir: str | Path, names: list[str] | None = None) -> list[Path]:
    """Writes `OUT_DIR/NAME.ipynb` for each example module (or the ones named); returns paths."""
    import nbformat

    modules = example_modules()
    if names:
        known = {p.stem: p for p in modules}
        unknown = sorted(set(names) - set(known))
        if unknown:
            raise ValueError(f"no example module named {unknown}; choose from {sorted(known)}")
        modules = [known[n] for n in names]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in modules:
        target = out / f"{path.stem}.ipynb"
        nbformat.write(make_notebook(path), str(target))
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", metavar="OUTDIR", help="folder to write the notebooks into")
    parser.add_argument("names", nargs="*", metavar="NAME", help="only these modules")
    args = parser.parse_args(argv)
    try:
        paths = write_notebooks(args.out_dir, args.names)
    except ValueError as e:
        print(f"make_notebooks: {e}", file=sys.stderr)
        return 2
    for p in paths:
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
