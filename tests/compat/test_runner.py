"""`compat.as_torch()` and `python -m compat script.py`: unmodified torch code runs on compat,
and `sys.modules` is restored afterwards so real torch stays importable in the same process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests._torch import require_torch

torch = require_torch()

import compat  # noqa: E402
from compat._runner import pretty, run_cells  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def test_as_torch_resolves_every_import_form_to_compat():
    with compat.as_torch() as mod:
        import torch as t
        import torch.nn.functional as F
        from torch import tensor
        from torch.autograd import grad
        from torch.autograd.functional import jacobian

        assert mod is t is compat
        assert F is compat.nn.functional
        assert tensor is compat.tensor and grad is compat.autograd.grad
        assert jacobian is compat.autograd.functional.jacobian
        x = tensor([1.0, 2.0], requires_grad=True)
        (g,) = grad((x * x).sum(), x)
        assert type(x) is compat.Tensor and g.tolist() == [2.0, 4.0]
        assert sys.modules["torch"] is compat and sys.modules["torch.nn"] is compat.nn


def test_as_torch_restores_sys_modules():
    before = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    with compat.as_torch():
        import torch as t

        assert t is compat
    after = {k: v for k, v in sys.modules.items() if k == "torch" or k.startswith("torch.")}
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    import torch as real

    assert real is torch and real.ones(1).__class__.__module__ == "torch"


def test_as_torch_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError), compat.as_torch():
        1 / 0  # noqa: B018
    import torch as real

    assert real is torch


def test_as_torch_nests():
    with compat.as_torch():
        with compat.as_torch():
            import torch as inner
        import torch as outer
    import torch as real

    assert inner is outer is compat and real is torch


def _script(tmp_path, body: str) -> Path:
    path = tmp_path / "script.py"
    path.write_text(textwrap.dedent(body))
    return path


def _run_module(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run(
        [sys.executable, "-m", "compat", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


def test_python_m_compat_runs_a_torch_script_with_argv(tmp_path):
    # The script imports a module next to it (which itself imports torch), reads argv and
    # exits with a status of its own; run from another directory.
    (tmp_path / "helper.py").write_text("import torch\n\ndef double(x):\n    return x * 2\n")
    path = _script(
        tmp_path,
        """
        import sys
        import torch
        import torch.nn.functional as F
        from torch.autograd import grad
        from helper import double

        x = torch.arange(4.0, requires_grad=True)
        y = 2 * torch.dot(x, x)
        y.backward()
        print(type(x).__module__, x.grad, sys.argv[1:])
        print(F.relu(torch.tensor([-1.0, 2.0])), double(torch.tensor([1.0])))
        print(grad((x * x).sum(), x)[0])
        sys.exit(int(sys.argv[2]))
    """,
    )
    proc = _run_module(path, "alpha", "3", cwd=tmp_path.parent)
    assert proc.returncode == 3, proc.stderr
    assert proc.stdout == (
        "compat._tensor tensor([ 0.,  4.,  8., 12.]) ['alpha', '3']\n"
        "tensor([0., 2.]) tensor([2.])\n"
        "tensor([0., 2., 4., 6.])\n"
    )


def test_python_m_compat_exit_status_of_a_failing_script(tmp_path):
    bad = _run_module(_script(tmp_path, "import torch\ntorch.ones(2).backward()\n"))
    assert bad.returncode == 1
    assert "RuntimeError: element 0 of tensors does not require grad" in bad.stderr


def test_run_path_status_in_process(tmp_path, capsys):
    from compat._runner import run_path

    assert run_path(str(tmp_path / "nope.py"), []) == 2
    assert "no such file" in capsys.readouterr().err
    ok = _script(tmp_path, "import torch\nprint(torch.ones(2).sum())\n")
    assert run_path(str(ok), []) == 0
    assert capsys.readouterr().out == "tensor(2.)\n"


def test_run_cells_shows_last_expression_and_reports_failures(capsys):
    status = run_cells(
        [
            "import torch\nx = torch.ones(2, requires_grad=True)\nx * 2",
            "x.sum().backward()\nx.grad",
            "(x * 2).backward()",
            "x.grad;",
        ],
        use_compat=True,
    )
    out = capsys.readouterr().out
    assert status == 1
    assert out == (
        "tensor([2., 2.], grad_fn=<MulBackward0>)\n"
        "tensor([1., 1.])\n"
        "[compat] cell 3 raised RuntimeError: grad can be implicitly created only for "
        "scalar outputs\n"
    )


def test_pretty_matches_ipython_display():
    x = compat.arange(4.0, requires_grad=True)
    y = (x * x).detach()
    assert pretty((x, x.grad)) == "(tensor([0., 1., 2., 3.], requires_grad=True), None)"
    assert pretty((y, x * y)) == (
        "(tensor([0., 1., 4., 9.]),\n tensor([ 0.,  1.,  8., 27.], grad_fn=<MulBackward0>))"
    )
    assert pretty((x * 2).grad_fn).startswith("<MulBackward0 at 0x")
