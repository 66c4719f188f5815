"""Key derivation of ICAO 9303-11 (section 9.7.1) and the access-key seeds from MRZ or CAN.

The MRZ seed is built from the key fields as printed, with their check digits (9303-11 9.7.2).
An expiry of six fillers (a document that states none) is printed with a filler check digit, `<`
or `0` depending on the issuer; the chip was personalised with what is printed, so the key takes
the check digit as read (`expiry_check`) rather than computing one. A birth date with unknown
parts ('85<<<<') is likewise taken as printed."""
from __future__ import annotations

import enum
import hashlib
import re
from dataclasses import dataclass

from firmware_app.emrtd.errors import AuthenticationError


class KeyPurpose(enum.IntEnum):
    ENC = 1
    MAC = 2
    PACE_PASSWORD = 3


class KeyAlgorithm(enum.Enum):
    DES3 = ("3DES", 16)
    AES128 = ("AES", 16)
    AES192 = ("AES", 24)
    AES256 = ("AES", 32)

    @property
    def key_size(self) -> int:
        return self.value[1]


def kdf(shared: bytes, purpose: KeyPurpose, algorithm: KeyAlgorithm) -> bytes:
    """KDF(K, c): hash of K || c (32-bit counter), cut to the key size."""
    data = shared + int(purpose).to_bytes(4, "big")
    if algorithm in (KeyAlgorithm.DES3, KeyAlgorithm.AES128):
        digest = hashlib.sha1(data).digest()
    else:
        digest = hashlib.sha256(data).digest()
    key = digest[:algorithm.key_size]
    return adjust_des_parity(key) if algorithm is KeyAlgorithm.DES3 else key


def adjust_des_parity(key: bytes) -> bytes:
    """DES keys carry odd parity in each byte's lowest bit (9303 examples show adjusted keys)."""
    return bytes((b & 0xFE) | ((bin(b >> 1).count("1") + 1) % 2) for b in key)


_CHECK_WEIGHTS = (7, 3, 1)
NO_EXPIRY = "<<<<<<"
NO_EXPIRY_CHECKS = ("<", "0")       # what issuers print after six fillers


def check_digit(field: str) -> str:
    total = 0
    for index, char in enumerate(field):
        total += _char_value(char) * _CHECK_WEIGHTS[index % 3]
    return str(total % 10)


def _char_value(char: str) -> int:
    if char.isdigit():
        return int(char)
    if "A" <= char <= "Z":
        return ord(char) - ord("A") + 10
    if char == "<":
        return 0
    raise AuthenticationError("BAC", "MRZ field holds a character outside A-Z 0-9 <")


@dataclass(frozen=True, repr=False)
class MrzKey:
    """The three MRZ fields that open the chip (personal data: repr hides them)."""
    document_number: str
    birth_date: str  # YYMMDD
    expiry_date: str  # YYMMDD, or six fillers: no expiry stated
    expiry_check: str | None = None  # the expiry's check digit as printed (None: computed)

    def __repr__(self) -> str:
        return "MrzKey(<redacted>)"

    def information(self) -> bytes:
        number = self.document_number.upper().ljust(9, "<")
        _require_birth_date(self.birth_date)
        number_and_birth = "".join(p + check_digit(p) for p in (number, self.birth_date))
        return (number_and_birth + self.expiry_date + self._expiry_check()).encode("ascii")

    def _expiry_check(self) -> str:
        if self.expiry_date != NO_EXPIRY:
            _require_date("expiry date", self.expiry_date)
            return check_digit(self.expiry_date)
        if self.expiry_check is None:
            return check_digit(NO_EXPIRY)
        if self.expiry_check not in NO_EXPIRY_CHECKS:
            raise AuthenticationError("BAC", "an expiry of six fillers needs a check digit '<' or '0'")
        return self.expiry_check

    def seed(self) -> bytes:
        """K_seed for BAC: first 16 bytes of SHA-1(MRZ_information)."""
        return hashlib.sha1(self.information()).digest()[:16]

    def pace_password(self) -> bytes:
        return hashlib.sha1(self.information()).digest()


_BIRTH = re.compile(r"(?:[0-9]{2}|<<){3}")


def _require_birth_date(date: str) -> None:
    """9303-3: unknown parts of a birth date are printed as fillers ('85<<<<'); the key takes the
    printed characters, as the chip was personalised with them (9303-11 9.7.2)."""
    if not _BIRTH.fullmatch(date):
        raise AuthenticationError("BAC", "birth date must be YYMMDD, unknown parts as '<<'")


def _require_date(name: str, date: str) -> None:
    if len(date) != 6 or not date.isdigit():
        raise AuthenticationError("BAC", f"{name} must be 6 digits YYMMDD (or six fillers for no expiry)")


@dataclass(frozen=True, repr=False)
class CanKey:
    """Card Access Number printed on the data page (PACE only)."""
    can: str

    def __repr__(self) -> str:
        return "CanKey(<redacted>)"

    def pace_password(self) -> bytes:
        if not self.can.isdigit() or not 1 <= len(self.can) <= 12:
            raise AuthenticationError("PACE", "CAN must be 1-12 digits")
        return self.can.encode("ascii")


def mrz_key_from_lines(lines: list[str]) -> MrzKey:
    """Take the key fields from TD3 (2x44), TD2 (2x36) or TD1 (3x30) MRZ text; extended numbers too.

    TD2 and TD3 share the second line's layout up to the optional data (28-34 on TD2, 28-41 on
    TD3), where a document number longer than 9 characters continues (9303-5/-4, 9303-11 D.2)."""
    lines = [line.strip().upper() for line in lines]
    if len(lines) == 2 and len(lines[1]) in (44, 36):
        line = lines[1]
        optional_end = 42 if len(line) == 44 else 35
        return MrzKey(_long_number(line[0:9], line[9], line[28:optional_end]), line[13:19], line[21:27], line[27])
    if len(lines) == 3 and len(lines[0]) == 30 and len(lines[1]) == 30:
        first = lines[0]
        return MrzKey(_long_number(first[5:14], first[14], first[15:30]), lines[1][0:6], lines[1][8:14],
                      lines[1][14])
    raise AuthenticationError("BAC", "MRZ must be 2 lines of 44 or 36, or 3 lines of 30 characters")


def _long_number(principal: str, check: str, optional: str) -> str:
    # 9303-3: a '<' check digit means the number continues in the optional data, ending in its digit
    if check != "<":
        return principal.rstrip("<")
    rest = optional.split("<", 1)[0]
    return principal + rest[:-1]
