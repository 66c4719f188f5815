from pathlib import Path

import pytest

from firmware_app.cli import main as gatectl
from firmware_app.config import load_config, parse_config
from firmware_app.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\n[reader]\nurl = "sim://"\n'


def test_default_config_is_valid_and_simulated():
    config = load_config(ROOT / "config" / "default.toml")
    assert config.reader.url.startswith("sim://")
    assert config.gate.pin_factory.value == "mock"


def test_unknown_key_is_named_with_its_path():
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL + "baud = 3\n")
    assert "reader.baud: unknown key" in err.value.problems


def test_missing_section_and_bad_value_are_both_reported():
    with pytest.raises(ConfigError) as err:
        parse_config('[device]\nid = "bad id!"\npost_id = "p"\n')
    text = " | ".join(err.value.problems)
    assert "reader: required key is missing" in text
    assert "device.id" in text


def test_broken_toml_is_a_config_error():
    with pytest.raises(ConfigError) as err:
        parse_config("[device\nid=")
    assert "not valid TOML" in err.value.problems[0]


def test_config_check_cli_exit_codes(tmp_path, capsys):
    good = tmp_path / "good.toml"
    good.write_text(MINIMAL)
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL + "[gate]\npin_factory = 'magic'\n")
    assert gatectl(["config", "check", str(good)]) == 0
    assert gatectl(["config", "check", str(bad)]) == 2
    assert "gate.pin_factory" in capsys.readouterr().err
    assert gatectl(["config", "check", str(tmp_path / "absent.toml")]) == 2


def test_bad_config_never_starts_the_app(tmp_path):
    from firmware_app.app import main as app_main
    bad = tmp_path / "bad.toml"
    bad.write_text("[device]\n")
    assert app_main(["--config", str(bad)]) == 2


def test_pad_section_defaults_and_required_needs_enabled():
    config = parse_config(MINIMAL)
    assert config.face.pad.enabled and not config.face.pad.required and config.face.pad.live_threshold is None
    assert load_config(ROOT / "config" / "examples" / "pi-mantrap.toml").face.pad.required
    with pytest.raises(ConfigError) as err:
        parse_config(MINIMAL + "[face.pad]\nenabled = false\nrequired = true\n")
    assert "face.pad.required = true needs face.pad.enabled = true" in " ".join(err.value.problems)
    with pytest.raises(ConfigError):
        parse_config(MINIMAL + "[face.pad]\nlive_threshold = 1.5\n")


def test_config_check_refuses_a_match_threshold_below_the_calibrated_one(tmp_path, capsys, monkeypatch):
    import json
    models = tmp_path / "models"
    models.mkdir()
    (models / "manifest.json").write_text(json.dumps({"models": {"recognizer": {
        "file": "r.onnx", "sha256": "0" * 64, "threshold": 0.44, "threshold_fmr": 0.001}}}))
    monkeypatch.chdir(tmp_path)
    for threshold, code in ((0.40, 2), (0.44, 0), (0.5, 0)):
        config = tmp_path / f"c{threshold}.toml"
        config.write_text(MINIMAL + f'[face]\nmodels_dir = "models"\nthreshold = {threshold}\n')
        assert gatectl(["config", "check", str(config)]) == code
    assert "face.threshold 0.4 is below the calibrated 0.44" in capsys.readouterr().err
    for path in [ROOT / "config" / "default.toml", *sorted((ROOT / "config" / "examples").glob("*.toml"))]:
        name = path.name
        if path.suffix == ".toml" and "[device]" in path.read_text():
            assert gatectl(["config", "check", str(path)]) == 0, name


READER_OPTIONS = ("Framing", "RteBccScope", "RteLengthScope", "RteMode", "CuteDelimiters", "Parity")


@pytest.mark.parametrize("name", READER_OPTIONS)
def test_the_reader_section_and_the_driver_share_one_definition_of_each_option(name):
    # A second definition would drift apart in silence (a value added to one side only).
    import drivers.passport_reader as driver
    import drivers.reader_options as shared
    from firmware_app.config import model, reader
    assert getattr(reader, name) is getattr(shared, name) is getattr(driver, name) is getattr(model, name)


def test_the_config_model_names_the_reader_and_gate_options_without_loading_either_driver():
    import subprocess
    import sys
    probe = ("import sys, firmware_app.config; "
             "print([name for name in ('drivers.passport_reader', 'drivers.gate') if name in sys.modules])")
    loaded = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=True).stdout.strip()
    assert loaded == "[]"
