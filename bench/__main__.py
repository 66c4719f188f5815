"""Run every bench/*_bench.py's main(), or only those whose name contains the given filter.

    .venv/bin/python -m bench            # all
    .venv/bin/python -m bench face_eval  # bench/face_eval_bench.py only (extra args are passed on)
"""
from __future__ import annotations

import importlib
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    name_filter, rest = (argv[0], argv[1:]) if argv and not argv[0].startswith("-") else ("", argv)
    modules = sorted(path.stem for path in HERE.glob("*_bench.py") if name_filter in path.stem)
    if not modules:
        print(f"bench: nothing matches {name_filter!r}", file=sys.stderr)
        return 2
    status = 0
    for module in modules:
        print(f"== {module}")
        status |= importlib.import_module(f"bench.{module}").main(rest) or 0
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
