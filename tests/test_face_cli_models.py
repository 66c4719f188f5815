"""`gatectl face`: the models folder comes from --models or the config's face.models_dir (taken from
the working directory, as gate-app takes it), never from beside the source files."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from firmware_app.cli import main

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\n[reader]\nurl = "sim://"\n'


def _config(tmp_path: Path, models_dir: Path | str) -> Path:
    path = tmp_path / "gate.toml"
    path.write_text(MINIMAL + f'[face]\nmodels_dir = "{models_dir}"\n')
    return path


def test_a_relative_models_dir_is_taken_from_the_working_directory_and_named_when_missing(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    config = _config(tmp_path, "weights")
    assert main(["face", "check", "--config", str(config), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["error"] == "ModelUnavailable"
    assert str(tmp_path / "weights") in report["detail"] and str(config) in report["detail"]


def test_verify_with_a_missing_models_folder_exits_2_naming_it(tmp_path, capsys):
    missing = tmp_path / "no-models"
    assert main(["face", "verify", "a.jpg", "b.jpg", "--models", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_without_a_readable_config_or_models_the_command_exits_2_naming_the_file(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)     # as after a wheel install: no config/default.toml here
    assert main(["face", "check"]) == 2
    assert "config/default.toml" in capsys.readouterr().err


def test_the_configured_models_dir_is_used_from_any_working_directory(tmp_path, monkeypatch, capsys):
    if not (ROOT / "models" / "manifest.json").is_file():
        pytest.skip("face models not fetched (make setup)")
    monkeypatch.chdir(tmp_path)
    assert main(["face", "check", "--config", str(_config(tmp_path, ROOT / "models")), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["models"] == str(ROOT / "models")
