"""The seed examples: every row checks out, and every value matches torch run live."""

import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from examples._common import with_torch
from examples.run_all import MODULES
from funcgrad.testing import assert_matches_torch

ROOT = Path(__file__).resolve().parents[2]


def _torch_or_fail():
    """torch, or a skip; in CI (env CI set) a missing torch is a failure, not a skip."""
    try:
        import torch
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("torch is required in CI for the live parity checks (pip install torch)")
        pytest.skip("torch not installed")
    return torch


@pytest.fixture(scope="module", params=MODULES, ids=lambda name: name.rsplit(".", 1)[-1])
def example(request):
    module = importlib.import_module(request.param)
    return module, module.run()


def test_every_row_is_ok(example):
    _, rows = example
    assert rows, "an example module produced no rows"
    failed = [f"{r.example} / {r.quantity}: {r.value!r}" for r in rows if not r.ok]
    assert not failed, "rows not ok:\n" + "\n".join(failed)


def test_every_row_has_a_reference(example):
    _, rows = example
    assert all(r.expected is not None or r.documented is not None for r in rows)


def test_values_match_live_torch(example):
    _torch_or_fail()
    module, rows = example
    reference = module.torch_reference()
    keys = {(r.example, r.quantity) for r in rows}
    assert set(reference) <= keys, f"torch keys without a row: {set(reference) - keys}"
    for r in rows:
        if (r.example, r.quantity) in reference:
            assert_matches_torch(r.value, reference[(r.example, r.quantity)], rtol=1e-5, atol=1e-5)
    merged = with_torch(rows, reference)
    assert all(r.ok for r in merged)


def test_examples_cover_every_seed():
    seeds = {importlib.import_module(name).SEED for name in MODULES}
    assert seeds == {"000", "001", "002", "003", "004"}


def test_run_all_main_prints_table_and_exits_zero(capsys):
    from examples import run_all

    status = run_all.main(["--no-torch"])
    out = capsys.readouterr().out
    assert status == 0
    assert "backend" in out and "seed  example" in out
    assert "rows ok" in out and "FAIL" not in out


def test_example_runs_as_a_script():
    script = ROOT / "examples" / "seed004_accumulation.py"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "rows ok" in result.stdout


def test_run_all_saves_plots(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from examples import run_all

    assert run_all.main(["--no-torch", "--plots", str(tmp_path)]) == 0
    saved = sorted(p.name for p in tmp_path.iterdir())
    assert saved == ["seed000_derivative.png", "seed004_accumulation_linear.png"]
    assert all((tmp_path / name).stat().st_size > 1000 for name in saved)
    assert "saved" in capsys.readouterr().out
