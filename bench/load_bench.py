"""Load figures through the real assembled appliance with the timing model (424 kbit/s, PACE +
extended-length chips, the walking traveller): a short `gatesim load` that prints machine time and
lane cycle against the targets, per-step p50/p95/p99, travellers per hour per lane, memory and CPU.
Starts pcscd, so run it under the lock:

    flock /tmp/pcscd.lock .venv/bin/python -m bench load_bench [--travellers N] [--lanes M] [gatesim load options]

Reports (JSON, JUnit XML, summary, PNG charts) go to var/load-bench/. The 5,000-traveller memory
soak is bench/soak_bench.py (docs/scenarios.md, "Load runs").
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.cli import main as gatesim

DEFAULTS = {"--travellers": "20", "--out": "var/load-bench"}


def main(argv: list[str]) -> int:
    args = list(argv)
    for option, value in DEFAULTS.items():
        if option not in args:
            args += [option, value]
    return gatesim(["load", *args])


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
