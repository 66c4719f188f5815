"""A one-stop config in the assembled appliance (issue 17): each authority's side gets its own link
to its own real mosquitto; the lane's status, alarms and exceptions reach both, each authority's
status names its own direction, and an authority whose link is not configured is reported in its
own health entry only."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.appliance.onestop import OnestopSides
from firmware_app.bmis.commands.signing import public_key_pem
from firmware_app.bmis.wiring import open_outbox
from firmware_app.config import parse_config
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.state import Fault
from firmware_app.onestop.reviews import OnestopReviews
from firmware_app.policy.onestop import Role
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from simulator.bmis_consumer import BmisConsumer
from simulator.bmis_pki import make_test_pki
from tests.broker_fixtures import consumer_settings, wait_until
from tests.officer_helpers import PASSWORD, ConsoleClient
from tests.test_app_assembly import assembled, config_text
from tests.test_onestop_officers import OFFICERS, Staffed

DEVICE = "gate-t1"      # test_app_assembly's device id
COUNTRIES = {Role.EXIT: ("UTO", "uto-gates"), Role.ENTRY: ("ARC", "arc-gates")}


def authority(role: Role, tmp_path, broker: MosquittoBroker | None) -> str:
    country, prefix = COUNTRIES[role]
    home = tmp_path / country.lower()
    text = (f'[[authority]]\nrole = "{role.value}"\ncountry = "{country}"\ndata_dir = "{home}"\n'
            f'[authority.bmis]\nprefix = "{prefix}"\ncommand_keys_dir = "{home}/keys"\nkeepalive_s = 5\n'
            f'reconnect_min_s = 0.1\nreconnect_max_s = 0.5\nhealth_interval_s = 1\n')
    if broker is None:
        return text + f'port = {8000 + len(country)}\n'      # no ca_file: this link is not configured
    pair = broker.pki.devices[DEVICE]
    return text + (f'port = {broker.device_port}\nca_file = "{broker.pki.ca}"\ncert_file = "{pair.cert}"\n'
                   f'key_file = "{pair.key}"\n')


@pytest.fixture
def brokers(tmp_path):
    made, consumers = {}, {}
    try:
        for role, (country, prefix) in COUNTRIES.items():
            # ARC's device certificate made an hour earlier: each authority's expiry is told apart
            made_at = datetime.now(UTC) - timedelta(hours=1 if role is Role.ENTRY else 0)
            pki = make_test_pki(tmp_path / f"{country}-pki", [DEVICE], now=made_at)
            made[role] = MosquittoBroker(tmp_path / f"{country}-broker", pki, prefix=prefix).start()
            consumers[role] = BmisConsumer(tmp_path / f"{country}.db", consumer_settings(made[role]), prefix=prefix)
            consumers[role].start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    assert wait_until(lambda: all(c.connected for c in consumers.values()))
    yield made, consumers
    for consumer in consumers.values():
        consumer.stop()
    for broker in made.values():
        broker.stop()


def crashed_transaction(tmp_path) -> None:
    (tmp_path / "var").mkdir()
    LaneJournal.open(tmp_path / "var" / "lane-journal.db").begin("oldboot-000001",
                                                                 datetime(2026, 11, 26, 9, tzinfo=UTC))


def test_both_authorities_get_the_lanes_status_alarms_and_exceptions(tmp_path, brokers):
    made, consumers = brokers
    crashed_transaction(tmp_path)
    staffed = Staffed(tmp_path)         # and each authority's own officer console
    config = parse_config(config_text(tmp_path) + '[onestop]\nshared_fields = ["document_number"]\n'
                          + 'update_authority = "exit"\n'
                          + authority(Role.EXIT, tmp_path, made[Role.EXIT]) + staffed.toml[Role.EXIT]
                          + authority(Role.ENTRY, tmp_path, made[Role.ENTRY]) + staffed.toml[Role.ENTRY])
    keys = command_keys(config)
    appliance, gate = assembled(config)
    try:
        appliance.start()
        assert isinstance(appliance.bmis, OnestopSides)
        assert isinstance(appliance.runner.ports.officer, OnestopReviews) and appliance.runner.settings.referral_review
        for role, console in appliance.officer.consoles.items():
            assert ConsoleClient(console.console.port, staffed.ca[role]).login(OFFICERS[role], PASSWORD).status == 303
        assert "officer_console" not in appliance.health()
        assert wait_until(appliance.bmis.reachable, 10)
        gate.tamper(True)
        assert wait_until(lambda: Fault.TAMPER in appliance.runner.data.faults, 10.0)
        for role, consumer in consumers.items():
            assert wait_until(lambda c=consumer: _kinds(c, "alarms") >= {"tamper"}, 10), role
            assert wait_until(lambda c=consumer: "transaction_voided" in _kinds(c, "events/exception"), 10), role
            statuses = [m["data"] for m in consumer.messages("status")]
            assert statuses and {s.get("direction") for s in statuses} == {role.value}
        _each_health_names_its_own_certificate(made, consumers)
        _only_the_agreed_authority_updates(consumers, keys)
    finally:
        appliance.stop()
        gate.stop()


def _each_health_names_its_own_certificate(made, consumers) -> None:
    """Health 1.2's `certificate` of each authority's link: its own client certificate's expiry."""
    def certificate(role):
        found = [m["data"]["certificate"] for m in consumers[role].messages("health") if "certificate" in m["data"]]
        return found[-1] if found else None
    assert wait_until(lambda: all(certificate(role) for role in Role), 10)
    for role in Role:
        own = x509.load_pem_x509_certificate(made[role].pki.devices[DEVICE].cert.read_bytes())
        assert certificate(role)["not_after"] == own.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"), role
    assert certificate(Role.EXIT) != certificate(Role.ENTRY)


