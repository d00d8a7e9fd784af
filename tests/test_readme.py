"""The README's two set-up commands are the ones CI runs."""

from __future__ import annotations

import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README must open with a bash block holding the set-up commands"
    return [ln for ln in block.group(1).splitlines() if ln and not ln.startswith("#")]


def test_readme_opens_with_two_commands():
    text = (ROOT / "README.md").read_text()
    assert text.index("```bash") < 200, "the set-up commands must come first"
    assert len(_readme_commands()) == 2


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert _readme_commands()[1] in ci


def test_main_job_command_runs_the_examples():
    assert "examples/run_all.py" in _readme_commands()[0]


def test_readme_python_examples_run_and_print_what_they_say(capsys):
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    runnable = [b for b in blocks if "import funcgrad" in b or "import compat" in b]
    assert len(runnable) >= 2
    for block in runnable:
        exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "tensor(28., grad_fn=<MulBackward0>)" in out
    assert "tensor([ 0.,  4.,  8., 12.])" in out
