"""`make bench`: the benches that start pcscd run under the pcscd lock (configurable), the others
without it; run with a stand-in Python that records, for each bench, whether the lock was held."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RECORDER = """#!/bin/sh
# called as: recorder -m bench NAME
if flock -n "$BENCH_LOCK_PROBE" true; then state=free; else state=locked; fi
echo "$3 $state" >> "$BENCH_RECORD"
[ "$3" != "$BENCH_FAIL" ]
"""


def bench_names() -> list[str]:
    return sorted(path.stem for path in (ROOT / "bench").glob("*_bench.py"))


def run_make_bench(tmp_path: Path, fail: str = "") -> tuple[subprocess.CompletedProcess, dict[str, str]]:
    recorder, record, lock = tmp_path / "python", tmp_path / "record", tmp_path / "pcscd.lock"
    recorder.write_text(RECORDER)
    recorder.chmod(0o755)
    env = {**os.environ, "BENCH_RECORD": str(record), "BENCH_LOCK_PROBE": str(lock), "BENCH_FAIL": fail}
    done = subprocess.run(["make", "-s", "-o", "setup", "bench", f"BENCH_PYTHON={recorder}",
                           f"PCSCD_LOCK={lock}"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    lines = record.read_text().split() if record.exists() else []
    return done, dict(zip(lines[::2], lines[1::2]))


def test_pcscd_benches_run_under_the_configured_lock_and_the_rest_without(tmp_path):
    done, states = run_make_bench(tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(states) == bench_names()                   # every bench, once
    starts_pcscd = {name for name in bench_names() if "pcscd" in (ROOT / "bench" / f"{name}.py").read_text()}
    assert {name for name, state in states.items() if state == "locked"} == starts_pcscd
    assert starts_pcscd >= {"chip_read_bench", "load_bench", "soak_bench"}


def test_a_failing_bench_fails_the_target_after_the_others_ran(tmp_path):
    done, states = run_make_bench(tmp_path, fail="chip_read_bench")
    assert done.returncode != 0
    assert sorted(states) == bench_names()


def test_each_bench_name_selects_only_its_own_bench():
    # `python -m bench NAME` runs every bench whose name contains NAME: the target relies on none
    # containing another's
    names = bench_names()
    assert [(a, b) for a in names for b in names if a != b and a in b] == []
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in names)
