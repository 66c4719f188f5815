"""`gatesim demo` on a fresh clone: no ../shared/data/faces, so the people are the public-domain
portraits that the `sim` extra's packages ship (simulator/portraits.py, NOTICE.md), varied into live
frames. The whole demo runs through the real assembled appliance (pty reader, pcscd + vpcd chip,
mosquitto with TLS, the reference BMIS consumer) and every traveller must end as expected."""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from simulator import scenario_cmd
from simulator.cli import main as gatesim
from simulator.portraits import BUNDLED, PORTRAITS, prepare_faces
from simulator.scenario import IMPOSTOR_LABEL, demo_scenario
from tests.pcsc_fixtures import pcscd_vpcd  # noqa: F401  (fixture)

EXPECTED = {
    "genuine passport": ("passed", ()),
    "forged: tampered data group": ("rejected", ("passive_auth_failed",)),
    "cloned chip": ("rejected", ("clone_suspected",)),
    IMPOSTOR_LABEL: ("referred", ("face_not_matched",)),
    "expired passport": ("rejected", ("document_expired",)),
    "alert-list hit (stolen document)": ("referred", ("alert_list_hit",)),
    "tailgater follows a genuine traveller": ("tailgating", ()),
    "emergency during the passage": ("voided", ()),
}


def test_both_bundled_portraits_are_installed_by_setup():
    missing = [f"{p.subject} ({p.package})" for p in PORTRAITS if p.path() is None]
    assert not missing, f"`make setup` installs the sim extra; missing: {missing}"


def test_without_the_shared_photos_the_bench_gets_the_bundled_people_only(tmp_path):
    faces = prepare_faces(None, tmp_path / "no-shared", tmp_path / "work", random.Random(1))
    assert faces.persons == {"hopper", "collins"} and faces.source is None
    for person in faces.persons:
        photos = sorted((faces.root / person).glob("img*.jpg"))
        assert len(photos) == 3
        assert photos[1].read_bytes() != photos[2].read_bytes()     # each live frame is its own
    assert "Grace Hopper" in faces.describe() and "Eileen Collins" in faces.describe()


def test_the_shared_photos_are_linked_in_place_beside_the_bundled_ones(tmp_path):
    shared = tmp_path / "shared"
    for person in ("person01", "_scenes", "one-photo"):
        (shared / person).mkdir(parents=True)
    for name in ("img1.jpg", "img2.jpg"):
        (shared / "person01" / name).write_bytes(b"x")
    (shared / "one-photo" / "img1.jpg").write_bytes(b"x")
    faces = prepare_faces(None, shared, tmp_path / "work", random.Random(1))
    assert faces.persons == {"hopper", "collins", "person01"}
    assert (faces.root / "person01").is_symlink() and not (faces.root / "_scenes").exists()
    only_bundled = prepare_faces(BUNDLED, shared, tmp_path / "work2", random.Random(1))
    assert only_bundled.persons == {"hopper", "collins"}


def test_the_demo_cast_uses_two_people_and_skips_the_impostor_with_one():
    both = demo_scenario({"hopper", "collins"})
    impostor = next(t for t in both.travellers if t.label == IMPOSTOR_LABEL)
    assert impostor.person != impostor.impostor and not both.skipped
    single = demo_scenario({"hopper"})
    assert IMPOSTOR_LABEL not in {t.label for t in single.travellers}
    assert len(single.skipped) == 1 and "second, different person" in single.skipped[0]
    assert {t.person for t in single.travellers} == {"hopper"}


def test_the_demo_runs_without_the_shared_photos(pcscd_vpcd, tmp_path, monkeypatch, capsys):
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        pytest.skip("mosquitto is not installed (apt-get install mosquitto)")
    monkeypatch.setattr(scenario_cmd, "DEFAULT_FACES", tmp_path / "no-shared" / "faces")
    _, port = pcscd_vpcd
    code = gatesim(["demo", "--vpcd-port", str(port), "--seed", "5"])
    out = capsys.readouterr()
    assert "bundled public-domain portraits" in out.out and "people from" not in out.out
    assert "PAD: OFF" in out.out and "skipped: presentation attack" in out.out
    lines = [line for line in out.out.splitlines() if line.startswith("  ") and ". " in line[:6]]
    assert len(lines) == len(EXPECTED), out.out + out.err
    for line in lines:
        label = next(lbl for lbl in EXPECTED if lbl in line)
        outcome, reasons = EXPECTED[label]
        fields = line.split(label, 1)[1].split()
        assert fields[0] == outcome, line
        assert set(reasons) <= set(fields[1].removeprefix("reasons=").split(",")), line
    assert "result: all travellers as expected" in out.out and code == 0, out.out + out.err
