"""DG14: SecurityInfos announcing chip authentication, PACE and the AA signature algorithm."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from asn1crypto import core, keys

from firmware_app.emrtd.errors import LdsFormatError
from firmware_app.emrtd.files import DG_TAGS
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.common import file_errors, unwrap
from firmware_app.emrtd.lds.key_bounds import check_dh_domain, check_dh_public, check_public_key_info

FILE = "DG14"
MAX_INFOS = 32
DH_X942 = "1.2.840.10046.2.1"
DH_PKCS3 = "1.2.840.113549.1.3.1"


class CaCipher(Enum):
    DES3 = 1  # last arc of id-CA-(EC)DH-3DES-CBC-CBC
    AES128 = 2
    AES192 = 3
    AES256 = 4


class Agreement(Enum):
    DH = "DH"
    ECDH = "ECDH"


@dataclass(frozen=True)
class ChipAuthInfo:
    protocol: str
    agreement: Agreement
    cipher: CaCipher
    version: int
    key_id: int | None


@dataclass(frozen=True)
class DhPublicKey:
    p: int
    g: int
    q: int | None
    y: int


@dataclass(frozen=True)
class ChipAuthPublicKey:
    agreement: Agreement
    key_id: int | None
    ec_key: keys.PublicKeyInfo | None  # ECDH: SubjectPublicKeyInfo (named or explicit curve)
    dh_key: DhPublicKey | None


@dataclass(frozen=True)
class PaceInfo:
    protocol: str
    version: int
    parameter_id: int | None


@dataclass(frozen=True)
class ActiveAuthInfo:
    version: int
    signature_algorithm: str


@dataclass(frozen=True)
class Dg14:
    chip_auth: tuple[ChipAuthInfo, ...]
    chip_auth_keys: tuple[ChipAuthPublicKey, ...]
    pace: tuple[PaceInfo, ...]
    active_auth: ActiveAuthInfo | None
    other_protocols: tuple[str, ...]


def parse_dg14(data: bytes) -> Dg14:
    return parse_security_infos(unwrap(data, DG_TAGS[14], FILE), FILE)


def parse_security_infos(der: bytes, file_name: str = FILE) -> Dg14:
    """Parse a DER SET OF SecurityInfo (also the content of EF.CardAccess / EF.CardSecurity)."""
    with file_errors(file_name):
        infos = asn1.SecurityInfos.load(der, strict=True)
        if len(infos) > MAX_INFOS:
            raise LdsFormatError(file_name, f"more than {MAX_INFOS} SecurityInfos")
        sorted_infos = _Collector(file_name)
        for info in infos:
            sorted_infos.add(info)
        return sorted_infos.result()


class _Collector:
    def __init__(self, file_name: str):
        self.file_name = file_name
        self.chip_auth: list[ChipAuthInfo] = []
        self.keys: list[ChipAuthPublicKey] = []
        self.pace: list[PaceInfo] = []
        self.active_auth: list[ActiveAuthInfo] = []
        self.other: list[str] = []

    def add(self, info: asn1.SecurityInfo) -> None:
        oid = info["protocol"].dotted
        if oid in (asn1.ID_PK_DH, asn1.ID_PK_ECDH):
            self.keys.append(_chip_auth_key(info.dump(), oid))
        elif _arc_parent(oid) in (asn1.ID_CA_DH, asn1.ID_CA_ECDH):
            self.chip_auth.append(_chip_auth_info(info, oid, self.file_name))
        elif oid.startswith(asn1.ID_PACE + "."):
            self.pace.append(PaceInfo(oid, _integer(info["required_data"]), _optional_int(info)))
        elif oid == asn1.ID_AA:
            if isinstance(info["optional_data"], core.Void):
                raise LdsFormatError(self.file_name, "ActiveAuthenticationInfo lacks its algorithm")
            algorithm = info["optional_data"].parse(core.ObjectIdentifier).dotted
            self.active_auth.append(ActiveAuthInfo(_integer(info["required_data"]), algorithm))
        else:
            self.other.append(oid)

    def result(self) -> Dg14:
        if len(self.active_auth) > 1:
            raise LdsFormatError(self.file_name, "more than one ActiveAuthenticationInfo")
        aa = self.active_auth[0] if self.active_auth else None
        return Dg14(tuple(self.chip_auth), tuple(self.keys), tuple(self.pace), aa, tuple(self.other))


def _arc_parent(oid: str) -> str:
    return oid.rsplit(".", 1)[0]


def _integer(value: core.Any) -> int:
    return int(value.parse(core.Integer).native)


def _optional_int(info: asn1.SecurityInfo) -> int | None:
    optional = info["optional_data"]
    return None if isinstance(optional, core.Void) else _integer(optional)


def _chip_auth_info(info: asn1.SecurityInfo, oid: str, file_name: str) -> ChipAuthInfo:
    last_arc = int(oid.rsplit(".", 1)[1])
    if last_arc not in CaCipher._value2member_map_:
        raise LdsFormatError(file_name, f"unknown chip-authentication cipher arc {last_arc}")
    agreement = Agreement.DH if _arc_parent(oid) == asn1.ID_CA_DH else Agreement.ECDH
    version = _integer(info["required_data"])
    return ChipAuthInfo(oid, agreement, CaCipher(last_arc), version, _optional_int(info))


def _chip_auth_key(der: bytes, oid: str) -> ChipAuthPublicKey:
    info = asn1.ChipAuthenticationPublicKeyInfo.load(der)
    key_id = info["key_id"].native
    spki = info["chip_authentication_public_key"]
    if oid == asn1.ID_PK_ECDH:
        _ = spki["algorithm"]["parameters"].native, spki["public_key"].native  # force the full parse
        check_public_key_info(spki, FILE)
        return ChipAuthPublicKey(Agreement.ECDH, key_id, spki, None)
    return ChipAuthPublicKey(Agreement.DH, key_id, None, parse_dh_public_key(spki.dump()))


def parse_dh_public_key(der: bytes) -> DhPublicKey:
    """DH SubjectPublicKeyInfo with X9.42 or PKCS#3 parameters; the key is a DER INTEGER."""
    spki = asn1.GenericPublicKeyInfo.load(der)
    oid = spki["algorithm"]["algorithm"].dotted
    if oid not in (DH_X942, DH_PKCS3):
        raise LdsFormatError(FILE, f"DH key with algorithm {oid}")
    domain = spki["algorithm"]["parameters"].parse(asn1.DhDomain)
    y = core.Integer.load(spki["public_key"].native).native
    q = domain["third"].native if oid == DH_X942 else None
    p, g = domain["p"].native, domain["g"].native
    check_dh_domain(p, g, q, FILE)  # before any pow(): a huge q cost seconds of GIL
    check_dh_public(p, y, FILE)
    return DhPublicKey(p, g, q, y)
