"""One-stop border post config (issue 17): two authorities, strictly validated; without them the
config is the single-authority lane."""
from __future__ import annotations

from pathlib import Path

import pytest

from firmware_app.config import load_config, parse_config
from firmware_app.config.onestop import AuthorityRole, SharedField, authorities_by_role
from firmware_app.config.permissions import anchors
from firmware_app.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = (ROOT / "config" / "examples" / "onestop.toml").read_text()
BASE = '[device]\nid = "g1"\npost_id = "p1"\ndata_dir = "var/x"\n[reader]\nurl = "sim://"\n'
AGREEMENT = '[onestop]\nshared_fields = ["document_number", "nationality"]\n'


def authority(role="exit", country="UTO", data_dir=None, port=None, keys=None, policy="", extra=""):
    data_dir = data_dir or f"var/{country.lower()}"
    port = port or (8883 if role == "exit" else 8884)
    keys = keys or f"{data_dir}/keys"
    return (f'[[authority]]\nrole = "{role}"\ncountry = "{country}"\ndata_dir = "{data_dir}"\n{extra}'
            f'[authority.bmis]\nport = {port}\ncommand_keys_dir = "{keys}"\n'
            f'[authority.policy]\n{policy}')


def two(**entry) -> str:
    return BASE + AGREEMENT + authority() + authority(**{"role": "entry", "country": "ARC", **entry})


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    return " | ".join(err.value.problems)


def test_without_authorities_the_config_is_the_single_authority_lane():
    config = parse_config(BASE)
    assert config.authority == [] and config.onestop is None


def test_shipped_example_has_one_exit_and_one_entry_authority():
    config = parse_config(EXAMPLE)
    exit_, entry = authorities_by_role(config.authority)
    assert (exit_.country, entry.country) == ("UTO", "ARC")
    assert exit_.policy.exit_ban_lists == ["exit-bans"] and entry.policy.visa_required == ["XXA"]
    assert entry.bmis.prefix == "arc-gates" and not entry.policy.allow_offline
    assert len(config.onestop.shared_fields) == len(SharedField)


def test_each_authority_may_have_its_own_trust_store():
    config = parse_config(two(extra='csca_dir = "var/arc/csca"\nmaster_list_roots = ["var/arc/root.pem"]\n'))
    exit_, entry = authorities_by_role(config.authority)
    assert exit_.csca_dir is None and entry.csca_dir == Path("var/arc/csca")
    assert entry.master_list_roots == [Path("var/arc/root.pem")]


def test_two_authorities_parse():
    config = parse_config(two())
    assert [a.role for a in config.authority] == [AuthorityRole.EXIT, AuthorityRole.ENTRY]
    assert config.onestop.shared_fields == [SharedField.DOCUMENT_NUMBER, SharedField.NATIONALITY]


@pytest.mark.parametrize("text, says", [
    (BASE + AGREEMENT + authority(), "exactly one exit and one entry"),
    (BASE + AGREEMENT + authority() + authority(country="ARC", port=8884), "exactly one exit and one entry"),
    (two(country="UTO"), "different countries"),
    (two(data_dir="var/uto"), "own data_dir"),
    (two(data_dir="var/x"), "own data_dir"),
    (two(port=8883), "own BMIS broker"),
    (two(keys="var/uto/keys"), "own command_keys_dir"),
    (BASE + authority() + authority(role="entry", country="ARC"), "[onestop] shared_fields"),
    (BASE + AGREEMENT, "[onestop] needs two"),
    (two(policy='exit_ban_lists = ["bans"]\n'), "exit rule"),
    (BASE + AGREEMENT + authority(policy='visa_required = ["XXA"]\n')
     + authority(role="entry", country="ARC"), "entry rule"),
    (two(extra='csca_dir = "config/csca"\n'), "csca_dir is [smartcard] csca_dir"),
    (two(extra='master_list = "x.ml"\n'), "need the authority's own csca_dir"),
    (BASE + AGREEMENT + authority(extra='csca_dir = "var/pki"\n')
     + authority(role="entry", country="ARC", extra='csca_dir = "var/pki"\n'), "must be its own"),
    (two(policy='document_types = ["passport"]\n'), "document_types"),
    (two(policy='visa_required = ["zz"]\n'), "visa_required"),
    (two().replace('["document_number", "nationality"]', '["document_number", "document_number"]'), "repeat"),
    (two().replace('"nationality"]', '"face_image"]'), "shared_fields"),
    (two(policy="colour = 1\n"), "unknown key"),
])
def test_inconsistent_one_stop_configs_are_refused(text, says):
    assert says in problems(text)


def test_config_check_checks_each_authoritys_keys(tmp_path):
    key = tmp_path / "arc.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    key.chmod(0o644)
    config = parse_config(two().replace('[authority.bmis]\nport = 8884\n',
                                        f'[authority.bmis]\nport = 8884\ncert_file = "{tmp_path}/arc.pem"\n'
                                        f'key_file = "{key}"\n'))
    roles = {a.role for a in anchors(config)}
    assert {"authority[exit].bmis.command_keys_dir", "authority[entry].bmis.key_file"} <= roles
    from firmware_app.config.permissions import permission_problems
    assert any("authority[entry].bmis.key_file" in p for p in permission_problems(config))


def test_shipped_example_loads_from_file():
    assert load_config(ROOT / "config" / "examples" / "onestop.toml").onestop is not None


def test_config_show_masks_each_authoritys_private_key(capsys):
    from firmware_app.cli import main as gatectl
    from firmware_app.deploy.config_view import effective, secret_values
    assert gatectl(["config", "show", "--config", str(ROOT / "config" / "examples" / "onestop.toml")]) == 0
    shown = capsys.readouterr().out
    assert "osbp-lane-01.key" not in shown and shown.count("***masked***") >= 2
    assert "var/osbp/arc/pki/osbp-lane-01.key" in secret_values(effective(parse_config(EXAMPLE)))
