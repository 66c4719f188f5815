"""The signed BMIS commands a scenario's [[fault]] tables send: set_mode, alert_push, override and
csca_update, each signed with the bench's BMIS key (or, `signature = "unknown_key"`, with a key the
gate has never been given, which it must refuse), and answered on `cmd-result`.

The bench's second test PKI (`second_pki`) is the CSCA a csca_update pushes: travellers with
`csca = "new"` carry documents signed under it, so the gate refers them until the update arrives.

    answer = send_fault_command(bench, spec, document_number, next_alert_version)   # "ack" | "nack" | ...
"""
from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from simulator.faults import FaultKind, FaultSpec
from simulator.passport_factory import TestPki
from simulator.test_pki import make_crl, make_csca, make_document_signer

OVERRIDE_OPERATOR = "bmis-sim"
NEW_CSCA_SEED = "gatesim-new-csca"
NEW_DS_SERIAL = 200         # apart from the home signer's (100): a CRL names a certificate by issuer + serial
ANSWER_S = 10.0


def second_pki(now: datetime) -> TestPki:
    """A second CSCA of the same country (a key rollover: same name, new key) and its Document Signer;
    the gate is not given it at start."""
    csca = make_csca(NEW_CSCA_SEED, now)
    signer = make_document_signer(csca, NEW_CSCA_SEED, now, serial=NEW_DS_SERIAL)
    return TestPki(csca, signer, make_crl(csca, [signer.serial], now))


def send_fault_command(bench, spec: FaultSpec, document_number: Callable[[int | None], str],
                       next_version: Callable[[], int]) -> str:
    from simulator.scenario_bench import DEVICE_ID  # (the bench builds second_pki from here)
    name, params, operator = _command_of(bench, spec, document_number, next_version)
    key = bench.command_key if spec.signature == "valid" else Ed25519PrivateKey.generate()
    body: dict = {"params": params} | ({"operator_id": operator} if operator else {})
    correlation = bench.consumer.send_command(DEVICE_ID, name, body, signing_key=key)
    answer = bench.consumer.wait_result(correlation, timeout_s=ANSWER_S) or {}
    return str(answer.get("status", "no answer"))


def _command_of(bench, spec: FaultSpec, document_number, next_version) -> tuple[str, dict, str | None]:
    if spec.kind is FaultKind.SET_MODE:
        return "set-mode", {"mode": spec.mode}, None
    if spec.kind is FaultKind.ALERT_PUSH:
        version = next_version()
        entry = {"id": f"F{version}", "issuing_state": "UTO", "number": document_number(spec.document_of),
                 "category": "stolen"}
        return "alerts-replace", {"list_id": "sltd", "kind": "document", "version": version,
                                  "entries": [entry]}, None
    if spec.kind is FaultKind.OVERRIDE:
        return "override", {"action": spec.action, "door": spec.door}, OVERRIDE_OPERATOR
    if spec.kind is FaultKind.CSCA_UPDATE:
        return "pki-update", {"files": [_pki_file(bench.new_passport_pki, spec.revoke)]}, None
    raise ValueError(f"{spec.kind.value} is not a command")


def _pki_file(pki: TestPki, revoke: bool) -> dict:
    name, data = ("csca-new.crl", pki.crl) if revoke else ("csca-new.der", pki.csca.der)
    assert data is not None
    return {"name": name, "data": base64.b64encode(data).decode("ascii")}


def released_doors(gate) -> tuple[str, ...]:
    """The doors whose relays are released, as the simulated gate reads its pins."""
    return tuple(sorted(door.value for door in gate.layout.doors if gate.released(door)))