def command_keys(config) -> dict[Role, Ed25519PrivateKey]:
    """Each BMIS's command-signing key, its public half in that authority's own key directory."""
    keys = {role: Ed25519PrivateKey.generate() for role in Role}
    for section in config.authority:
        section.bmis.command_keys_dir.mkdir(parents=True, exist_ok=True)
        (section.bmis.command_keys_dir / "bmis.pem").write_bytes(
            public_key_pem(keys[Role(section.role.value)].public_key()))
    return keys


def _only_the_agreed_authority_updates(consumers, keys) -> None:
    """[onestop] update_authority = "exit": gate-app takes UTO's signed update-apply (its download
    then fails: nothing is served) and refuses ARC's, saying why."""
    params = {"url": "http://127.0.0.1:9/border-gate_9.9_arm64.deb", "sha256": "ab" * 32}
    answers = {}
    for role in Role:
        correlation = consumers[role].send_command(DEVICE, "update-apply", {"params": params, "operator_id": "ops"},
                                                   signing_key=keys[role])
        answers[role] = consumers[role].wait_result(correlation, 10)
    assert answers[Role.EXIT]["status"] == "ack" and answers[Role.EXIT]["result"]["state"] == "downloading"
    refused = answers[Role.ENTRY]
    assert (refused["status"], refused["reason"]) == ("nack", "lane_refused")
    assert 'update_authority = "exit"' in refused["detail"]


def test_an_authority_without_a_configured_link_keeps_its_records_and_its_own_health_entry(tmp_path, brokers):
    made, consumers = brokers
    crashed_transaction(tmp_path)
    config = parse_config(config_text(tmp_path) + '[onestop]\nshared_fields = []\n'
                          + authority(Role.EXIT, tmp_path, made[Role.EXIT]) + authority(Role.ENTRY, tmp_path, None))
    appliance, gate = assembled(config)
    try:
        appliance.start()
        assert "bmis_link_entry" in appliance.health() and "bmis_link_exit" not in appliance.health()
        uto = consumers[Role.EXIT]
        assert wait_until(lambda: len(uto.messages("health")) >= 2, 10)
        assert "bmis_link_entry" not in json.dumps(uto.messages("health"))      # ARC's trouble is ARC's
        assert wait_until(lambda: "transaction_voided" in _kinds(uto, "events/exception"), 10)
    finally:
        appliance.stop()
        gate.stop()
    entry_side = config.model_copy(update={"device": config.device.model_copy(
        update={"data_dir": config.authority[1].data_dir})})
    pending = open_outbox(entry_side).next_batch(1000)
    assert any(b"transaction_voided" in m.payload for m in pending)
    alarms = [json.loads(m.payload)["data"]["kind"] for m in pending if m.kind.suffix == "alarms"]
    assert "bmis_link_not_configured" in alarms


