"""The assembled appliance and the CSCA store: an unpinned master list in csca_dir is a trust-store
fault (the lane refers nobody through an untrusted list), and a signed BMIS `pki-update` carrying the
pinning CSCA clears it and gives the chip stage the reloaded store. Needs the pcscd lock (assembly)."""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

from asn1crypto import pem
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.bmis.commands.signing import public_key_pem, sign_command
from firmware_app.config import parse_config
from firmware_app.lane.state import Fault
from simulator.cms_builder import master_list
from simulator.test_pki import KeyKind, make_csca, make_document_signer
from test_app_assembly import assembled, config_text
from tests.polling import wait_until

NOW = datetime.now(UTC)
GERMANY = make_csca("app-de", NOW, KeyKind.ECDSA_P256, country="DE")
OTHER = make_csca("app-nl", NOW, KeyKind.ECDSA_P256, country="NL")


def _command(key, files) -> tuple[str, bytes]:
    topic = "gates/v1/gate-t1/cmd/pki-update"
    now = datetime.now(UTC)     # not NOW: collection may be minutes before this test runs
    body = {"command_id": "pki-1", "issued_at": (now - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "expires_at": (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ"), "operator_id": "pki-desk",
            "params": {"files": [{"name": n, "data": base64.b64encode(d).decode()} for n, d in files]}}
    return topic, json.dumps(sign_command(key, topic, body)).encode()


def test_unpinned_list_faults_the_store_until_a_signed_update_pins_it(tmp_path):
    bmis_key = Ed25519PrivateKey.generate()
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "bmis.pem").write_bytes(public_key_pem(bmis_key.public_key()))
    (tmp_path / "csca").mkdir()
    signer = make_document_signer(GERMANY, "app", NOW, KeyKind.ECDSA_P256, serial=950, label="ml")
    (tmp_path / "csca" / "bsi.ml").write_bytes(master_list([GERMANY.der, OTHER.der], signer, NOW))
    text = config_text(tmp_path) + f'[bmis]\ncommand_keys_dir = "{tmp_path / "keys"}"\n'
    appliance, gate = assembled(parse_config(text))
    try:
        appliance.start()
        assert Fault.TRUST_STORE in {kind for kind, _ in appliance.faults}
        assert wait_until(lambda: Fault.TRUST_STORE in appliance.runner.data.faults, 10.0)
        answer = appliance.bmis.commands.processor.handle(
            *_command(bmis_key, [("de.pem", pem.armor("CERTIFICATE", GERMANY.der))]))
        assert answer["status"] == "ack", answer
        assert answer["result"]["anchors"] == 2
        assert wait_until(lambda: Fault.TRUST_STORE not in appliance.runner.data.faults, 10.0)
    finally:
        appliance.stop()
        gate.stop()
