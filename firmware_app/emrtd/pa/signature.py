"""Signature verification for SOD, certificates, CRLs and master lists.

RSA PKCS#1 v1.5, RSA-PSS and ECDSA through `cryptography`; ECDSA with explicit-parameter keys of
curves `cryptography` does not know through emrtd.crypto.ecdsa.
"""
from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import algos
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from firmware_app.emrtd.crypto.ecdsa import ecdsa_verify
from firmware_app.emrtd.errors import UnsupportedAlgorithm
from firmware_app.emrtd.lds.common import ASN1_DECODE_ERRORS
from firmware_app.emrtd.pa.public_key import ExplicitEcKey, PublicKey

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1, "sha224": hashes.SHA224, "sha256": hashes.SHA256,
    "sha384": hashes.SHA384, "sha512": hashes.SHA512,
}

EC_PUBLIC_KEY_OID = "1.2.840.10045.2.1"  # some SODs name the key type instead of ecdsa-with-SHAx


@dataclass(frozen=True)
class SignatureScheme:
    kind: str  # "rsassa_pkcs1v15" | "rsassa_pss" | "ecdsa"
    hash_name: str
    pss_salt_length: int | None = None
    pss_mgf_hash: str | None = None


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    if name not in HASHES:
        raise UnsupportedAlgorithm(f"hash algorithm {name}")
    return HASHES[name]()


def digest(name: str, data: bytes) -> bytes:
    hasher = hashes.Hash(hash_algorithm(name))
    hasher.update(data)
    return hasher.finalize()


def scheme_from_asn1(algorithm: algos.SignedDigestAlgorithm, fallback_hash: str | None = None) -> SignatureScheme:
    """Read the scheme; bare rsaEncryption/ecPublicKey OIDs (seen in SODs) take the signer's digest."""
    oid_name = algorithm["algorithm"].native
    try:
        kind = "ecdsa" if algorithm["algorithm"].dotted == EC_PUBLIC_KEY_OID else algorithm.signature_algo
    except ValueError as exc:
        raise UnsupportedAlgorithm(f"signature algorithm {oid_name}") from exc
    if kind == "rsassa_pss":
        try:
            return _pss_scheme(algorithm["parameters"])
        except ASN1_DECODE_ERRORS as exc:  # e.g. MGF1 without its hash: asn1crypto gives a Void
            raise UnsupportedAlgorithm(f"RSA-PSS parameters unusable ({type(exc).__name__})") from exc
    if kind not in ("rsassa_pkcs1v15", "ecdsa"):
        raise UnsupportedAlgorithm(f"signature algorithm {oid_name}")
    try:
        hash_name = algorithm.hash_algo
    except (ValueError, KeyError):
        hash_name = fallback_hash
    if hash_name not in HASHES:
        raise UnsupportedAlgorithm(f"signature algorithm {oid_name} with hash {hash_name}")
    return SignatureScheme(kind, hash_name)


def _pss_scheme(params: algos.RSASSAPSSParams) -> SignatureScheme:
    hash_name = params["hash_algorithm"]["algorithm"].native
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].native != "mgf1" or params["trailer_field"].native != "trailer_field_bc":
        raise UnsupportedAlgorithm("RSA-PSS with a mask function other than MGF1")
    mgf_hash = mgf["parameters"]["algorithm"].native
    hash_algorithm(hash_name), hash_algorithm(mgf_hash)  # both must be supported
    return SignatureScheme("rsassa_pss", hash_name, params["salt_length"].native, mgf_hash)


def verify(key: PublicKey, scheme: SignatureScheme, data: bytes, signature: bytes) -> bool:
    """True when the signature is valid; False for any invalid or malformed signature."""
    if isinstance(key, ExplicitEcKey):
        return scheme.kind == "ecdsa" and _verify_explicit(key, scheme, data, signature)
    try:
        if isinstance(key, rsa.RSAPublicKey) and scheme.kind == "rsassa_pkcs1v15":
            key.verify(signature, data, padding.PKCS1v15(), hash_algorithm(scheme.hash_name))
        elif isinstance(key, rsa.RSAPublicKey) and scheme.kind == "rsassa_pss":
            assert scheme.pss_mgf_hash is not None and scheme.pss_salt_length is not None  # parsed with PSS
            pss = padding.PSS(padding.MGF1(hash_algorithm(scheme.pss_mgf_hash)), scheme.pss_salt_length)
            key.verify(signature, data, pss, hash_algorithm(scheme.hash_name))
        elif isinstance(key, ec.EllipticCurvePublicKey) and scheme.kind == "ecdsa":
            key.verify(signature, data, ec.ECDSA(hash_algorithm(scheme.hash_name)))
        else:
            return False  # key type and scheme disagree
    except (InvalidSignature, ValueError):
        return False
    return True


def _verify_explicit(key: ExplicitEcKey, scheme: SignatureScheme, data: bytes, signature: bytes) -> bool:
    try:
        parsed = algos.DSASignature.load(signature, strict=True)
        r, s = parsed["r"].native, parsed["s"].native
    except ASN1_DECODE_ERRORS:
        return False
    return ecdsa_verify(key.curve, key.point, digest(scheme.hash_name, data), r, s)