def _kinds(consumer, kind: str) -> set[str]:
    return {m["data"].get("kind") for m in consumer.messages(kind)}


def test_selftest_checks_each_authoritys_outbox_broker_and_certificate(tmp_path, brokers):
    from firmware_app.appliance.selftest import Status, run_checks
    made, _ = brokers
    config = parse_config(config_text(tmp_path) + '[onestop]\nshared_fields = []\n'
                          + authority(Role.EXIT, tmp_path, made[Role.EXIT]) + authority(Role.ENTRY, tmp_path, None))
    results = {r.name: r for r in run_checks(config)}
    assert results["broker (exit UTO)"].status is Status.OK
    assert "CN=gate-t1, key matches" in results["certificate (exit UTO)"].detail     # the test PKI's short-lived cert
    assert results["broker (entry ARC)"].status is Status.FAIL       # its link is not configured
    assert str(tmp_path / "arc") in results["outbox (entry ARC)"].detail
    assert "broker" not in results and "outbox" not in results       # the lane's own [bmis] is not used


def test_an_authority_that_needs_its_absent_store_keeps_the_lane_out_of_service_and_says_so(tmp_path):
    """Its allow_offline is false: without its trust store it does not let the lane run. The other
    authority's health does not carry it (each side's health: own_health)."""
    from firmware_app.appliance.onestop import own_health
    entry = authority(Role.ENTRY, tmp_path, None).replace(
        '[authority.bmis]', f'csca_dir = "{tmp_path / "arc-csca"}"\n[authority.policy]\nallow_offline = false\n'
                            '[authority.bmis]').replace("port = 8003", "port = 8004")   # its own broker
    config = parse_config(config_text(tmp_path) + '[onestop]\nshared_fields = []\n'
                          + authority(Role.EXIT, tmp_path, None) + entry)
    appliance, gate = assembled(config)
    try:
        faults = {error.component: kind for kind, error in appliance.faults}
        assert faults.get("trust_store_entry") is Fault.TRUST_STORE and "trust_store_exit" not in faults
        health = appliance.health()
        assert health["trust_store_entry"]["status"] == "failed"
        assert "trust_store_entry" in own_health(health, Role.ENTRY)
        assert "trust_store_entry" not in own_health(health, Role.EXIT)
        assert appliance.bmis.certificate_reloads() == 0 and appliance.reload_client_certificate() is False
    finally:
        appliance.stop()
        gate.stop()


@pytest.mark.parametrize("entry_store, lane_fault", [(True, False), (False, True)])
def test_the_lanes_unusable_store_is_a_fault_only_when_an_authority_relies_on_it(tmp_path, entry_store, lane_fault):
    """[smartcard] names a master list that is not there: the lane's store does not load. With a
    store of its own for each authority it judges nothing (no fault); with one authority sharing it
    the lane is out of service as before."""
    for country in ("uto", "arc"):
        (tmp_path / f"{country}-csca").mkdir()
    own = {Role.EXIT: True, Role.ENTRY: entry_store}
    parts = [authority(role, tmp_path, None).replace(
        '[authority.bmis]', f'csca_dir = "{tmp_path / (COUNTRIES[role][0].lower() + "-csca")}"\n[authority.bmis]')
        if own[role] else authority(role, tmp_path, None) for role in (Role.EXIT, Role.ENTRY)]
    lane = config_text(tmp_path).replace('[smartcard]\n', f'[smartcard]\nmaster_list = "{tmp_path / "no.ml"}"\n')
    entry = parts[1].replace("port = 8003", "port = 8004")
    config = parse_config(lane + '[onestop]\nshared_fields = []\n' + parts[0] + entry)
    appliance, gate = assembled(config)
    try:
        faults = {error.component: kind for kind, error in appliance.faults}
        assert ("trust store" in faults) is lane_fault
        assert not any(name.startswith("trust_store_") for name in faults)     # each own store loaded
    finally:
        appliance.stop()
        gate.stop()
