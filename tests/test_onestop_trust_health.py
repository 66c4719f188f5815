"""Each one-stop authority's client certificate and own trust store as health components of its
own, and SIGHUP (`systemctl reload gate-app`: Appliance.reload_client_certificate) reloading each
authority's certificate and trust store without restarting the lane (issue 17). The exit
authority's link runs against a real TLS mosquitto; the entry authority's store is absent at start."""
from __future__ import annotations

import os
import shutil
from datetime import timedelta

import pytest

from firmware_app.appliance.onestop import own_health
from firmware_app.appliance.onestop_health import trust_store_entry
from firmware_app.config import parse_config
from firmware_app.policy.onestop import Role
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from simulator.bmis_pki import make_test_pki
from tests.broker_fixtures import wait_until
from tests.onestop_trust_helpers import PKI_NOW, arc, uto
from tests.passport_helpers import store_for
from tests.test_app_assembly import assembled, config_text
from tests.test_onestop_appliance import COUNTRIES, DEVICE, authority


@pytest.fixture(scope="module")
def uto_broker(tmp_path_factory):
    work = tmp_path_factory.mktemp("uto-broker")
    try:
        broker = MosquittoBroker(work / "broker", make_test_pki(work / "pki", [DEVICE, "gate-b"]),
                                 prefix=COUNTRIES[Role.EXIT][1]).start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    yield broker
    broker.stop()


def _config(tmp_path, broker):
    """UTO's link uses the gate's own copies of its pair (as gatectl keeps them); each authority has
    a store of its own: UTO's holds its CSCA, ARC's directory does not exist yet."""
    pair = broker.pki.devices[DEVICE]
    identity = tmp_path / "identity"
    identity.mkdir()
    cert, key = identity / "client.crt", identity / "client.key"
    shutil.copy(pair.cert, cert)
    shutil.copy(pair.key, key)
    (tmp_path / "uto-csca").mkdir()
    (tmp_path / "uto-csca" / "csca.der").write_bytes(uto().csca.der)
    exit_ = authority(Role.EXIT, tmp_path, broker).replace(str(pair.cert), str(cert)).replace(str(pair.key), str(key))
    entry = authority(Role.ENTRY, tmp_path, None).replace("port = 8003", "port = 8004")
    own = {role: f'csca_dir = "{tmp_path / (COUNTRIES[role][0].lower() + "-csca")}"\n[authority.bmis]' for role in Role}
    text = (config_text(tmp_path) + '[onestop]\nshared_fields = []\n'
            + exit_.replace("[authority.bmis]", own[Role.EXIT]) + entry.replace("[authority.bmis]", own[Role.ENTRY]))
    return parse_config(text), cert, key


def _swap_in(pair, cert, key) -> None:
    """As `gatectl cert renew` swaps: written beside, then renamed, the key first."""
    for source, target in ((pair.key, key), (pair.cert, cert)):
        pending = target.with_name(target.name + ".new")
        shutil.copy(source, pending)
        os.replace(pending, target)


def test_each_authoritys_certificate_and_store_are_its_health_and_sighup_reloads_them(tmp_path, uto_broker):
    config, cert, key = _config(tmp_path, uto_broker)
    appliance, gate = assembled(config)
    try:
        appliance.start()
        sides = appliance.bmis
        assert wait_until(lambda: sides.sides[Role.EXIT].link.connected, 10)
        health = appliance.health()
        # the test PKI's certificates live two days: warned like the lane's own
        assert health["certificate_exit"]["detail"] == "cert_expires_within_7d"
        assert "certificate_entry" not in health                      # ARC's link has no certificate
        assert health["trust_store_exit"]["status"] != "failed" and health["trust_store_entry"]["status"] == "failed"
        assert "certificate_exit" not in own_health(health, Role.ENTRY)
        assert "trust_store_entry" not in own_health(health, Role.EXIT)

        _swap_in(uto_broker.pki.devices["gate-b"], cert, key)         # a renewal, and ARC's store provisioned
        (tmp_path / "arc-csca").mkdir()
        (tmp_path / "arc-csca" / "csca.der").write_bytes(arc().csca.der)
        assert "renewed certificate" in appliance.health()["certificate_exit"]["note"]
        assert appliance.reload_client_certificate()                  # SIGHUP
        assert wait_until(lambda: sides.sides[Role.EXIT].certificate_reloads() == 1, 10)
        health = appliance.health()
        assert "renewed certificate" not in health["certificate_exit"].get("note", "")
        assert health["trust_store_entry"]["status"] != "failed"
        assert sides.stores.trust.store("entry") is not None and appliance.lane_alive()   # no restart
    finally:
        appliance.stop()
        gate.stop()


def test_a_stores_freshness_warns_before_its_anchors_or_crls_run_out():
    store = store_for(uto())
    assert trust_store_entry(store, PKI_NOW)["status"] == "ok"
    stale = trust_store_entry(store, PKI_NOW + timedelta(days=31))             # the CRL's nextUpdate is +30 days
    assert (stale["status"], stale["detail"]) == ("degraded", "crl_stale") and "UT" in stale["note"]
    no_crl = store_for(uto(), with_crl=False)
    ending = no_crl.cscas[0].not_valid_after - timedelta(days=10)
    assert trust_store_entry(no_crl, ending) == {"status": "degraded", "detail": "expiring",
                                                 "note": trust_store_entry(no_crl, ending)["note"]}
    assert trust_store_entry(store_for(uto(), with_crl=False), ending + timedelta(days=20))["detail"] == "expired"


def test_each_authoritys_health_summary_names_its_own_certificate_never_the_lanes(tmp_path):
    """The health message's `certificate` (health 1.2) of each authority's link: its own client
    certificate's expiry; one without a certificate has none, not the lane's [bmis] one."""
    from datetime import UTC, datetime

    from firmware_app.appliance.onestop_health import AuthorityHealth
    from firmware_app.appliance.onestop_trust import AuthorityStores
    now = datetime.now(UTC).replace(microsecond=0)
    pair = make_test_pki(tmp_path / "pki", [DEVICE], now=now - timedelta(hours=5)).devices[DEVICE]
    health = AuthorityHealth({Role.EXIT: pair.cert, Role.ENTRY: None}, AuthorityStores(None, {}, {}), lambda: now)
    lane = {"software_version": "1.2.3", "certificate": {"not_after": "2099-01-01T00:00:00Z", "days_left": 9000}}
    exit_ = health.own_info(Role.EXIT, lane)
    assert exit_["software_version"] == "1.2.3"
    assert exit_["certificate"]["not_after"] == (now + timedelta(days=2) - timedelta(hours=5)).strftime(
        "%Y-%m-%dT%H:%M:%SZ") and exit_["certificate"]["days_left"] == 1
    assert "certificate" not in health.own_info(Role.ENTRY, lane) and lane["certificate"]["days_left"] == 9000
