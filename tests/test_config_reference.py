"""The generated config reference (docs/config-reference.md), `gatectl config show` with its
secrets masked, and the TOML writer both use."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.config import load_config, parse_config
from firmware_app.config.key_docs import KEY_DOCS
from firmware_app.config.model import GateConfig
from firmware_app.config.reference import key_docs, render_markdown
from firmware_app.config.toml_text import dump_sections, toml_value
from firmware_app.deploy.config_view import MASK, config_text, effective
from tests.deploy_helpers import run_cli

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "config-reference.md"
SHIPPED = [ROOT / "config/default.toml", *sorted((ROOT / "config/examples").glob("*.toml"))]


def test_the_reference_in_docs_is_current():
    assert REFERENCE.read_text() == render_markdown(), \
        "docs/config-reference.md is stale: .venv/bin/gatectl config reference > docs/config-reference.md"


def test_every_key_has_a_description_and_a_default_or_is_required():
    docs = key_docs()
    assert len(docs) > 100
    assert [d.path for d in docs if not d.description.strip()] == []
    assert all(d.default for d in docs)


def test_the_side_table_names_only_real_keys_the_model_leaves_undescribed():
    described_in_model = {d.path for d in key_docs() if d.description != KEY_DOCS.get(d.path)}
    assert set(KEY_DOCS) <= {d.path for d in key_docs()}, "KEY_DOCS names a key the model does not have"
    assert set(KEY_DOCS) & described_in_model == set(), "a key described in the model and in KEY_DOCS"


def test_a_new_undescribed_key_would_fail(monkeypatch):
    from firmware_app.config import reference
    monkeypatch.setattr(reference, "KEY_DOCS", {k: v for k, v in KEY_DOCS.items() if k != "lane.chip_s"})
    assert "lane.chip_s" in [d.path for d in reference.key_docs() if not d.description]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_every_shipped_config_written_back_reads_the_same(path):
    config = load_config(path)
    assert parse_config(config_text(config)) == config


def test_config_show_masks_secrets_and_fills_in_defaults(tmp_path, capsys):
    path = tmp_path / "gate.toml"
    path.write_text('[device]\nid = "gate-s"\npost_id = "p"\n[reader]\nurl = "sim://"\n'
                    '[bmis]\ncert_file = "/srv/id/secret-name.crt"\nkey_file = "/srv/id/hidden-key-location.key"\n'
                    '[kiosk]\ntoken_file = "/run/kiosk/secret-token-path"\n'
                    '[identity]\nrenew_command = ["curl", "--user", "ca:pa55word", "https://ca"]\n')
    code, out, _ = run_cli(capsys, "config", "show", "--config", str(path))
    assert code == 0
    for secret in ("hidden-key-location", "secret-token-path", "pa55word"):
        assert secret not in out
    shown = tomllib.loads(out)
    assert shown["bmis"]["key_file"] == MASK and shown["identity"]["renew_command"] == MASK
    assert shown["bmis"]["cert_file"] == "/srv/id/secret-name.crt"          # a certificate is public
    assert shown["lane"]["chip_s"] == 15.0 and shown["device"]["data_dir"] == "var"     # defaults filled in
    code, out, _ = run_cli(capsys, "config", "show", "--config", str(path), "--json")
    assert code == 0 and "hidden-key-location" not in out


def test_config_show_names_the_problem_of_a_bad_config(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[device]\nid = "g"\npost_id = "p"\n[reader]\nurl = "sim://"\nspeed = 3\n')
    code, _, err = run_cli(capsys, "config", "show", "--config", str(path))
    assert code == 2 and "reader.speed: unknown key" in err


_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=40)
_scalar = st.one_of(_text, st.integers(-2**63, 2**63 - 1), st.floats(allow_nan=False), st.booleans())


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
                       st.dictionaries(st.from_regex(r"[a-z_]{1,12}", fullmatch=True),
                                       st.one_of(_scalar, st.lists(_scalar, max_size=3)), max_size=5),
                       max_size=4))
def test_the_toml_writer_reads_back_what_it_wrote(data):
    assert tomllib.loads(dump_sections(data)) == data


def test_the_toml_writer_refuses_what_it_cannot_spell():
    with pytest.raises(TypeError):
        toml_value(object())


def test_effective_config_is_the_model_with_defaults():
    config = GateConfig.model_validate({"device": {"id": "g", "post_id": "p"}, "reader": {"url": "sim://"}})
    data = effective(config)
    assert data["identity"]["renew_before_days"] == 30 and data["gate"]["entry"]["relay"] == 17
