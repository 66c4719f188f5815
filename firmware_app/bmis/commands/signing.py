"""Ed25519 signatures on BMIS commands, and the device's trust store of BMIS public keys.

Signing bytes (version 1), what the BMIS signs and the gate verifies:

    b"border-gate/bmis-cmd/v1\\x00" + topic (UTF-8) + b"\\x00" + canonical JSON of the command

The canonical JSON is the command object WITHOUT its "signature" member, keys sorted, no spaces
(separators "," and ":"), UTF-8 without escaping non-ASCII, integers only (no floats: their text
form differs between languages), at most MAX_DEPTH levels deep. The topic is included so a signed
command cannot be replayed on another device's topic or as another command.

The signature member:  {"alg": "Ed25519", "key_id": "<16 hex>", "value": "<base64, 64 bytes>"}
key_id is the first 16 hex digits of SHA-256 over the raw 32-byte public key.

The trust store is a directory of PEM public keys (SubjectPublicKeyInfo); a file's name does not
matter, the key id is computed. `gatectl provision bmis-key FILE` adds one.
"""
from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import NotCanonical, TrustStoreError

DOMAIN = b"border-gate/bmis-cmd/v1\x00"
SIGNATURE_FIELD = "signature"
ALGORITHM = "Ed25519"
MAX_DEPTH = 12
MAX_KEYS = 64
MAX_KEY_FILE_BYTES = 4096
_SIGNATURE_BYTES = 64


class SignatureStatus(str, enum.Enum):
    VALID = "valid"
    MISSING = "missing"                # no signature member
    MALFORMED = "malformed"            # signature member or command not in the expected form
    UNSUPPORTED_ALG = "unsupported_alg"
    UNKNOWN_KEY = "unknown_key"        # key id not in the trust store
    BAD_SIGNATURE = "bad_signature"    # tampered, or signed by another key


@dataclass(frozen=True, slots=True)
class SignatureCheck:
    status: SignatureStatus
    key_id: str | None = None

    @property
    def valid(self) -> bool:
        return self.status is SignatureStatus.VALID


def key_id_of(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _check_canonical(value: object, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise NotCanonical(f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, float):
        raise NotCanonical("floats are not allowed in signed commands")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotCanonical("object keys must be strings")
            _check_canonical(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_canonical(item, depth + 1)
    elif not (value is None or isinstance(value, (str, int, bool))):
        raise NotCanonical(f"unsupported value type {type(value).__name__}")


def signing_bytes(topic: str, command: Mapping) -> bytes:
    """The bytes signed for `command` (its signature member left out) published on `topic`."""
    if not isinstance(topic, str) or not isinstance(command, Mapping):
        raise NotCanonical("topic must be a str and command an object")
    body = {k: v for k, v in command.items() if k != SIGNATURE_FIELD}
    _check_canonical(body)
    try:
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                          allow_nan=False)
        return DOMAIN + topic.encode("utf-8") + b"\x00" + text.encode("utf-8")
    except (ValueError, UnicodeEncodeError) as exc:  # lone surrogates cannot be UTF-8
        raise NotCanonical(str(exc)) from None


def sign_command(private_key: Ed25519PrivateKey, topic: str, command: Mapping) -> dict:
    """A copy of `command` with its signature member (what the BMIS side does)."""
    signature = private_key.sign(signing_bytes(topic, command))
    signed = {k: v for k, v in command.items() if k != SIGNATURE_FIELD}
    signed[SIGNATURE_FIELD] = {
        "alg": ALGORITHM,
        "key_id": key_id_of(private_key.public_key()),
        "value": base64.b64encode(signature).decode("ascii"),
    }
    return signed


class TrustStore:
    """BMIS public keys the device accepts commands from, by key id."""

    def __init__(self, keys: Mapping[str, Ed25519PublicKey] | None = None):
        self._keys = dict(keys or {})

    @classmethod
    def of(cls, *public_keys: Ed25519PublicKey) -> TrustStore:
        return cls({key_id_of(key): key for key in public_keys})

    @classmethod
    def from_directory(cls, directory: str | Path) -> TrustStore:
        """Load every *.pem file; any unreadable or non-Ed25519 file is an error (no silent skip)."""
        directory = Path(directory)
        try:
            files = sorted(p for p in directory.iterdir() if p.suffix == ".pem")
        except OSError as exc:
            raise TrustStoreError(f"{directory}: cannot list ({exc.strerror})") from None
        if len(files) > MAX_KEYS:
            raise TrustStoreError(f"{directory}: more than {MAX_KEYS} key files")
        return cls.of(*(load_public_key(path) for path in files))

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(sorted(self._keys))

    def get(self, key_id: str) -> Ed25519PublicKey | None:
        return self._keys.get(key_id)

    def __len__(self) -> int:
        return len(self._keys)


def parse_public_key(data: bytes, origin: str = "key") -> Ed25519PublicKey:
    if len(data) > MAX_KEY_FILE_BYTES:
        raise TrustStoreError(f"{origin}: larger than {MAX_KEY_FILE_BYTES} bytes")
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise TrustStoreError(f"{origin}: not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise TrustStoreError(f"{origin}: not an Ed25519 key")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TrustStoreError(f"{path}: cannot read ({exc.strerror})") from None
    return parse_public_key(data, str(path))


def public_key_pem(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.PEM,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def _decode_signature(member: object) -> tuple[SignatureStatus, str | None, bytes]:
    if not isinstance(member, dict) or not isinstance(member.get("key_id"), str) \
            or not isinstance(member.get("value"), str):
        return SignatureStatus.MALFORMED, None, b""
    key_id = member["key_id"][:64]
    if member.get("alg") != ALGORITHM:
        return SignatureStatus.UNSUPPORTED_ALG, key_id, b""
    try:
        value = base64.b64decode(member["value"][:200], validate=True)
    except (binascii.Error, ValueError):
        return SignatureStatus.MALFORMED, key_id, b""
    if len(value) != _SIGNATURE_BYTES:
        return SignatureStatus.MALFORMED, key_id, b""
    return SignatureStatus.VALID, key_id, value


def verify_command(topic: str, command: Mapping, trust: TrustStore) -> SignatureCheck:
    """Check the command's signature against the trust store. Never raises on bad input."""
    if not isinstance(command, Mapping) or SIGNATURE_FIELD not in command:
        return SignatureCheck(SignatureStatus.MISSING)
    status, key_id, signature = _decode_signature(command[SIGNATURE_FIELD])
    if status is not SignatureStatus.VALID or key_id is None:     # a decoded signature names its key
        return SignatureCheck(status, key_id)
    key = trust.get(key_id)
    if key is None:
        return SignatureCheck(SignatureStatus.UNKNOWN_KEY, key_id)
    try:
        key.verify(signature, signing_bytes(topic, command))
    except NotCanonical:
        return SignatureCheck(SignatureStatus.MALFORMED, key_id)
    except InvalidSignature:
        return SignatureCheck(SignatureStatus.BAD_SIGNATURE, key_id)
    return SignatureCheck(SignatureStatus.VALID, key_id)
