"""Build a virtual chip configuration from the passport factory's VirtualPassport."""
from __future__ import annotations

from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import mrz_key_from_lines
from firmware_app.emrtd.pace.info import PaceInfo
from simulator.vchip.applet import ChipConfig, ChipFaults
from simulator.vchip.documents import encode_card_access


def chip_config(passport, pace: list[PaceInfo] | None = None, extended_length: bool = False,
                can: str | None = None, faults: ChipFaults | None = None) -> ChipConfig:
    files = {LdsFile(name).fid: data for name, data in passport.files.items()}
    pace = pace or list(passport.pace)
    return ChipConfig(files=files, mrz=mrz_key_from_lines(list(passport.mrz_lines)), can=can, pace=pace,
                      extended_length=extended_length, card_access=encode_card_access(pace) if pace else None,
                      faults=faults or ChipFaults(), aa_key=passport.aa_private_key,
                      ca_key=passport.ca_private_key, card_security=passport.card_security)
