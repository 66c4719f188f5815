"""A test PKI for virtual passports: CSCA -> Document Signer (RSA, RSA-PSS, ECDSA, explicit-curve
ECDSA), CRLs and an ICAO master list. All keys come from simulator.test_keys (seeded).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from asn1crypto import algos, keys
from asn1crypto import x509 as ax509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from firmware_app.emrtd.crypto import ec as curve_math
from firmware_app.emrtd.crypto.curves import NAMED_CURVES, Curve
from firmware_app.emrtd.crypto.ecdsa import ecdsa_sign
from simulator import test_keys

# brainpoolP256t1 (RFC 5639): a standard curve neither `cryptography` nor our named table knows,
# so keys on it exercise the in-house explicit-parameter ECDSA end to end (values checked against
# `openssl ecparam -name brainpoolP256t1 -param_enc explicit`).
BRAINPOOL_P256T1 = Curve(
    "brainpoolP256t1",
    p=0xA9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5377,
    a=0xA9FB57DBA1EEA9BC3E660A909D838D726E3BF623D52620282013481D1F6E5374,
    b=0x662C61C430D84EA4FE66A7733D0B76B7BF93EBC4AF2F49256AE58101FEE92B04,
    gx=0xA3E8EB3CC1CFE7B7732213B23A656149AFA142C47AAFBC2B79A191562E1305F4,
    gy=0x2D996C823439C56D7F7B22E14644417E69BCB6DE39D027001DABE8F35B25C9BE,
    n=0xA9FB57DBA1EEA9BC3E660A909D838D718C397AA3B561A6F7901E0E82974856A7,
    h=1,
)


class KeyKind(Enum):
    RSA_PKCS1 = "rsa-pkcs1"
    RSA_PSS = "rsa-pss"
    ECDSA_P256 = "ecdsa-p256"
    ECDSA_EXPLICIT = "ecdsa-brainpoolP256r1-explicit"  # matches a named curve
    ECDSA_EXPLICIT_UNNAMED = "ecdsa-brainpoolP256t1-explicit"  # matches none: in-house ECDSA


@dataclass(frozen=True)
class SigningKey:
    kind: KeyKind
    private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None
    explicit: tuple[Curve, int] | None = None  # (curve, scalar) for ECDSA_EXPLICIT_UNNAMED

    def sign(self, data: bytes) -> bytes:
        if self.kind is KeyKind.RSA_PKCS1:
            return self.private.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if self.kind is KeyKind.RSA_PSS:
            return self.private.sign(data, padding.PSS(padding.MGF1(hashes.SHA256()), 32), hashes.SHA256())
        if self.explicit is None:
            return self.private.sign(data, ec.ECDSA(hashes.SHA256()))
        return _explicit_sign(*self.explicit, data)

    def signature_algorithm(self) -> algos.SignedDigestAlgorithm:
        if self.kind is KeyKind.RSA_PKCS1:
            return algos.SignedDigestAlgorithm({"algorithm": "sha256_rsa"})
        if self.kind is KeyKind.RSA_PSS:
            return algos.SignedDigestAlgorithm({"algorithm": "rsassa_pss", "parameters": _pss_params()})
        return algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"})

    def public_key_info(self) -> keys.PublicKeyInfo:
        if self.kind is KeyKind.ECDSA_EXPLICIT:
            curve = NAMED_CURVES["brainpoolP256r1"]
            point = self.private.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
            return explicit_spki(curve, point)
        if self.kind is KeyKind.ECDSA_EXPLICIT_UNNAMED:
            curve, d = self.explicit
            point = curve_math.multiply(curve, d, curve_math.generator(curve))
            return explicit_spki(curve, curve_math.encode_point(curve, point))
        der = self.private.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        return keys.PublicKeyInfo.load(der)


def _pss_params() -> algos.RSASSAPSSParams:
    sha256 = {"algorithm": "sha256"}
    return algos.RSASSAPSSParams({
        "hash_algorithm": sha256,
        "mask_gen_algorithm": {"algorithm": "mgf1", "parameters": sha256},
        "salt_length": 32,
        "trailer_field": "trailer_field_bc",
    })


def _explicit_sign(curve: Curve, d: int, data: bytes) -> bytes:
    digest = hashlib.sha256(data).digest()
    for counter in range(100):  # deterministic nonce; retries only on a degenerate value
        nonce = test_keys.scalar(f"{d:x}", f"{digest.hex()}/{counter}", curve.n)
        try:
            r, s = ecdsa_sign(curve, d, digest, nonce)
        except ValueError:
            continue
        return algos.DSASignature({"r": r, "s": s}).dump()
    raise RuntimeError("no usable ECDSA nonce")


def explicit_spki(curve: Curve, point: bytes) -> keys.PublicKeyInfo:
    """An EC SubjectPublicKeyInfo carrying full domain parameters (as many passports do)."""
    size = curve.size
    domain = keys.SpecifiedECDomain({
        "version": "ecdpVer1",
        "field_id": {"field_type": "prime_field", "parameters": curve.p},
        "curve": {"a": curve.a.to_bytes(size, "big"), "b": curve.b.to_bytes(size, "big")},
        "base": curve_math.encode_point(curve, (curve.gx, curve.gy)),
        "order": curve.n,
        "cofactor": curve.h,
    })
    params = keys.ECDomainParameters(name="specified", value=domain)
    return keys.PublicKeyInfo({"algorithm": {"algorithm": "ec", "parameters": params}, "public_key": point})


def signing_key(kind: KeyKind, seed: str, label: str) -> SigningKey:
    if kind in (KeyKind.RSA_PKCS1, KeyKind.RSA_PSS):
        return SigningKey(kind, test_keys.rsa_key(seed, label, 2048))
    if kind is KeyKind.ECDSA_P256:
        return SigningKey(kind, test_keys.ec_key(seed, label, "secp256r1"))
    if kind is KeyKind.ECDSA_EXPLICIT:
        return SigningKey(kind, test_keys.ec_key(seed, label, "brainpoolP256r1"))
    d = test_keys.explicit_scalar(seed, label, BRAINPOOL_P256T1)
    return SigningKey(kind, None, (BRAINPOOL_P256T1, d))


@dataclass(frozen=True)
class Authority:
    """A key with its certificate (CSCA, Document Signer or master-list signer)."""

    key: SigningKey
    certificate: ax509.Certificate

    @property
    def der(self) -> bytes:
        return self.certificate.dump()

    @property
    def serial(self) -> int:
        return self.certificate.serial_number


def _time(moment: datetime) -> ax509.Time:
    return ax509.Time(name="utc_time" if moment.year < 2050 else "general_time", value=moment)


def _key_id(spki: keys.PublicKeyInfo) -> bytes:
    return hashlib.sha1(spki["public_key"].dump()).digest()


@dataclass(frozen=True)
class Profile:
    """Certificate details that real issuers vary (defaults: the ICAO profile of the role).

    key_usage None means the role's default; an empty set leaves the extension out."""

    subject: ax509.Name | None = None  # default: C=country, CN=common name
    issuer_name: ax509.Name | None = None  # the issuer field as written (default: issuer's subject)
    key_usage: frozenset[str] | None = None
    extended_key_usage: tuple[str, ...] = ()  # dotted OIDs or asn1crypto names; () = absent
    with_key_identifiers: bool = True


