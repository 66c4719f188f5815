"""The technician's tools on a one-stop post (issue 17): `gatectl selftest` checks each authority's
own parts and says whose part failed and what the lane does about it; `gatectl status` shows each
authority's outbox and an outbox that cannot be read; `gatectl chip verify --authority` and
`gatectl update run-requests --authority` use that authority's trust store and command keys.

Two real mosquitto brokers (each its own CA, device certificate and ACL), real trust-store files
(test CSCAs and CRLs), real officer-console TLS pairs and credential files, the assembled appliance
on mock pins with its status socket, real SQLite outboxes. Brokers once for the module."""
from __future__ import annotations

import base64
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.bmis.commands.signing import public_key_pem, sign_command
from firmware_app.bmis.wiring import OUTBOX_FILE
from firmware_app.cli import main as gatectl
from firmware_app.cli.status_cmd import healthy, outbox_errors
from firmware_app.config import parse_config
from firmware_app.deploy.requests import spool
from firmware_app.status.metrics import render
from firmware_app.status.versions import certificate_expiry
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from simulator.bmis_pki import make_test_pki
from simulator.local_process import free_port
from simulator.passport_factory import PassportSpec, build_passport
from simulator.test_pki import make_crl
from tests.officer_helpers import credential_file, tls_files
from tests.onestop_trust_helpers import PKI_NOW, arc, uto
from tests.passport_helpers import portrait
from tests.test_app_assembly import assembled, config_text

DEVICE = "gate-t1"          # test_app_assembly's device id: the brokers' device certificates name it
ROLES = {"exit": ("UTO", "uto-gates", uto), "entry": ("ARC", "arc-gates", arc)}
MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


@dataclass
class Side:
    """One authority's settings; a test changes a copy to break one of its parts."""
    role: str
    home: Path
    broker: MosquittoBroker
    csca_dir: Path | None
    allow_offline: bool
    officers: str
    cert_file: Path | None = None

    def toml(self) -> str:
        country, prefix, _ = ROLES[self.role]
        pair = self.broker.pki.devices[DEVICE]
        own = f'csca_dir = "{self.csca_dir}"\n' if self.csca_dir else ""
        return (f'[[authority]]\nrole = "{self.role}"\ncountry = "{country}"\ndata_dir = "{self.home}"\n{own}'
                f'[authority.policy]\nallow_offline = {str(self.allow_offline).lower()}\n'
                f'[authority.bmis]\nhost = "127.0.0.1"\nport = {self.broker.device_port}\nprefix = "{prefix}"\n'
                f'ca_file = "{self.broker.pki.ca}"\ncert_file = "{self.cert_file or pair.cert}"\n'
                f'key_file = "{pair.key}"\ncommand_keys_dir = "{self.home}/keys"\nkeepalive_s = 5\n'
                f'reconnect_min_s = 0.1\nreconnect_max_s = 0.5\n{self.officers}')


class Post:
    def __init__(self, tmp: Path):
        self.tmp, self.brokers, self.sides, self.keys = tmp, {}, {}, {}
        for role, (country, prefix, pki) in ROLES.items():
            broker_pki = make_test_pki(tmp / f"{country}-pki", [DEVICE])
            self.brokers[role] = MosquittoBroker(tmp / f"{country}-broker", broker_pki, prefix=prefix).start()
            store = self.store(f"{country.lower()}-csca", pki(), datetime.now(UTC))
            self.sides[role] = Side(role, tmp / country.lower(), self.brokers[role], store,
                                    allow_offline=role == "exit", officers=self._officers(country))
            self.keys[role] = Ed25519PrivateKey.generate()
            (tmp / country.lower() / "keys").mkdir(parents=True)
            (tmp / country.lower() / "keys" / "bmis.pem").write_bytes(public_key_pem(self.keys[role].public_key()))

    def store(self, name: str, pki, crl_made: datetime) -> Path:
        """A trust-store directory: the country's CSCA and a CRL made at `crl_made` (30 days' life)."""
        directory = self.tmp / name
        directory.mkdir()
        (directory / "csca.der").write_bytes(pki.csca.der)
        (directory / "csca.crl").write_bytes(make_crl(pki.csca, [], crl_made))
        return directory

    def _officers(self, country: str) -> str:
        home = self.tmp / f"{country}-console"
        _, server = tls_files(home)
        officers = credential_file(home, f"{country.lower()}-officer")
        return (f'[authority.officers]\nenabled = true\nbind = "127.0.0.1"\nport = {free_port()}\n'
                f'cert_file = "{server.cert}"\nkey_file = "{server.key}"\ncredential_file = "{officers}"\n')

    def config_file(self, name: str = "gate.toml", lane_store: Path | None = None, agreement: str = "",
                    **changed: Side) -> Path:
        sides = {**self.sides, **changed}
        lane = config_text(self.tmp)
        if lane_store is not None:
            lane = lane.replace(f'csca_dir = "{self.tmp / "csca"}"', f'csca_dir = "{lane_store}"')
        path = self.tmp / name
        path.write_text(lane + '[onestop]\nshared_fields = ["document_number"]\n' + agreement
                        + sides["exit"].toml() + sides["entry"].toml())
        return path

    def stop(self) -> None:
        for broker in self.brokers.values():
            broker.stop()


