"""`python -m compat --parity FILE`: run a program under real torch and under compat, and report
where their outputs differ.

Each side runs in its own process (`sys.executable`): the torch side runs the file as is (a
notebook through `compat._runner.run_notebook(path, use_compat=False)`), the compat side through
`python -m compat FILE`. Nothing is seeded unless `--seed N` is given, which seeds both sides
with `manual_seed(N)` first. This module never imports torch itself.

Outputs are compared line by line: object addresses (`at 0x...`) are ignored, and numbers inside
a line (tensor reprs included) are compared with a tolerance instead of as text.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import subprocess
import sys
from dataclasses import dataclass

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)\b")
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_TORCH_MISSING = 2

# Runs FILE as a script or notebook, optionally seeding the chosen library first.
_BOOTSTRAP = r"""
import os, runpy, sys
use_compat, seed, path = sys.argv[1] == "compat", sys.argv[2], sys.argv[3]
sys.argv = sys.argv[3:]
if use_compat:
    import compat as lib
else:
    import torch as lib
if seed != "-":
    lib.manual_seed(int(seed))
if use_compat:
    from compat.__main__ import main
    sys.exit(main([path, *sys.argv[1:]]))
if path.endswith(".ipynb"):
    from compat._runner import run_notebook
    sys.exit(run_notebook(path, use_compat=False))
sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
runpy.run_path(path, run_name="__main__")
"""

_PROBE = "import torch"


@dataclass
class Run:
    """One side's result."""

    name: str
    returncode: int
    stdout: str
    stderr: str


def _env() -> dict:
    env = dict(os.environ)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = here + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def _torch_available(timeout: float) -> tuple[bool, str]:
    """Whether `import torch` works in a fresh interpreter (torch is never imported here)."""
    if os.environ.get("COMPAT_PARITY_SIMULATE_NO_TORCH") == "1":
        return False, "ModuleNotFoundError: No module named 'torch' (simulated)"
    p = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, env=_env(), timeout=timeout
    )
    last = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
    return p.returncode == 0, last


def _run(side: str, path: str, args: list[str], seed: int | None, timeout: float) -> Run:
    if side == "compat" and seed is None and not path.endswith(".ipynb"):
        cmd = [sys.executable, "-m", "compat", path, *args]
    elif side == "compat" and seed is None:
        cmd = [sys.executable, "-m", "compat", path]
    else:
        cmd = [
            sys.executable,
            "-c",
            _BOOTSTRAP,
            side,
            "-" if seed is None else str(seed),
            path,
            *args,
        ]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=timeout)
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return Run(side, -1, out, f"timed out after {timeout:g} s")
    return Run(side, p.returncode, p.stdout, p.stderr)


def _skeleton(line: str) -> str:
    return _NUMBER.sub("#", _ADDRESS.sub(" at 0x?", line))


def _last_digit(tok: str) -> float:
    mant, _, exp = tok.lower().partition("e")
    decimals = len(mant.partition(".")[2])
    return 10.0 ** (-decimals + (int(exp) if exp else 0))


def _num_close(a: str, b: str, rtol: float, atol: float) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except ValueError:
        return False
    if x != x or y != y:  # nan
        return x != x and y != y
    if abs(x - y) <= atol + rtol * abs(y):
        return True
    # Printed values round to a few digits: a one-unit flip of the last digit is within
    # tolerance whenever the underlying values may be.
    return len(a) == len(b) and abs(x - y) <= _last_digit(a) * 1.000001


def lines_close(a: str, b: str, rtol: float, atol: float) -> bool:
    """Whether two output lines agree: same text, numbers within tolerance, addresses ignored."""
    a, b = _ADDRESS.sub(" at 0x?", a), _ADDRESS.sub(" at 0x?", b)
    if a == b:
        return True
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    return all(
        _num_close(x, y, rtol, atol)
        for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b), strict=True)
    )


def diff_outputs(torch_out: str, compat_out: str, rtol: float, atol: float) -> list[tuple]:
    """Aligned differing lines as `(torch_lineno, torch_line, compat_lineno, compat_line)`.

    A missing line on one side has lineno None and line "".
    """
    ta, ca = torch_out.splitlines(), compat_out.splitlines()
    sm = difflib.SequenceMatcher(
        a=[_skeleton(x) for x in ta], b=[_skeleton(x) for x in ca], autojunk=False
    )
    out = []
    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2), strict=True):
                if not lines_close(ta[i], ca[j], rtol, atol):
                    out.append((i + 1, ta[i], j + 1, ca[j]))
            continue
        n = max(i2 - i1, j2 - j1)
        for k in range(n):
            i, j = i1 + k, j1 + k
            out.append(
                (
                    i + 1 if i < i2 else None,
                    ta[i] if i < i2 else "",
                    j + 1 if j < j2 else None,
                    ca[j] if j < j2 else "",
                )
            )
    return out