def build_name(attributes: list[tuple[str, str, str]]) -> ax509.Name:
    """A name with one attribute per RDN, in the order given: (type, value, string kind), the kind
    being 'printable', 'utf8', 'teletex' or 'bmp' as issuers choose it."""
    rdns = [ax509.RelativeDistinguishedName([{
        "type": kind_type, "value": ax509.DirectoryString(name=f"{kind}_string", value=value)}])
        for kind_type, value, kind in attributes]
    return ax509.Name(name="", value=ax509.RDNSequence(rdns))


def _extensions(spki: keys.PublicKeyInfo, issuer: Authority | None, is_ca: bool, profile: Profile) -> list[dict]:
    usage = profile.key_usage
    if usage is None:
        usage = {"key_cert_sign", "crl_sign"} if is_ca else {"digital_signature"}
    issuer_spki = issuer.certificate.public_key if issuer else spki
    extensions = [{"extn_id": "basic_constraints", "critical": True, "extn_value": {"ca": is_ca}}]
    if usage:
        extensions.append({"extn_id": "key_usage", "critical": True, "extn_value": set(usage)})
    if profile.extended_key_usage:
        extensions.append({"extn_id": "extended_key_usage", "critical": False,
                           "extn_value": list(profile.extended_key_usage)})
    if profile.with_key_identifiers:
        extensions += [
            {"extn_id": "key_identifier", "critical": False, "extn_value": _key_id(spki)},
            {"extn_id": "authority_key_identifier", "critical": False,
             "extn_value": {"key_identifier": _key_id(issuer_spki)}},
        ]
    return extensions


