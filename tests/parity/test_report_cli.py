"""`python -m compat --parity FILE`: flags a planted difference, passes an identical program,
honours --seed and --rtol, handles notebooks, and says clearly when torch is missing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _parity_harness import live_torch

from compat._parity import diff_outputs, lines_close

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = """
import torch
x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
y = (x.exp() * x).sum()
y.backward()
print(x)
print(y, y.grad_fn)
print(x.grad)
print(torch.randn(2, 3))
"""


def _cli(*args, env_extra=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "compat", "--parity", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def need_torch(torch_ref):
    if torch_ref is None and live_torch() is None:
        pytest.skip("the report CLI compares against a torch subprocess")


def test_identical_program_agrees(tmp_path, need_torch):
    f = tmp_path / "same.py"
    f.write_text(PROGRAM)
    p = _cli(f, "--seed", "0")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "outputs agree" in p.stdout


def test_planted_difference_is_flagged(tmp_path, need_torch):
    f = tmp_path / "planted.py"
    f.write_text(
        PROGRAM
        + textwrap.dedent("""
        w = torch.tensor([0.5, 1.5])
        if torch.__version__.endswith("+compat"):
            w = w * 1.01  # the planted difference
        print("w =", w)
        print("same line")
    """)
    )
    p = _cli(f, "--seed", "0")
    assert p.returncode == 1, p.stdout + p.stderr
    assert "1 line(s) differ" in p.stdout
    flagged = [line for line in p.stdout.splitlines() if "w = tensor" in line]
    assert (
        len(flagged) == 1 and "0.5000, 1.5000" in flagged[0] and "0.5050, 1.5150" in flagged[0]
    ), p.stdout
    assert "same line" not in p.stdout


def test_seed_option(tmp_path, need_torch):
    f = tmp_path / "rand.py"
    f.write_text("import torch\nprint(torch.rand(4))\n")
    assert _cli(f).returncode == 1  # torch seeds itself from /dev/urandom: nothing injected
    assert _cli(f, "--seed", "7").returncode == 0


def test_rtol_and_notebook(tmp_path, need_torch):
    cells = [
        "import torch\nx = torch.tensor(2.0)\nif torch.__version__.endswith('+compat'):\n"
        "    x = x * (1 + 1e-7)\n",
        "print(x.item())",
        "x * 3",
    ]
    nb = {
        "cells": [
            {
                "cell_type": "code",
                "source": c,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for c in cells
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    f = tmp_path / "nb.ipynb"
    f.write_text(json.dumps(nb))
    p = _cli(f)
    assert p.returncode == 0, p.stdout + p.stderr
    p = _cli(f, "--rtol", "1e-9")
    assert p.returncode == 1, p.stdout + p.stderr


def test_missing_torch_exits_2_with_a_clear_message(tmp_path):
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / "torch.py").write_text("raise ImportError('torch is hidden for this test')\n")
    f = tmp_path / "prog.py"
    f.write_text("import torch\nprint(torch.ones(2))\n")
    p = _cli(f, env_extra={"PYTHONPATH": f"{ROOT}{os.pathsep}{shadow}"})
    assert p.returncode == 2, p.stdout + p.stderr
    assert "torch is not installed" in p.stderr
    assert "torch is hidden for this test" in p.stderr
    p = _cli(f, env_extra={"COMPAT_PARITY_SIMULATE_NO_TORCH": "1"})
    assert p.returncode == 2 and "torch is not installed" in p.stderr


def test_missing_file_exits_2(tmp_path):
    p = _cli(tmp_path / "nope.py")
    assert p.returncode == 2 and "no such file" in p.stderr


def test_line_comparison_rules():
    assert lines_close(
        "<MulBackward0 object at 0x7f00>", "<MulBackward0 object at 0x1234>", 1e-5, 1e-8
    )
    assert lines_close("tensor([54.5981, 1.0000])", "tensor([54.5982, 1.0000])", 1e-5, 1e-8)
    assert not lines_close("tensor([54.5981])", "tensor([54.6981])", 1e-5, 1e-8)
    assert not lines_close("grad_fn=<AddBackward0>", "grad_fn=<SubBackward0>", 1e-5, 1e-8)
    assert lines_close("x = 1.0000001", "x = 1.0000002", 1e-5, 1e-8)
    diffs = diff_outputs("a 1\nb 2\nc 3\n", "a 1\nc 3\nd 4\n", 1e-5, 1e-8)
    assert [(d[0], d[2]) for d in diffs] == [(2, None), (None, 3)]
