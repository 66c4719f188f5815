"""`gatectl logs export`: the support bundle leaves personal data behind. Personal data is planted
in a real journal (written by systemd-journal-remote, read by journalctl) and in a real outbox,
and none of it may be found in any file of the bundle."""
from __future__ import annotations

import datetime as dt
import json
import shutil
import stat
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.bmis.contract import Identity, MessageKind
from firmware_app.bmis.outbox.queue import Outbox
from firmware_app.deploy.redact import redact
from tests.deploy_helpers import run_cli
from tests.test_bmis_contract import CROSSING

JOURNAL_REMOTE = next((p for p in ("/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote")
                       if Path(p).exists()), None)
needs_journal = pytest.mark.skipif(JOURNAL_REMOTE is None or shutil.which("journalctl") is None,
                                   reason="systemd-journal-remote not installed (Debian package of that name)")

MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
PORTRAIT_B64 = ("/9j/4AAQSkZJRgABAQEASABIAAD/2wBDAAgGBgcGBQgHBwcJCQgKDBQNDAsLDBkSEw8UHRofHh0aHBwgJC4nICIsIxwcKDcp"
                "LDAxNDQ0Hyc5PTgyPC4zNDL/")
PERSONAL = ("ERIKSSON", "ANNA", "MARIA", "L898902C3", "740812", "/9j/4AAQ", "UTO7408122F")


def _entry(when: dt.datetime, priority: int, message: str, unit: str = "gate-app.service") -> str:
    return (f"__REALTIME_TIMESTAMP={int(when.timestamp() * 1e6)}\n_SYSTEMD_UNIT={unit}\n"
            f"SYSLOG_IDENTIFIER={unit.split('.')[0]}\nPRIORITY={priority}\nMESSAGE={message}\n\n")


def _journal(directory: Path, now: dt.datetime) -> Path:
    entries = [
        _entry(now - dt.timedelta(days=3), 6, "an old entry before --since"),
        _entry(now - dt.timedelta(minutes=9), 6, "BMIS broker connected (session present: True)"),
        _entry(now - dt.timedelta(minutes=8), 6, f"document read: {MRZ[0]} {MRZ[1]}"),
        _entry(now - dt.timedelta(minutes=7), 6, "crossing " + json.dumps(
            {"document_number": "L898902C3", "primary_identifier": "ERIKSSON", "secondary_identifier": "ANNA MARIA",
             "date_of_birth": "740812", "decision": "pass"})),
        _entry(now - dt.timedelta(minutes=6), 4,
               "holder surname=ERIKSSON given_names='ANNA MARIA' doc_number=L898902C3"),
        _entry(now - dt.timedelta(minutes=5), 7, "traveller Anna Maria Eriksson in free text at DEBUG"),
        _entry(now - dt.timedelta(minutes=4), 6, f"portrait {PORTRAIT_B64 * 3}"),
        _entry(now - dt.timedelta(minutes=3), 3, "lines joined " + MRZ[0] + MRZ[1], "gate-safety.service"),
        _entry(now - dt.timedelta(minutes=2), 6, "somebody else's unit", "cron.service"),
    ]
    directory.mkdir(parents=True)
    subprocess.run([JOURNAL_REMOTE, "-o", str(directory / "gate.journal"), "-"], input="".join(entries).encode(),
                   capture_output=True, timeout=60, check=True)
    return directory


def _gate(tmp_path: Path) -> Path:
    data = tmp_path / "var"
    outbox = Outbox(data / "bmis-outbox.db", Identity("gate-s", "post-t", "gates"),
                    clock=lambda: dt.datetime.now(dt.UTC), id_source=uuid.uuid4)
    outbox.add(MessageKind.CROSSING, {**CROSSING, "device_id": "gate-s"})   # ERIKSSON, L898902C3, 740812
    outbox.close()
    (data / "portrait.jpg").write_bytes(b"\xff\xd8\xff\xe0ERIKSSON")
    config = tmp_path / "gate.toml"
    config.write_text(f'[device]\nid = "gate-s"\npost_id = "post-t"\ndata_dir = "{data}"\n[reader]\nurl = "sim://"\n'
                      f'[smartcard]\ncsca_dir = "{tmp_path / "csca"}"\n[clock]\ntrusted = true\n'
                      '[bmis]\nkey_file = "/srv/secret/key-path.key"\ncert_file = "/srv/secret/c.crt"\n')
    return config


def _members(path: Path) -> dict[str, str]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read().decode() for m in tar.getmembers()}


@needs_journal
def test_the_bundle_keeps_what_support_needs_and_no_personal_data(tmp_path, capsys):
    now = dt.datetime.now(dt.UTC)
    journal, config, out = _journal(tmp_path / "journal", now), _gate(tmp_path), tmp_path / "support.tar.gz"
    since = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S UTC")
    code, printed, err = run_cli(capsys, "logs", "export", "--config", str(config), "--journal-dir", str(journal),
                                 "--since", since, "--out", str(out))
    assert code == 0, err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    members = _members(out)
    assert set(members) >= {f"support/{n}" for n in ("journal.txt", "config-show.toml", "config-check.txt",
                                                      "selftest.json", "versions.json", "outbox.json", "README.txt")}
    everything = "\n".join(members.values())
    for planted in PERSONAL + ("key-path",):
        assert planted.lower() not in everything.lower(), planted
    journal_text = members["support/journal.txt"]
    assert "BMIS broker connected" in journal_text and "[MRZ REDACTED]" in journal_text
    assert "gate-safety.service p3" in journal_text and "decision" in journal_text
    assert "old entry" not in journal_text and "cron.service" not in journal_text and "DEBUG" not in journal_text
    outbox = json.loads(members["support/outbox.json"])
    assert outbox["pending"] >= 1
    assert json.loads(members["support/selftest.json"])["device_id"] == "gate-s"
    assert json.loads(members["support/versions.json"])["border_gate"]
    assert "mrz_line" in members["support/README.txt"]


def test_without_a_usable_config_the_bundle_still_says_why(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[device]\nid = 'x'\n")
    out = tmp_path / "b.tar.gz"
    code, _, err = run_cli(capsys, "logs", "export", "--config", str(bad), "--journal-dir", str(tmp_path / "none"),
                           "--out", str(out))
    assert code == 0, err
    assert "post_id: required key is missing" in _members(out)["support/config-check.txt"]


_mrz_char = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<")


@settings(max_examples=200, deadline=None)
@given(st.text(_mrz_char, min_size=29, max_size=88), st.integers(0, 28),
       st.text(st.characters(blacklist_characters="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"), max_size=20),
       st.text(st.characters(blacklist_characters="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"), max_size=20))
def test_any_mrz_run_is_redacted_wherever_it_sits(body, where, before, after):
    line = body[:where] + "<" + body[where:]
    assert line not in redact(before + line + after)


@pytest.mark.parametrize("text", [
    '{"surname": "ERIKSSON", "given_names": ["ANNA", "MARIA"]}', "document_number=L898902C3",
    "date_of_birth: 740812", "nationality='UTO'", '"dg2": {"len": 1}', "dob=740812"])
def test_personal_fields_are_redacted_by_name(text):
    redacted = redact(text)
    assert "[REDACTED]" in redacted
    for word in ("ERIKSSON", "ANNA", "L898902C3", "740812", "UTO", "len"):
        assert word not in redacted


def test_ordinary_operations_text_survives():
    text = 'health {"name": "face", "status": "ok", "detail": "warm"} outbox pending=3 device_id=gate-s'
    assert redact(text) == text