def issue(key: SigningKey, common_name: str, serial: int, not_before: datetime, not_after: datetime,
          issuer: Authority | None = None, is_ca: bool = False, country: str = "UT",
          profile: Profile = Profile()) -> Authority:
    """A certificate for `key`, self-signed when no issuer is given."""
    subject = profile.subject or ax509.Name.build({"country_name": country, "common_name": common_name})
    signer_key = issuer.key if issuer else key
    spki = key.public_key_info()
    issuer_name = profile.issuer_name or (issuer.certificate.subject if issuer else subject)
    tbs = ax509.TbsCertificate({
        "version": "v3",
        "serial_number": serial,
        "signature": signer_key.signature_algorithm(),
        "issuer": issuer_name,
        "validity": {"not_before": _time(not_before), "not_after": _time(not_after)},
        "subject": subject,
        "subject_public_key_info": spki,
        "extensions": _extensions(spki, issuer, is_ca, profile),
    })
    cert = ax509.Certificate({
        "tbs_certificate": tbs,
        "signature_algorithm": signer_key.signature_algorithm(),
        "signature_value": signer_key.sign(tbs.dump()),
    })
    return Authority(key, ax509.Certificate.load(cert.dump()))


def make_csca(seed: str, now: datetime, kind: KeyKind = KeyKind.RSA_PKCS1, country: str = "UT",
              years: int = 15, label: str = "csca", expired: bool = False, profile: Profile = Profile()) -> Authority:
    """A self-signed CSCA valid for `years` from a year ago, or one that expired yesterday."""
    key = signing_key(kind, seed, label)
    start, end = now - timedelta(days=365), now + timedelta(days=365 * years)
    if expired:
        start, end = now - timedelta(days=365 * (years + 1)), now - timedelta(days=1)
    return issue(key, f"CSCA {country} test", 1, start, end, is_ca=True, country=country, profile=profile)


def make_document_signer(csca: Authority, seed: str, now: datetime, kind: KeyKind = KeyKind.RSA_PKCS1,
                         serial: int = 100, valid_days: tuple[int, int] = (-30, 3650),
                         label: str = "ds", profile: Profile = Profile()) -> Authority:
    """A DS certificate; valid_days is (start, end) relative to now, so (-400, -1) is expired."""
    key = signing_key(kind, seed, f"{label}/{kind.value}")
    start, end = (now + timedelta(days=d) for d in valid_days)
    country = csca.certificate.subject.native["country_name"]
    return issue(key, f"DS {country} {kind.value}", serial, start, end, issuer=csca, country=country,
                 profile=profile)


def make_crl(csca: Authority, revoked_serials: list[int], now: datetime) -> bytes:
    from asn1crypto import crl

    revoked = [{"user_certificate": s, "revocation_date": _time(now - timedelta(days=1))} for s in revoked_serials]
    tbs = crl.TbsCertList({
        "version": "v2",
        "signature": csca.key.signature_algorithm(),
        "issuer": csca.certificate.subject,
        "this_update": _time(now - timedelta(days=1)),
        "next_update": _time(now + timedelta(days=30)),
        "revoked_certificates": revoked or None,
    })
    signed = crl.CertificateList({
        "tbs_cert_list": tbs,
        "signature_algorithm": csca.key.signature_algorithm(),
        "signature": csca.key.sign(tbs.dump()),
    })
    return signed.dump()


def utc(year: int, month: int = 1, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)
