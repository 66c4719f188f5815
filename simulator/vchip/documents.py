"""Helpers to give the virtual chip content: EF.CardAccess from PACEInfos, and a synthetic LDS.

The synthetic LDS has correct outer structure (EF.COM tag list, DG tags and lengths) and filler
content: it exercises the transport and protocol layers. Real signed documents come from the
passport factory (simulator/passport_factory.py).
"""
from __future__ import annotations

import hashlib

from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.oid import encode_oid
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.emrtd.tlv import encode_tlv

_DG_TAG = {LdsFile.DG1: 0x61, LdsFile.DG2: 0x75, LdsFile.DG7: 0x67, LdsFile.DG11: 0x6B,
           LdsFile.DG12: 0x6C, LdsFile.DG14: 0x6E, LdsFile.DG15: 0x6F}


def encode_card_access(infos: list[PaceInfo]) -> bytes:
    entries = b""
    for info in infos:
        body = encode_tlv(0x06, encode_oid(info.oid)) + encode_tlv(0x02, bytes([info.version]))
        if info.parameter_id is not None:
            body += encode_tlv(0x02, bytes([info.parameter_id]))
        entries += encode_tlv(0x30, body)
    return encode_tlv(0x31, entries)


def _filler(label: str, size: int) -> bytes:
    """Deterministic, incompressible-looking bytes so tests catch any misplaced block."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{label}/{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def synthetic_lds(mrz_text: str, dg2_size: int = 15000,
                  groups: tuple[LdsFile, ...] = (LdsFile.DG14, LdsFile.DG15)) -> dict[int, bytes]:
    """File id -> bytes for EF.COM, EF.SOD, DG1 (the MRZ), DG2 of about dg2_size bytes, and groups."""
    files = {LdsFile.DG1: encode_tlv(0x61, encode_tlv(0x5F1F, mrz_text.encode("ascii"))),
             LdsFile.DG2: encode_tlv(0x75, _filler("DG2", dg2_size))}
    for group in groups:
        files[group] = encode_tlv(_DG_TAG[group], _filler(group.value, 300))
    tag_list = bytes(_DG_TAG[f] for f in files)
    files[LdsFile.SOD] = encode_tlv(0x77, _filler("SOD", 1800))
    files[LdsFile.COM] = encode_tlv(0x60, encode_tlv(0x5F01, b"0107") + encode_tlv(0x5F36, b"040000")
                                    + encode_tlv(0x5C, tag_list))
    return {file.fid: content for file, content in files.items()}