def _error_line(stderr: str) -> str:
    lines = [x for x in stderr.strip().splitlines() if x.strip()]
    return lines[-1] if lines and (":" in lines[-1]) else ""


def _clip(s: str, width: int) -> str:
    return s if len(s) <= width else s[: width - 1] + "…"


def format_report(
    path: str, torch_run: Run, compat_run: Run, diffs: list[tuple], width: int = 60
) -> str:
    """The side-by-side report."""
    n_t = len(torch_run.stdout.splitlines())
    n_c = len(compat_run.stdout.splitlines())
    out = [f"parity report for {path}: torch printed {n_t} lines, compat {n_c}"]
    if diffs:
        out.append(f"{len(diffs)} line(s) differ:")
        out.append(f"{'line':>5}  {'torch':<{width}} | {'line':>5}  compat")
        for i, a, j, b in diffs:
            li = "" if i is None else str(i)
            lj = "" if j is None else str(j)
            out.append(f"{li:>5}  {_clip(a, width):<{width}} | {lj:>5}  {_clip(b, width)}")
    if torch_run.returncode != compat_run.returncode:
        out.append(
            f"exit status differs: torch {torch_run.returncode}, compat {compat_run.returncode}"
        )
    et, ec = _error_line(torch_run.stderr), _error_line(compat_run.stderr)
    if (torch_run.returncode or compat_run.returncode) and et != ec:
        out.append(f"final error differs:\n  torch:  {et or '(none)'}\n  compat: {ec or '(none)'}")
    return "\n".join(out)


def main(argv: list[str]) -> int:
    """Entry point of `python -m compat --parity`; returns 0 (agree), 1 (differ) or 2 (error)."""
    ap = argparse.ArgumentParser(
        prog="python -m compat --parity",
        description="Run FILE (.py or .ipynb) under real torch and under compat, in separate "
        "processes, and report where their outputs differ. Arguments for the "
        "script go after `--`. Exit status: 0 agree, 1 differ, 2 error (torch "
        "not installed, no such file).",
    )
    ap.add_argument("file")
    ap.add_argument(
        "--rtol",
        type=float,
        default=1e-5,
        help="relative tolerance for numbers in the output (default 1e-5)",
    )
    ap.add_argument(
        "--atol",
        type=float,
        default=1e-8,
        help="absolute tolerance for numbers in the output (default 1e-8)",
    )
    ap.add_argument(
        "--seed",
        type=int,
        default=None,
        help="call manual_seed(N) on both sides before the program runs "
        "(by default nothing is seeded: the program decides)",
    )
    ap.add_argument(
        "--timeout", type=float, default=600.0, help="seconds allowed for each side (default 600)"
    )
    script_args: list[str] = []
    if "--" in argv:  # `FILE -- args...`: arguments for the script itself
        cut = argv.index("--")
        argv, script_args = argv[:cut], argv[cut + 1 :]
    ns = ap.parse_args(argv)
    ns.args = script_args
    if not os.path.exists(ns.file):
        print(f"compat --parity: no such file: {ns.file}", file=sys.stderr)
        return 2
    ok, why = _torch_available(ns.timeout)
    if not ok:
        print(
            "compat --parity: torch is not installed (or fails to import) in "
            f"{sys.executable}, so there is nothing to compare against.\n"
            f"  import torch -> {why or 'failed'}\n"
            "Install it (e.g. `pip install torch`) to use --parity; "
            "`python -m compat FILE` runs the program on compat alone.",
            file=sys.stderr,
        )
        return _TORCH_MISSING
    torch_run = _run("torch", ns.file, ns.args, ns.seed, ns.timeout)
    compat_run = _run("compat", ns.file, ns.args, ns.seed, ns.timeout)
    diffs = diff_outputs(torch_run.stdout, compat_run.stdout, ns.rtol, ns.atol)
    print(format_report(ns.file, torch_run, compat_run, diffs))
    same_status = torch_run.returncode == compat_run.returncode
    same_error = _error_line(torch_run.stderr) == _error_line(compat_run.stderr) or not (
        torch_run.returncode or compat_run.returncode
    )
    if not diffs and same_status and same_error:
        print(f"outputs agree (rtol={ns.rtol:g}, atol={ns.atol:g})")
        return 0
    return 1
