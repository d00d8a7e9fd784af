"""Regenerates `tests/parity/recorded/torch_results.json` from live torch.

Usage (torch installed)::

    PYTHONPATH=. python tests/parity/record.py

Every parity case (by name) is run under real torch and its encoded observations are written,
so the suite can compare compat against torch where torch cannot be imported.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    import torch
    from _parity_harness import RECORDED, run_case, save_recorded
    from _parity_registry import ALL_CASES

    results = {c.name: run_case(c, torch) for c in ALL_CASES}
    save_recorded(results, torch.__version__)
    print(f"wrote {len(results)} cases to {RECORDED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
