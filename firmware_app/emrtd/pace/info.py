"""EF.CardAccess: the PACEInfo entries a chip offers (ICAO 9303-11 section 9.2)."""
from __future__ import annotations

import enum
from dataclasses import dataclass

from firmware_app.emrtd.crypto.curves import Curve
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.errors import TlvError, UnsupportedProtocol
from firmware_app.emrtd.keys import KeyAlgorithm
from firmware_app.emrtd.oid import decode_oid
from firmware_app.emrtd.tlv import parse_single_tlv

ID_PACE = "0.4.0.127.0.7.2.2.4"
TAG_SET, TAG_SEQUENCE, TAG_OID, TAG_INTEGER = 0x31, 0x30, 0x06, 0x02
MAX_SECURITY_INFOS = 32
SUPPORTED_PARAMETER_IDS = set(STANDARD_PARAMETERS)  # every standardized domain this build computes on


class Mapping(enum.Enum):
    DH_GM = 1
    ECDH_GM = 2
    DH_IM = 3
    ECDH_IM = 4
    ECDH_CAM = 6


_CIPHERS = {1: KeyAlgorithm.DES3, 2: KeyAlgorithm.AES128, 3: KeyAlgorithm.AES192, 4: KeyAlgorithm.AES256}


@dataclass(frozen=True)
class PaceInfo:
    oid: str
    version: int
    parameter_id: int | None

    @property
    def mapping(self) -> Mapping:
        return Mapping(int(self.oid.split(".")[-2]))

    @property
    def algorithm(self) -> KeyAlgorithm:
        return _CIPHERS[int(self.oid.split(".")[-1])]

    def describe(self) -> str:
        return f"{self.mapping.name} {self.algorithm.name} param {self.parameter_id}"


def is_pace_info_oid(oid: str) -> bool:
    """A PACEInfo protocol OID (mapping and cipher arcs we know; not a domain-parameter info)."""
    arcs = oid[len(ID_PACE) + 1:].split(".") if oid.startswith(ID_PACE + ".") else []
    if len(arcs) != 2 or not all(a.isdigit() for a in arcs):
        return False
    return int(arcs[0]) in {m.value for m in Mapping} and int(arcs[1]) in _CIPHERS


def parse_card_access(data: bytes) -> list[PaceInfo]:
    """All PACEInfo entries of EF.CardAccess (other SecurityInfos are skipped)."""
    root = parse_single_tlv(data, max_depth=4, expected_tag=TAG_SET)
    if len(root.children) > MAX_SECURITY_INFOS:
        raise TlvError("too many SecurityInfos in EF.CardAccess")
    infos = []
    for entry in root.children:
        if entry.tag != TAG_SEQUENCE or len(entry.children) < 2 or entry.children[0].tag != TAG_OID:
            raise TlvError("SecurityInfo is not SEQUENCE { OID, ... }")
        oid = decode_oid(entry.children[0].value)
        if is_pace_info_oid(oid):
            infos.append(_pace_info(oid, entry.children[1:]))
    return infos


def _pace_info(oid: str, fields) -> PaceInfo:
    if any(f.tag != TAG_INTEGER or not 1 <= len(f.value) <= 4 for f in fields[:2]):
        raise TlvError("PACEInfo version/parameterId must be small INTEGERs")
    version = int.from_bytes(fields[0].value, "big")
    parameter = int.from_bytes(fields[1].value, "big") if len(fields) > 1 else None
    return PaceInfo(oid, version, parameter)


# CAM first (it proves the chip genuine in the same run), then generic, then integrated mapping;
# within a mapping ECDH before DH (shorter messages), then the chip's own order.
PREFERENCE = (Mapping.ECDH_CAM, Mapping.ECDH_GM, Mapping.ECDH_IM, Mapping.DH_GM, Mapping.DH_IM)
INTEGRATED = (Mapping.ECDH_IM, Mapping.DH_IM)
_ECDH = (Mapping.ECDH_GM, Mapping.ECDH_IM, Mapping.ECDH_CAM)


def _usable(info: PaceInfo, supported_parameters: dict) -> bool:
    """Version 2, a standardized group of the mapping's kind, and the mapping's own constraints:
    CAM exists with AES only, and IM's point encoding needs p = 3 mod 4 (not NIST P-224)."""
    params = supported_parameters.get(info.parameter_id)
    if info.version != 2 or params is None or isinstance(params, Curve) != (info.mapping in _ECDH):
        return False
    if info.mapping is Mapping.ECDH_CAM and info.algorithm is KeyAlgorithm.DES3:
        return False
    return not (info.mapping is Mapping.ECDH_IM and params.p % 4 != 3)


def choose_pace_info(infos: list[PaceInfo], supported_parameters) -> PaceInfo:
    """The preferred PACEInfo this build implements (see PREFERENCE).

    supported_parameters: parameter id -> Curve or DhGroup (a plain set of ids is read as 'all of
    these ids, whatever their kind' and no longer checks the kind)."""
    table = supported_parameters if isinstance(supported_parameters, dict) else _standard(supported_parameters)
    usable = [info for info in infos if _usable(info, table)]
    for mapping in PREFERENCE:
        for info in usable:
            if info.mapping is mapping:
                return info
    offered = ", ".join(i.describe() for i in infos) or "nothing"
    raise UnsupportedProtocol(f"no supported PACE variant (chip offers {offered})")


def _standard(ids) -> dict:
    return {i: STANDARD_PARAMETERS[i] for i in ids if i in STANDARD_PARAMETERS}
