"""Notebooks: `python -m compat NOTEBOOK.ipynb` on real .ipynb files, and the example notebooks
that `examples/make_notebooks.py` generates (valid, and they run with plain Python and JAX)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")

from compat._runner import pretty, run_notebook  # noqa: E402
from tests._torch import mask_addresses, require_torch  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def write_notebook(path: Path, cells: list[str], markdown: str = "# A notebook") -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(markdown)]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.validate(nb)
    nbformat.write(nb, str(path))
    return path


TUTORIAL = [
    "%load_ext autoreload\n%autoreload 2\n!pip install torchviz\n"
    "import torch\nx = torch.arange(4.0, requires_grad=True)\nx",
    "y = (x * x).sum()\ny.backward()\nx.grad, x * 2",
    'raise ValueError("boom")',
    "torch.ones(2, 2), torch.zeros(2, 3)",
    "x.grad  # no display after a semicolon in a comment;",
    "x.grad;",
    "x.shape",
]
TUTORIAL_OUTPUT = """\
[compat] cell 1: skipped IPython line: %load_ext autoreload
[compat] cell 1: skipped IPython line: %autoreload 2
[compat] cell 1: skipped IPython line: !pip install torchviz
tensor([0., 1., 2., 3.], requires_grad=True)
(tensor([0., 2., 4., 6.]), tensor([0., 2., 4., 6.], grad_fn=<MulBackward0>))
[compat] cell 3 raised ValueError: boom
(tensor([[1., 1.],
         [1., 1.]]),
 tensor([[0., 0., 0.],
         [0., 0., 0.]]))
tensor([0., 2., 4., 6.])
torch.Size([4])
"""


def test_python_m_compat_runs_a_notebook(tmp_path):
    path = write_notebook(tmp_path / "tutorial.ipynb", TUTORIAL)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-m", "compat", str(path)], capture_output=True,
                            text=True, env=env, cwd=tmp_path, timeout=300)  # fmt: skip
    assert result.stdout == TUTORIAL_OUTPUT, result.stderr
    assert result.returncode == 1  # one cell raised; the others still ran


def test_same_display_as_under_torch(tmp_path, capsys):
    require_torch()
    path = write_notebook(tmp_path / "tutorial.ipynb", TUTORIAL)
    assert run_notebook(str(path), use_compat=False) == 1
    with_torch = capsys.readouterr().out
    assert run_notebook(str(path), use_compat=True) == 1
    assert mask_addresses(capsys.readouterr().out) == mask_addresses(with_torch)


def test_clean_notebook_exits_zero_and_reads_its_folder(tmp_path, capsys):
    (tmp_path / "helper_mod.py").write_text("VALUE = 41\n")
    path = write_notebook(tmp_path / "ok.ipynb", ["import helper_mod\nhelper_mod.VALUE + 1"])
    assert run_notebook(str(path)) == 0
    assert capsys.readouterr().out == "42\n"


def test_syntax_error_cell_is_reported_and_the_run_continues(tmp_path, capsys):
    path = write_notebook(tmp_path / "bad.ipynb", ["x = (", "print('after')"])
    assert run_notebook(str(path)) == 1
    out = capsys.readouterr().out
    assert "[compat] cell 1 raised SyntaxError" in out and out.endswith("after\n")


def test_indented_shell_line_and_cell_magic(tmp_path, capsys):
    cells = ["%%time\nv = 3\nv", "if True:\n    !echo hi\n    print('in block')"]
    assert run_notebook(str(write_notebook(tmp_path / "m.ipynb", cells))) == 0
    assert capsys.readouterr().out == (
        "[compat] cell 1: skipped IPython line: %%time\n3\n"
        "[compat] cell 2: skipped IPython line: !echo hi\nin block\n"
    )


def test_pretty_follows_ipython():
    import collections

    import compat

    assert pretty((compat.ones(1),)) == "(tensor([1.]),)"
    assert pretty({"a": compat.ones(2, 2), "b": 1}) == (
        "{'a': tensor([[1., 1.],\n         [1., 1.]]),\n 'b': 1}"
    )
    assert pretty({"a": 1}) == "{'a': 1}"
    point = collections.namedtuple("Point", "x y")
    assert pretty(point(1, 2)) == "Point(x=1, y=2)"
    assert pretty(compat.Size([2, 3])) == "torch.Size([2, 3])"
    # Too long for one line: one element per line, indented under the bracket.
    assert pretty([list(range(30))]) == "[[" + ",\n  ".join(map(str, range(30))) + "]]"
    assert pretty(object()).startswith("<object at 0x")


# -- the generated example notebooks -----------------------------------------------------------

_RUNNER = """
import json, os, sys
failed = 0
for path in sys.argv[1:]:
    os.chdir(os.path.dirname(path))
    ns = {"__name__": "__main__"}
    cells = [c for c in json.load(open(path))["cells"] if c["cell_type"] == "code"]
    for i, cell in enumerate(cells):
        try:
            exec(compile("".join(cell["source"]), f"{path} cell {i}", "exec"), ns)
        except Exception as e:
            failed += 1
            print(f"FAILED {path} cell {i}: {type(e).__name__}: {e}")
print("compat imported:", "compat" in sys.modules)
sys.exit(1 if failed else 0)
"""


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory):
    from examples import make_notebooks

    out = tmp_path_factory.mktemp("notebooks")
    assert make_notebooks.main([str(out)]) == 0
    return out, sorted(out.glob("*.ipynb"))


def test_make_notebooks_writes_one_valid_notebook_per_example(notebooks):
    from examples import make_notebooks

    _, paths = notebooks
    assert [p.stem for p in paths] == [p.stem for p in make_notebooks.example_modules()]
    assert {"seed000_scalar_and_tensors", "seed004_accumulation", "data_parallel"} <= {
        p.stem for p in paths
    }
    for path in paths:
        nb = nbformat.read(str(path), as_version=4)
        nbformat.validate(nb)
        assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert len(code) >= 3
        assert not any("__main__" in src or "# noqa" in src for src in code)


def test_seed002_notebook_draws_the_seed_graphs(notebooks):
    _, paths = notebooks
    (path,) = [p for p in paths if p.stem.startswith("seed002")]
    sources = [c.source for c in nbformat.read(str(path), as_version=4).cells]
    assert sum("fg.make_dot(" in s for s in sources) == 2


def test_generated_notebooks_run_with_plain_python(notebooks):
    out, paths = notebooks
    # data_parallel first: it must set XLA_FLAGS before anything imports jax.
    ordered = sorted(paths, key=lambda p: p.stem != "data_parallel")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "XLA_FLAGS")}
    result = subprocess.run([sys.executable, "-c", _RUNNER, *map(str, ordered)],
                            capture_output=True, text=True, env=env, timeout=600)  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "FAILED" not in result.stdout
    assert "compat imported: False" in result.stdout
    assert result.stdout.count("rows ok") == 5  # each seed notebook printed its checked table
    assert {p.name for p in out.glob("*.png")} == {
        "seed000_derivative.png",
        "seed004_accumulation_linear.png",
    }


def test_make_notebooks_cli(tmp_path):
    script = ROOT / "examples" / "make_notebooks.py"
    result = subprocess.run(
        [sys.executable, str(script), str(tmp_path), "seed003_d2l_autodiff"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["seed003_d2l_autodiff.ipynb"]
    assert json.loads((tmp_path / "seed003_d2l_autodiff.ipynb").read_text())["nbformat"] == 4
    bad = subprocess.run([sys.executable, str(script), str(tmp_path), "nope"],
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert bad.returncode == 2 and "no example module named ['nope']" in bad.stderr
