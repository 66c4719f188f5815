"""The chip of a one-stop post's end-to-end tests with real passive authentication (issue 17).

The lane's real ChipReadStage reads an in-process virtual ICAO chip (the pcscd path has its own
tests) issued by UTO's test CSCA, and judges it against each authority's own trust store: the
exit authority holds UTO's CSCA; the entry authority ARC's (a different test CSCA), or, with
`trust="absent"`, an own store whose directory does not exist yet (the exit authority then
shares the lane's [smartcard] store, which holds UTO's CSCA).
"""
from __future__ import annotations

import time
from datetime import UTC, datetime
from functools import lru_cache

from firmware_app.emrtd.pa import TrustStore
from firmware_app.lane.stages import ChipReadStage, PortraitVault
from firmware_app.policy.onestop import Role
from simulator.passport_factory import AaKind, PassportSpec, build_passport, build_pki
from simulator.test_pki import KeyKind
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import counter_rng
from tests.passport_helpers import portrait, store_for

PKI_NOW = datetime(2026, 11, 26, tzinfo=UTC)     # the documents' signing day; their checks run on it


@lru_cache(maxsize=4)
def country_pki(seed: str, country: str):
    return build_pki(seed, PKI_NOW, KeyKind.ECDSA_P256, KeyKind.ECDSA_P256, country=country)


def uto():
    return country_pki("uto-onestop", "UT")


def arc():
    return country_pki("arc-onestop", "AR")


class TrustedChips:
    """The lane's chip port: a UTO-issued document with the traveller's MRZ, read for real."""

    def __init__(self, tmp_path, trust: str):
        dirs = {Role.EXIT: tmp_path / "uto-csca", Role.ENTRY: tmp_path / "arc-csca"}
        if trust == "arc":
            for role, pki in ((Role.EXIT, uto()), (Role.ENTRY, arc())):
                dirs[role].mkdir()
                (dirs[role] / "csca.der").write_bytes(pki.csca.der)
            self.csca_dirs, lane_store = dirs, TrustStore()      # the lane's own store plays no part
        elif trust == "absent":
            self.csca_dirs, lane_store = {Role.ENTRY: dirs[Role.ENTRY]}, store_for(uto(), with_crl=False)
        else:
            raise ValueError(trust)
        self.document = None
        self.stage = ChipReadStage(self._open, lane_store, counter_rng("terminal"), time.monotonic,
                                   lambda: PKI_NOW, PortraitVault())

    def _open(self):
        return InProcessTransceiver(VirtualIcaoChip(chip_config(self.document), counter_rng("chip")))

    def __call__(self, txn_id, mrz, cancelled):
        spec = PassportSpec(tuple(mrz.lines), portrait(), aa=AaKind.NONE, chip_auth=False)
        self.document = build_passport(spec, uto(), PKI_NOW)
        return self.stage(txn_id, mrz, cancelled)
