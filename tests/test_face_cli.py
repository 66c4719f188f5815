"""`gatectl face verify`: single pair, CSV batch, exit codes."""
from __future__ import annotations

import json

import pytest

from firmware_app.cli import main


@pytest.fixture(scope="module")
def faces(shared_data):
    return shared_data / "faces"


def test_same_person_exits_0_with_json(faces, capsys):
    code = main(["face", "verify", str(faces / "person01/img1.jpg"), str(faces / "person01/img2.jpg"), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert code == 0 and result["match"] is True and result["score"] >= result["threshold"]
    assert result["quality"]["ok"] is True and result["pad"] == "not_performed"


def test_other_person_exits_1(faces, capsys):
    code = main(["face", "verify", str(faces / "person01/img1.jpg"), str(faces / "person02/img3.jpg")])
    assert code == 1 and "no_match" in capsys.readouterr().out


def test_unreadable_image_exits_2(faces, tmp_path, capsys):
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"\xff\xd8 not really")
    assert main(["face", "verify", str(faces / "person01/img1.jpg"), str(junk)]) == 2
    assert "junk.jpg" in capsys.readouterr().err


def test_usage_errors_exit_2(tmp_path, capsys):
    assert main(["face", "verify"]) == 2
    assert main(["face", "verify", "--pairs", str(tmp_path / "none.csv")]) == 2


def test_batch_gives_one_object_per_pair(faces, tmp_path, capsys):
    pairs = tmp_path / "pairs.csv"
    pairs.write_text("reference,live\n"
                     f"{faces / 'person01/img1.jpg'},{faces / 'person01/img5.jpg'}\n"
                     f"{faces / 'person01/img1.jpg'},{faces / '_scenes/couple.jpg'}\n"
                     f"{faces / 'person01/img1.jpg'},missing.jpg\n")
    code = main(["face", "verify", "--pairs", str(pairs), "--json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 2 and len(rows) == 3
    assert rows[0]["match"] is True
    assert rows[1]["decision"] == "quality_refused" and "multiple_faces" in rows[1]["quality"]["issues"]
    assert rows[2]["error"] == "unreadable" and rows[2]["score"] is None
    assert all({"score", "threshold", "match", "quality"} <= row.keys() for row in rows)


def test_face_check_reports_models_and_fails_without_them(tmp_path, capsys):
    assert main(["face", "check", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["threshold_fmr"] == 0.001
    assert report["pad"] in ("available", "UNAVAILABLE (model_unavailable)")
    assert main(["face", "check", "--models", str(tmp_path)]) == 1
    assert "unusable" in capsys.readouterr().out
