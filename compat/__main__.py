"""`python -m compat FILE.py [args]` / `python -m compat FILE.ipynb`: run torch code on compat.

Options:
  --parity FILE   run FILE under real torch and under compat, and report where outputs differ.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] == "--parity":
        from ._parity import main as parity_main

        return parity_main(argv[1:])
    from ._runner import run_path

    return run_path(argv[0], argv[1:])


if __name__ == "__main__":
    sys.exit(main())
