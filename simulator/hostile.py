"""Hostile documents for the virtual chip: what one programmable card can hand the appliance.

    huge_q_dg14(65_000)        DG14 whose DH chip-authentication key claims a subgroup order q of
                               65 KB (only p was bounded: pow(y, q, p) ran for a minute)
    jpeg_scan_bomb()           a progressive JPEG, 4000x4000, whose last scan is repeated to ~160 KB
                               (every repeat re-decodes the whole image: tens of seconds)
    resign(passport, ...)      the passport with some data groups replaced and its SOD signed again,
                               so the hostile file is even vouched for by a trusted Document Signer
    ChipFaults(read_cap=1)     (simulator.vchip.applet) answers READ BINARY one byte at a time
    hostile_chip(case, ...)    one of CASES as a virtual chip (WatchedChip: tells when a file is selected)

Test use only: the benches and tests run these through real pcscd against the assembled appliance.
"""
from __future__ import annotations

import enum
import io
import struct
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from asn1crypto import core

from firmware_app.emrtd.crypto.dh import RFC5114_1
from firmware_app.emrtd.files import DG_TAGS, SOD_TAG, LdsFile
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.com import encode_com
from firmware_app.emrtd.lds.dg2 import encode_dg2_jpeg
from firmware_app.emrtd.lds.dg14 import DH_X942
from firmware_app.emrtd.tlv import encode_tlv
from simulator.cms_builder import signed_data
from simulator.passport_factory import TestPki, VirtualPassport, lds_security_object
from simulator.vchip.applet import ChipFaults, VirtualIcaoChip
from simulator.vchip.from_passport import chip_config

SOS, EOI = 0xDA, 0xD9
BOMB_SIDE = 4000
BOMB_BYTES = 160_000


def huge_q_dg14(q_bytes: int, cipher_arc: int = 1) -> bytes:
    """DG14 offering DH chip authentication (3DES) on RFC 5114's p and g, with a q of `q_bytes`."""
    q = (1 << (8 * q_bytes - 1)) | 1
    y = pow(RFC5114_1.g, 12345, RFC5114_1.p)
    domain = asn1.DhDomain({"p": RFC5114_1.p, "g": RFC5114_1.g, "third": q})
    spki = asn1.GenericPublicKeyInfo({"algorithm": {"algorithm": DH_X942, "parameters": domain},
                                      "public_key": core.Integer(y).dump()})
    infos = asn1.SecurityInfos([
        asn1.SecurityInfo({"protocol": asn1.ID_PK_DH, "required_data": core.Any.load(spki.dump())}),
        asn1.SecurityInfo({"protocol": f"{asn1.ID_CA_DH}.{cipher_arc}", "required_data": core.Integer(1)}),
    ])
    return encode_tlv(DG_TAGS[14], infos.dump())


def jpeg_scan_bomb(side: int = BOMB_SIDE, size: int = BOMB_BYTES) -> bytes:
    """A flat grey progressive JPEG whose last scan is repeated until the file is about `size` bytes."""
    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (side, side), 128).save(out, "JPEG", progressive=True, quality=50)
    data = out.getvalue()
    start, end = _last_scan(data)
    repeats = max(1, (size - len(data)) // (end - start))
    return data[:end] + data[start:end] * repeats + data[end:]


def jpeg_scan_bomb_dg2(side: int = BOMB_SIDE, size: int = BOMB_BYTES) -> bytes:
    return encode_dg2_jpeg(jpeg_scan_bomb(side, size), side, side)


def _last_scan(data: bytes) -> tuple[int, int]:
    """(start, end) of the last SOS segment with its entropy-coded data."""
    offset, last = 2, None
    while offset < len(data) and data[offset + 1] != EOI:
        length = struct.unpack(">H", data[offset + 2:offset + 4])[0]
        end = offset + 2 + length
        if data[offset + 1] == SOS:
            end = _entropy_end(data, end)
            last = (offset, end)
        offset = end
    if last is None:
        raise ValueError("no scan in this JPEG")
    return last


def _entropy_end(data: bytes, offset: int) -> int:
    while not (data[offset] == 0xFF and data[offset + 1] != 0x00 and not 0xD0 <= data[offset + 1] <= 0xD7):
        offset += 1
    return offset


def resign(passport: VirtualPassport, pki: TestPki, now: datetime, groups: dict[int, bytes]) -> VirtualPassport:
    """The passport with `groups` (DG number -> file) replaced, and EF.COM and EF.SOD made over them."""
    data_groups = {**passport.data_groups, **groups}
    sod = encode_tlv(SOD_TAG, signed_data(asn1.ID_LDS_SECURITY_OBJECT, lds_security_object(data_groups), pki.ds, now))
    files = {"EF.COM": encode_com(sorted(data_groups)), "EF.SOD": sod}
    files.update({f"DG{n}": data for n, data in sorted(data_groups.items())})
    return replace(passport, files=files, notes=dict(passport.notes))


class HostileCase(enum.Enum):
    GENUINE = "genuine"
    HUGE_Q_DG14 = "huge_q_dg14"  # 65 KB DH subgroup order, signed by the trusted Document Signer
    ONE_BYTE_READS = "one_byte_reads"  # every READ BINARY past a file's header answers 1 byte
    JPEG_SCAN_BOMB = "jpeg_scan_bomb"  # the portrait, signed by the trusted Document Signer


# the file whose selection marks the moment the hostile work starts (the same point for GENUINE)
ATTACK_FILE = {HostileCase.GENUINE: LdsFile.DG14, HostileCase.HUGE_Q_DG14: LdsFile.DG14,
               HostileCase.ONE_BYTE_READS: LdsFile.SOD, HostileCase.JPEG_SCAN_BOMB: LdsFile.DG2}


class WatchedChip(VirtualIcaoChip):
    """The virtual chip, telling a bench when the reader selects a file (to time an attack)."""

    def __init__(self, config, rng):
        self.selected: dict[int, threading.Event] = defaultdict(threading.Event)
        super().__init__(config, rng)

    def _select(self, command, protected):
        response = super()._select(command, protected)
        if command.p1 == 0x02 and response.sw == 0x9000:
            self.selected[int.from_bytes(command.data, "big")].set()
        return response


def hostile_chip(case: HostileCase, passport: VirtualPassport, pki: TestPki, now: datetime,
                 rng: Callable[[int], bytes]) -> WatchedChip:
    if case is HostileCase.HUGE_Q_DG14:
        passport = resign(passport, pki, now, {14: huge_q_dg14(65_000)})
    elif case is HostileCase.JPEG_SCAN_BOMB:
        passport = resign(passport, pki, now, {2: jpeg_scan_bomb_dg2()})
    faults = ChipFaults(read_cap=1) if case is HostileCase.ONE_BYTE_READS else None
    return WatchedChip(chip_config(passport, faults=faults), rng)
