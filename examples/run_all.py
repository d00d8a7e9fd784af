"""Runs every seed example with funcgrad under ``jax.jit`` and prints one checked table.

Usage::

    python examples/run_all.py [--no-torch] [--plots DIR]

Each row is one quantity from one example of a seed document: the funcgrad value (computed on
the default JAX device), the closed form, the number the document prints (if it prints one),
and the value torch computes live for the same program (if torch is importable and
``--no-torch`` is not given). The exit status is 1 if any row does not match all of its
references.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402

from examples._common import Row, format_table, torch_available, with_torch  # noqa: E402

MODULES = (
    "examples.seed000_scalar_and_tensors",
    "examples.seed001_graphs",
    "examples.seed002_d2l_gradients",
    "examples.seed003_d2l_autodiff",
    "examples.seed004_accumulation",
)


def collect(use_torch: bool) -> list[Row]:
    """Every module's rows, with the torch column filled in when ``use_torch``."""
    rows: list[Row] = []
    for name in MODULES:
        module = importlib.import_module(name)
        module_rows = module.run()
        if use_torch:
            module_rows = with_torch(module_rows, module.torch_reference())
        rows.extend(module_rows)
    return rows


def save_plots(out_dir: Path) -> list[Path]:
    """Saves the seed 000 and 004 plots; returns [] if matplotlib is not installed."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("--plots: matplotlib is not installed; no plots saved.")
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "plot"):
            paths.extend(module.plot(out_dir))
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-torch", action="store_true", help="do not compute torch values")
    parser.add_argument("--plots", metavar="DIR", type=Path, help="save matplotlib plots here")
    args = parser.parse_args(argv)

    use_torch = not args.no_torch and torch_available()
    device = jax.devices()[0]
    print(f"JAX {jax.__version__}, backend {jax.default_backend()}, device {device}")
    if use_torch:
        import torch

        print(f"torch {torch.__version__} (live reference values)")
    else:
        reason = "--no-torch" if args.no_torch else "torch is not importable"
        print(f"torch column: - ({reason}); checked against closed forms and documented values")
    print()

    rows = collect(use_torch)
    print(format_table(rows))
    failed = [r for r in rows if not r.ok]
    with_torch_count = sum(r.torch is not None for r in rows)
    print(
        f"\n{len(rows) - len(failed)} of {len(rows)} rows ok "
        f"({sum(r.documented is not None for r in rows)} against documented values, "
        f"{with_torch_count} against live torch)"
        + (
            f"; FAILED: {', '.join(f'{r.seed}/{r.example}/{r.quantity}' for r in failed)}"
            if failed
            else ""
        )
    )
    if args.plots is not None:
        for path in save_plots(args.plots):
            print(f"saved {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
