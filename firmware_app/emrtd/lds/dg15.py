"""DG15: the active-authentication public key (RSA or EC SubjectPublicKeyInfo)."""
from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import keys

from firmware_app.emrtd.errors import LdsUnsupported
from firmware_app.emrtd.files import DG_TAGS
from firmware_app.emrtd.lds.common import file_errors, unwrap
from firmware_app.emrtd.lds.key_bounds import check_public_key_info
from firmware_app.emrtd.tlv import encode_tlv

FILE = "DG15"
SUPPORTED = ("rsa", "ec")


@dataclass(frozen=True)
class Dg15:
    algorithm: str  # "rsa" or "ec"
    public_key_info: keys.PublicKeyInfo


def parse_dg15(data: bytes) -> Dg15:
    der = unwrap(data, DG_TAGS[15], FILE)
    with file_errors(FILE):
        spki = keys.PublicKeyInfo.load(der, strict=True)
        algorithm = spki["algorithm"]["algorithm"].native
        if algorithm not in SUPPORTED:
            raise LdsUnsupported(FILE, f"AA key algorithm {algorithm}")
        _ = spki["algorithm"]["parameters"].native, spki["public_key"].native  # force the full parse
        check_public_key_info(spki, FILE)  # before any arithmetic on the key
    return Dg15(algorithm, spki)


def encode_dg15(public_key_info_der: bytes) -> bytes:
    return encode_tlv(DG_TAGS[15], public_key_info_der)