@pytest.fixture(scope="module")
def post(tmp_path_factory):
    made = Post.__new__(Post)
    made.brokers = {}
    try:
        made.__init__(tmp_path_factory.mktemp("osbp-tools"))
    except BrokerUnavailable as exc:
        made.stop()
        pytest.skip(str(exc))
    except BaseException:
        made.stop()         # a broker already started is not left behind
        raise
    yield made
    made.stop()


def _run(capsys, *argv) -> tuple[int, str, str]:
    code = gatectl(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _selftest(capsys, path: Path) -> dict[str, dict]:
    """The whole selftest, as the technician runs it."""
    _, out, _ = _run(capsys, "selftest", "--config", str(path), "--json")
    return {check["name"]: check for check in json.loads(out)["checks"]}


def _authority_checks(path: Path) -> dict[str, dict]:
    """Only the authorities' checks of the selftest (the face models etc. are the lane's, checked once)."""
    from firmware_app.appliance.selftest_onestop import authority_checks
    results = [check().as_dict() for check in authority_checks(parse_config(path.read_text()))]
    return {result["name"]: result for result in results}


def _part(side: Side, **changes) -> Side:
    return Side(**{**side.__dict__, **changes})


# --- gatectl selftest --------------------------------------------------------------------------
PARTS = ("outbox", "broker", "certificate", "trust store", "officer console")


def test_selftest_checks_each_authoritys_own_parts_and_names_it(post, capsys):
    checks = _selftest(capsys, post.config_file())
    for role, (country, _, _) in ROLES.items():
        for part in PARTS:
            check = checks[f"{part} ({role} {country})"]
            assert check["authority"] == role and check["status"] in ("ok", "warn"), check
            assert "lane" not in check          # nothing failed: nothing to say about the lane
    assert str(post.sides["entry"].csca_dir) in checks["trust store (entry ARC)"]["detail"]
    assert "1 anchors, 1 CRLs" in checks["trust store (exit UTO)"]["detail"]
    assert "TLS handshake ok" in checks["broker (entry ARC)"]["detail"]
    assert "1 officer(s)" in checks["officer console (exit UTO)"]["detail"]      # its 2-day pair: warn
    assert not {"outbox", "broker", "certificate", "officer console"} & set(checks)   # no lane-wide ones
    assert checks["trust store (lane)"]["status"] == "skip"       # both have their own: the lane's is unused
    code, out, _ = _run(capsys, "selftest", "--config", str(post.config_file()))
    assert "trust store (entry ARC)" in out and "officer console (exit UTO)" in out      # the text names it too


def test_a_failed_part_is_its_authoritys_with_what_the_lane_does(post):
    """Entry (allow_offline = false): its certificate is the other broker's (not its key's), its
    CRL is stale. Exit (allow_offline = true): its own store is absent."""
    stale = post.store("arc-stale", arc(), datetime.now(UTC) - timedelta(days=60))
    entry = _part(post.sides["entry"], cert_file=post.brokers["exit"].pki.devices[DEVICE].cert, csca_dir=stale)
    exit_ = _part(post.sides["exit"], csca_dir=post.tmp / "uto-absent")
    checks = _authority_checks(post.config_file("broken.toml", entry=entry, exit=exit_))
    cert, broker = checks["certificate (entry ARC)"], checks["broker (entry ARC)"]
    assert cert["status"] == "fail" and "does not belong" in cert["detail"]
    assert broker["status"] == "fail" and broker["authority"] == "entry"
    for check in (cert, broker):      # its link cannot connect; it does not let the lane run offline
        assert check["lane"] == "refers_everyone" and "entry ARC's part" in check["detail"]
        assert "allow_offline = false" in check["detail"]
    crl = checks["trust store (entry ARC)"]
    assert crl["status"] == "warn" and "crl_stale AR" in crl["detail"] and "lane" not in crl
    absent = checks["trust store (exit UTO)"]
    assert absent["status"] == "fail" and absent["lane"] == "refers_everyone"       # allow_offline = true
    assert "no_trust_store" in absent["detail"] and "exit UTO's part" in absent["detail"]
    assert checks["broker (exit UTO)"]["status"] == "ok" and checks["certificate (exit UTO)"]["status"] != "fail"


def test_a_store_or_outbox_the_lane_cannot_run_without(post):
    entry = _part(post.sides["entry"], csca_dir=post.tmp / "arc-absent")     # allow_offline = false
    exit_home = post.tmp / "uto-garbled"
    exit_home.mkdir()
    (exit_home / OUTBOX_FILE).write_bytes(b"not a database" * 100)
    exit_ = _part(post.sides["exit"], home=exit_home)
    lane_store = post.tmp / "lane-csca"         # unused by both: neither loaded nor a fault
    lane_store.mkdir()
    (lane_store / "csca.der").write_bytes(b"not a certificate")
    checks = _authority_checks(post.config_file("stopped.toml", lane_store, entry=entry, exit=exit_))
    assert checks["trust store (lane)"]["status"] == "skip"
    store = checks["trust store (entry ARC)"]
    assert store["status"] == "fail" and store["lane"] == "out_of_service" and "no_trust_store" in store["detail"]
    outbox = checks["outbox (exit UTO)"]
    assert outbox["status"] == "fail" and outbox["lane"] == "out_of_service" and outbox["authority"] == "exit"
    assert checks["outbox (entry ARC)"]["status"] == "ok"


def test_an_officer_console_nobody_can_sign_in_to_is_its_authoritys_and_the_lane_runs(post):
    nobody = post.tmp / "nobody"
    nobody.touch(mode=0o600)
    officers = post.sides["entry"].officers.replace(
        post.sides["entry"].officers.split('credential_file = "')[1].split('"')[0], str(nobody))
    checks = _authority_checks(post.config_file("unstaffed.toml", entry=_part(post.sides["entry"], officers=officers)))
    console = checks["officer console (entry ARC)"]
    assert console["status"] == "fail" and console["lane"] == "runs" and "not reviewed" in console["detail"]
    assert checks["officer console (exit UTO)"]["status"] in ("ok", "warn")


# --- gatectl status ----------------------------------------------------------------------------
def test_status_shows_each_authoritys_outbox_and_one_that_cannot_be_read(post, capsys):
    config = parse_config(post.config_file("running.toml").read_text())
    appliance, gate = assembled(config)
    try:
        appliance.start()
        sock = str(config.device.data_dir / "status.sock")
        code, out, _ = _run(capsys, "status", "--socket", sock, "--json")
        outbox = json.loads(out)["outbox"]["authorities"]
        assert set(outbox) == {"exit", "entry"} and all("pending" in outbox[r] for r in outbox), outbox
        _each_authoritys_certificate(json.loads(out)["certificate"], post)
        metrics = render(appliance.ops.status.snapshot())       # the textfile: each authority's gauges
        for role in ("exit", "entry"):
            assert f'border_gate_outbox_pending{{device="{DEVICE}",authority="{role}"}} ' in metrics, metrics
            days = certificate_expiry(post.sides[role].broker.pki.devices[DEVICE].cert, datetime.now(UTC))
            assert f'border_gate_certificate_days_left{{device="{DEVICE}",authority="{role}"}} ' \
                   f'{days["days_left"]}\n' in metrics, metrics
        assert f'border_gate_certificate_days_left{{device="{DEVICE}"}}' not in metrics
        _, out, _ = _run(capsys, "status", "--socket", sock)
        certs = [line for line in out.splitlines() if line.startswith("certificate")]
        assert [line.split(":")[0] for line in certs] == ["certificate exit (UTO)", "certificate entry (ARC)"], out
        assert not [line for line in certs if "none" in line], out
        broken = sqlite3.connect(config.authority[1].data_dir / OUTBOX_FILE)     # ARC's outbox damaged
        broken.execute("DROP TABLE dead_letter")
        broken.commit()
        broken.close()
        code, out, _ = _run(capsys, "status", "--socket", sock, "--json")
        body = json.loads(out)
        assert code == 1 and "pending" in body["outbox"]["authorities"]["exit"]      # UTO's still answers
        assert "no such table: dead_letter" in outbox_errors(body)["entry"] and set(outbox_errors(body)) == {"entry"}
        code, out, _ = _run(capsys, "status", "--socket", sock)
        assert "outbox entry: ERROR OutboxError" in out and "outbox exit: " in out
        metrics = render(appliance.ops.status.snapshot())
        outbox_gauges = [line for line in metrics.splitlines() if line.startswith("border_gate_outbox_")]
        assert 'authority="exit"' in "".join(outbox_gauges) and 'authority="entry"' not in "".join(outbox_gauges)
        entry_days = f'border_gate_certificate_days_left{{device="{DEVICE}",authority="entry"}}'
        assert entry_days in metrics        # its certificate still has its gauge, not its outbox
    finally:
        appliance.stop()
        gate.stop()


def _each_authoritys_certificate(certificate: dict, post: Post) -> None:
    """Each authority's own client certificate (the lane's [bmis] has none here)."""
    by_role = certificate["authorities"]
    assert {role: entry["country"] for role, entry in by_role.items()} == {"exit": "UTO", "entry": "ARC"}
    for role, entry in by_role.items():
        own = certificate_expiry(post.sides[role].broker.pki.devices[DEVICE].cert, datetime.now(UTC))
        assert own is not None and entry["not_after"] == own["not_after"], (role, entry, own)


def test_an_unreadable_outbox_is_not_healthy_single_or_one_stop():
    serving = {"state": "ready", "devices": {"lane": {"status": "ok"}}}
    assert healthy({**serving, "outbox": {"pending": 0}})
    assert not healthy({**serving, "outbox": {"error": "OutboxError: disk I/O error"}})
    assert healthy({**serving, "outbox": {"authorities": {"exit": {"pending": 1}, "entry": {"pending": 0}}}})
    assert not healthy({**serving, "outbox": {"authorities": {"exit": {"pending": 1}, "entry": {"error": "x"}}}})


# --- gatectl chip verify --authority -----------------------------------------------------------
@pytest.fixture(scope="module")
def dump(post):
    """A UTO-issued chip's files: the exit authority trusts UTO's CSCA, the entry authority ARC's only."""
    directory = post.tmp / "dump"
    directory.mkdir()
    for name, data in build_passport(PassportSpec(MRZ, portrait()), uto(), PKI_NOW).files.items():
        (directory / f"{name}.bin").write_bytes(data)
    return directory


def _verify(dump: Path, config: Path, *extra: str) -> list[str]:
    return ["chip", "verify", "--sod", str(dump / "EF.SOD.bin"), "--dg", f"1={dump / 'DG1.bin'}",
            "--at", (PKI_NOW + timedelta(days=1)).isoformat(), "--config", str(config), "--json", *extra]


def test_chip_verify_uses_the_chosen_authoritys_trust_store(post, dump, capsys):
    config = post.config_file()
    code, out, _ = _run(capsys, *_verify(dump, config, "--authority", "exit"))
    assert code == 0 and json.loads(out)["result"] == "passed"
    code, out, _ = _run(capsys, *_verify(dump, config, "--authority", "ARC"))
    assert code == 1 and json.loads(out)["chain_valid"] is False        # ARC does not trust UTO's CSCA
    code, _, err = _run(capsys, *_verify(dump, config))       # without it: the lane's [smartcard] store
    assert code == 2 and str(post.tmp / "csca") in err


def test_chip_verify_authority_errors(post, dump, capsys, tmp_path):
    code, _, err = _run(capsys, *_verify(dump, post.config_file(), "--authority", "XXA"))
    assert code == 2 and "no authority 'XXA'" in err and "exit (UTO)" in err
    code, _, err = _run(capsys, *_verify(dump, post.config_file(), "--authority", "exit", "--trust-store",
                                         str(post.sides["exit"].csca_dir)))
    assert code == 2 and "--trust-store and --authority" in err
    single = tmp_path / "single.toml"
    single.write_text(config_text(tmp_path))
    code, _, err = _run(capsys, *_verify(dump, single, "--authority", "exit"))
    assert code == 2 and "one-stop config" in err


# --- gatectl update run-requests --authority ---------------------------------------------------
def _signed(post, role: str, signer: str, command_id: str) -> dict:
    topic = f"{ROLES[role][1]}/v1/{DEVICE}/cmd/update-apply"
    body = {"command_id": command_id, "issued_at": "2026-12-06T08:55:00Z",
            "expires_at": (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "operator_id": "ops-1", "params": {"url": "https://bmis.example/p.deb", "sha256": "ab" * 32}}
    payload = json.dumps(sign_command(post.keys[signer], topic, body)).encode()
    return {"topic": topic, "payload": base64.b64encode(payload).decode()}


def _request(post, role: str, signer: str, command_id: str, *joint: tuple[str, str, str]) -> Path:
    """A signed update-apply command stored as gate-app's update port stores it (requests.py);
    with `joint` (role, signer, id) commands too, the request of an agreement that needs both."""
    requests = spool(post.tmp / "var") / "requests"
    requests.mkdir(parents=True, exist_ok=True)
    first = _signed(post, role, signer, command_id)
    if not joint:
        path = requests / f"{command_id}.json"
        path.write_text(json.dumps({**first, "file": "p.deb"}))
        return path
    path = requests / ("+".join([command_id, *(c for _, _, c in joint)]) + ".json")
    path.write_text(json.dumps({"commands": [first, *(_signed(post, *c) for c in joint)], "file": "p.deb"}))
    return path


def test_update_requests_are_checked_with_the_chosen_authoritys_keys(post, capsys):
    config = str(post.config_file())
    forged = _request(post, "entry", signer="exit", command_id="upd-forged")   # ARC's topic, UTO's key
    code, out, _ = _run(capsys, "update", "run-requests", "--config", config, "--authority", "exit", "--json")
    assert code == 0 and json.loads(out) == [] and forged.exists()     # not UTO's: left for ARC's run
    code, out, _ = _run(capsys, "update", "run-requests", "--config", config, "--authority", "entry", "--json")
    [result] = json.loads(out)
    assert code == 1 and result["outcome"] == "refused" and "signature" in result["detail"]
    assert not forged.exists()
    genuine = _request(post, "entry", signer="entry", command_id="upd-genuine")
    code, out, _ = _run(capsys, "update", "run-requests", "--config", config, "--authority", "ARC", "--json")
    [result] = json.loads(out)          # the signature holds: it fails later, on the missing package
    assert result["request"] == genuine.name and "signature" not in result.get("detail", "")
    assert not genuine.exists()


def test_update_requests_need_the_authority_on_a_one_stop_config_only(post, capsys, tmp_path):
    code, _, err = _run(capsys, "update", "run-requests", "--config", str(post.config_file()))
    assert code == 2 and "--authority" in err and "entry (ARC)" in err
    code, _, err = _run(capsys, "update", "run-requests", "--config", str(post.config_file()), "--authority", "XXA")
    assert code == 2 and "no authority 'XXA'" in err
    single = tmp_path / "single.toml"
    single.write_text(config_text(tmp_path))
    code, _, err = _run(capsys, "update", "run-requests", "--config", str(single), "--authority", "entry")
    assert code == 2 and "one-stop config" in err
    code, out, _ = _run(capsys, "update", "run-requests", "--config", str(single))
    assert code == 0 and "no requests" in out         # unchanged without it


def test_update_requests_run_as_the_agreement_says_without_authority(post, capsys):
    """[onestop] update_authority: border-gate-update.service runs `run-requests` without
    --authority; "exit" takes UTO's signed requests and refuses ARC's, "both" needs each signed."""
    config = str(post.config_file("agreed-exit.toml", agreement='update_authority = "exit"\n'))
    other = _request(post, "entry", signer="entry", command_id="upd-arc")
    own = _request(post, "exit", signer="exit", command_id="upd-uto")
    code, out, _ = _run(capsys, "update", "run-requests", "--config", config, "--json")
    results = {r["request"]: r for r in json.loads(out)}
    assert code == 1 and results[other.name]["outcome"] == "refused" and "not this device's" in \
        results[other.name]["detail"]
    assert results[own.name]["detail"].endswith(".deb: no such file") and not own.exists() and not other.exists()
    code, _, err = _run(capsys, "update", "run-requests", "--config", config, "--authority", "entry")
    assert code == 2 and 'update_authority = "exit"' in err
    both = str(post.config_file("agreed-both.toml", agreement='update_authority = "both"\n'))
    code, _, err = _run(capsys, "update", "run-requests", "--config", both, "--authority", "UTO")
    assert code == 2 and 'update_authority = "both"' in err
    forged = _request(post, "exit", "exit", "upd-x1", ("entry", "exit", "upd-n1"))     # ARC's half, UTO's key
    genuine = _request(post, "exit", "exit", "upd-x2", ("entry", "entry", "upd-n2"))
    code, out, _ = _run(capsys, "update", "run-requests", "--config", both, "--json")
    results = {r["request"]: r for r in json.loads(out)}
    assert results[forged.name]["outcome"] == "refused" and "signature" in results[forged.name]["detail"]
    assert results[genuine.name]["detail"].endswith(".deb: no such file")      # verified; no package here
    assert not forged.exists() and not genuine.exists()
