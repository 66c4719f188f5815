"""Officer credentials: salted scrypt file (0600), verification, lockout, `gatectl officer add`."""
from __future__ import annotations

import io
import os
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.cli import main as gatectl
from firmware_app.officer import CredentialError, LockedOut, OfficerStore

GOOD = "correct horse battery"


def store(tmp_path, now=None, **kw):
    clock = now if now is not None else [0.0]
    return OfficerStore(tmp_path / "officers", monotonic=lambda: clock[0], **kw), clock


def test_an_added_officer_logs_in_with_the_password_only(tmp_path):
    officers, _ = store(tmp_path)
    officers.add("officer-7", GOOD)
    assert officers.verify("officer-7", GOOD)
    assert not officers.verify("officer-7", GOOD + "x")
    assert not officers.verify("nobody", GOOD)
    text = (tmp_path / "officers").read_text()
    assert GOOD not in text and text.startswith("officer-7:scrypt:16384:8:1:")
    assert stat.S_IMODE((tmp_path / "officers").stat().st_mode) == 0o600


def test_same_password_two_officers_different_salts(tmp_path):
    officers, _ = store(tmp_path)
    officers.add("a1", GOOD)
    officers.add("b2", GOOD)
    lines = (tmp_path / "officers").read_text().splitlines()
    assert lines[0].split(":")[5] != lines[1].split(":")[5] and lines[0].split(":")[6] != lines[1].split(":")[6]


def test_failed_attempts_lock_the_name_out_even_for_the_right_password(tmp_path):
    officers, clock = store(tmp_path, max_failures=3, lockout_s=60)
    officers.add("officer-7", GOOD)
    for _ in range(3):
        assert not officers.verify("officer-7", "wrong password!")
    with pytest.raises(LockedOut):
        officers.verify("officer-7", GOOD)
    clock[0] = 61.0
    assert officers.verify("officer-7", GOOD)


@pytest.mark.parametrize("name, password", [("Bad Name", GOOD), ("ok", "short"), ("", GOOD)])
def test_weak_or_malformed_entries_are_refused(tmp_path, name, password):
    officers, _ = store(tmp_path)
    with pytest.raises(CredentialError):
        officers.add(name, password)


@settings(max_examples=40, deadline=None)
@given(st.text(max_size=300))
def test_any_credential_file_reads_or_is_refused_typed(text):
    import tempfile
    from pathlib import Path
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "officers"
        path.write_text(text)
        try:
            OfficerStore(path).names()
        except CredentialError:
            pass


def test_gatectl_officer_add_and_list(tmp_path, monkeypatch, capsys):
    path = tmp_path / "officers"
    monkeypatch.setattr("sys.stdin", io.StringIO(GOOD + "\n"))
    assert gatectl(["officer", "add", "officer-9", "--file", str(path), "--password-stdin"]) == 0
    assert OfficerStore(path).verify("officer-9", GOOD)
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert gatectl(["officer", "add", "officer-8", "--file", str(path), "--password-stdin"]) == 2
    capsys.readouterr()
    assert gatectl(["officer", "list", "--file", str(path)]) == 0
    assert capsys.readouterr().out.split() == ["officer-9"]


def test_gatectl_officer_audit_lists_logins_and_decisions(tmp_path, capsys):
    import datetime as dt
    import json

    from firmware_app.officer import AuditAction, OfficerAudit
    path = tmp_path / "officer-audit.db"
    audit = OfficerAudit.open(path, lambda: dt.datetime(2026, 12, 6, 9, tzinfo=dt.UTC))
    audit.record("officer-7", AuditAction.LOGIN, peer="10.0.0.9")
    audit.record("officer-7", AuditAction.DECISION, txn_id="T-1", verdict="accept", applied=True)
    audit.record("officer-8", AuditAction.DECISION, txn_id="T-1", verdict="reject", applied=False)
    audit.close()
    assert gatectl(["officer", "audit", "--file", str(path), "--txn", "T-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and "accept (to the lane)" in lines[0] and "reject (stale: not used)" in lines[1]
    assert gatectl(["officer", "audit", "--file", str(path), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["officer"], r["action"], r["applied"]) for r in rows] == [
        ("officer-7", "login", None), ("officer-7", "decision", True), ("officer-8", "decision", False)]
    assert gatectl(["officer", "audit", "--file", str(tmp_path / "missing.db")]) == 2



@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_root_adding_an_officer_keeps_the_file_the_gate_user_s(tmp_path):
    path = tmp_path / "officers"
    path.touch(mode=0o600)
    os.chown(path, 65534, 65534)        # the gate user (here: nobody) owns it, as postinst makes it
    OfficerStore(path).add("officer-9", "a long enough password")
    info = path.stat()
    assert (info.st_uid, info.st_gid, info.st_mode & 0o777) == (65534, 65534, 0o600)
    assert OfficerStore(path).names() == ["officer-9"]
