"""`gatectl mrz parse`: exit codes and JSON output, run in-process and as the installed script."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from firmware_app.cli import main

TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
GATECTL = Path(sys.executable).with_name("gatectl")


def run(argv, capsys, stdin: bytes | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin)))
    code = main(["mrz", "parse", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_mrz_exits_0_with_json(capsys):
    code, out, _ = run(["--json", "--today", "2026-11-26", *TD3], capsys)
    data = json.loads(out)
    assert code == 0 and data["valid"] is True and data["format"] == "TD3"
    assert data["mrz_information"] == "L898902C3674081221204159"


def test_invalid_mrz_exits_1(capsys):
    broken = [TD3[0], TD3[1][:9] + "0" + TD3[1][10:]]
    code, out, _ = run(["--no-repair", *broken], capsys)
    assert code == 1 and out.startswith("INVALID TD3")
    assert "check_digit_mismatch" in out


def test_unconfirmed_repair_is_a_candidate_not_a_valid_mrz(capsys):
    # issue 9: the document number check digit misread (6 -> 5) used to be "repaired" by
    # changing the correct number; now the MRZ is invalid and the readings are listed
    misread = [TD3[0], TD3[1][:9] + "5" + TD3[1][10:]]
    code, out, _ = run(["--json", "--today", "2026-11-26", *misread], capsys)
    data = json.loads(out)
    assert code == 1 and data["valid"] is False and data["repairs"] == []
    assert TD3 in [c["lines"] for c in data["candidates"]]
    assert all(r["verified"] is False for c in data["candidates"] for r in c["repairs"])
    code, out, _ = run(["--today", "2026-11-26", *misread], capsys)
    assert code == 1 and "candidate 1 (unconfirmed" in out and "5 -> 6 (document_number_cd)" in out


def test_lines_from_stdin(capsys, monkeypatch):
    code, out, _ = run(["--json"], capsys, ("\n".join(TD3) + "\n").encode(), monkeypatch)
    assert code == 0 and json.loads(out)["document_number"] == "L898902C3"


@pytest.mark.parametrize("stdin", [b"hello\n", b"\xff\xfe\x00", b"P" * 1_000_000, b"\n\n"])
def test_unreadable_or_empty_input_exits_2(capsys, monkeypatch, stdin):
    code, _, err = run([], capsys, stdin, monkeypatch)
    assert code == 2 and err.startswith("gatectl:")
    assert "Traceback" not in err


def test_usage_errors_exit_2(capsys):
    assert run(["--today", "2026-13-01", *TD3], capsys)[0] == 2
    assert run(["--expiry-future-years", "0", *TD3], capsys)[0] == 2


def test_installed_script_exit_codes():
    if not GATECTL.exists():
        pytest.skip("gatectl script not installed in this environment")
    ok = subprocess.run([GATECTL, "mrz", "parse", *TD3], capture_output=True, text=True, timeout=60)
    bad = subprocess.run([GATECTL, "mrz", "parse"], input="x" * 10, capture_output=True, text=True,
                         timeout=60)
    assert ok.returncode == 0 and "VALID TD3" in ok.stdout
    assert bad.returncode == 2
