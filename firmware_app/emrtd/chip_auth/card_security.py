"""EF.CardSecurity (file 011D in the master file, read after PACE): a CMS SignedData by the Document
Signer over SecurityInfos (eContentType id-SecurityObject), holding the chip-authentication public
key that PACE-CAM proves the chip owns (ICAO 9303-11 9.2.4, BSI TR-03110-3 A.1.2.5).

Parsing is bounded (size, SecurityInfos, certificates); the signature is checked by passive
authentication's CMS code, the DS chain (which needs the trust store) by `confirm_chain`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from asn1crypto import cms, core, keys, x509
from cryptography.hazmat.primitives.asymmetric import ec as crypto_ec

from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.crypto import ec
from firmware_app.emrtd.crypto.curves import NAMED_CURVES, Curve
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.errors import CamError, EmrtdError, LdsError, LdsFormatError, PaError
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.common import file_errors
from firmware_app.emrtd.lds.sod import signed_data_certificates
from firmware_app.emrtd.pa.chain import check_chain
from firmware_app.emrtd.pa.cms_signature import SignerCheck, check_signer_info
from firmware_app.emrtd.pa.public_key import ExplicitEcKey, load_public_key
from firmware_app.emrtd.pace.cam import CamData, verify_chip_auth_data

FILE = "EF.CardSecurity"
FID_CARD_SECURITY = 0x011D  # in the master file (EF.SOD has the same id inside the eMRTD application)
ID_SECURITY_OBJECT = "0.4.0.127.0.7.3.2.1"
STANDARDIZED_DOMAIN_PARAMETERS = "0.4.0.127.0.7.1.2"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
MAX_BYTES = 32 * 1024  # a real one is 1-3 KB (SecurityInfos and the DS certificate)
MAX_INFOS = 32
CAM = ChipCheck.CHIP_AUTHENTICATION_MAPPING


class _CaKeyInfo(core.Sequence):
    """ChipAuthenticationPublicKeyInfo read loosely: its key may name standardized domain parameters."""
    _fields = [("protocol", core.ObjectIdentifier), ("key", asn1.GenericPublicKeyInfo),
               ("key_id", core.Integer, {"optional": True})]


@dataclass(frozen=True)
class ChipKey:
    key_id: int | None
    curve: Curve
    point: tuple[int, int]


@dataclass(frozen=True)
class CardSecurity:
    signer_info: cms.SignerInfo
    content: bytes  # the DER SecurityInfos the signature covers
    certificates: tuple[x509.Certificate, ...]
    keys: tuple[ChipKey, ...]  # ECDH chip-authentication keys (unusable ones are left out)


def parse_card_security(data: bytes) -> CardSecurity:
    if len(data) > MAX_BYTES:
        raise LdsFormatError(FILE, f"{len(data)} bytes exceeds {MAX_BYTES}")
    with file_errors(FILE):
        info = cms.ContentInfo.load(data, strict=True)
        if info["content_type"].native != "signed_data":
            raise LdsFormatError(FILE, "content is not CMS SignedData")
        signed = info["content"]
        signers, encap = signed["signer_infos"], signed["encap_content_info"]
        if len(signers) != 1 or encap["content_type"].dotted != ID_SECURITY_OBJECT:
            raise LdsFormatError(FILE, "expected one signer over id-SecurityObject content")
        _ = signers[0].native  # asn1crypto is lazy: decode everything inside file_errors
        content = encap["content"].native
        if not isinstance(content, bytes) or not content:
            raise LdsFormatError(FILE, "SecurityInfos content is absent")
        return CardSecurity(signers[0], content, signed_data_certificates(signed, FILE), _chip_keys(content))


def _chip_keys(content: bytes) -> tuple[ChipKey, ...]:
    infos = asn1.SecurityInfos.load(content, strict=True)
    if len(infos) > MAX_INFOS:
        raise LdsFormatError(FILE, f"more than {MAX_INFOS} SecurityInfos")
    found = []
    for info in infos:
        if info["protocol"].dotted == asn1.ID_PK_ECDH:
            key = _chip_key(_CaKeyInfo.load(info.dump(), strict=True))
            if key is not None:
                found.append(key)
    return tuple(found)


def _chip_key(info: _CaKeyInfo) -> ChipKey | None:
    """The key on its curve, or None when it is unusable here (the check then finds no key)."""
    spki = info["key"]
    algorithm = spki["algorithm"]["algorithm"].dotted
    point = spki["public_key"].native
    try:
        if algorithm == STANDARDIZED_DOMAIN_PARAMETERS:
            curve = STANDARD_PARAMETERS.get(spki["algorithm"]["parameters"].parse(core.Integer).native)
            if not isinstance(curve, Curve):
                return None
            return ChipKey(info["key_id"].native, curve, ec.decode_point(curve, point))
        if algorithm == EC_PUBLIC_KEY:
            return _named_or_explicit(info["key_id"].native, keys.PublicKeyInfo.load(spki.dump()))
    except (ec.InvalidPoint, PaError):
        return None
    return None


def _named_or_explicit(key_id: int | None, spki: keys.PublicKeyInfo) -> ChipKey | None:
    key = load_public_key(spki)
    if isinstance(key, ExplicitEcKey):
        return ChipKey(key_id, key.curve, key.point)
    if isinstance(key, crypto_ec.EllipticCurvePublicKey) and key.curve.name in NAMED_CURVES:
        numbers = key.public_numbers()
        return ChipKey(key_id, NAMED_CURVES[key.curve.name], (numbers.x, numbers.y))
    return None


def check_cam(cam: CamData, data: bytes | None) -> ChipCheckResult:
    """PACE-CAM's chip authentication: EF.CardSecurity signed (signature only; see confirm_chain)
    and CA_IC * PK_IC equal to the chip's mapping key for a key of EF.CardSecurity on PACE's curve."""
    if data is None:
        return ChipCheckResult.failed(CAM, ChipCheckReason.CHIP_REFUSED, "EF.CardSecurity could not be read")
    try:
        security = parse_card_security(data)
    except LdsError as exc:
        return ChipCheckResult.failed(CAM, ChipCheckReason.KEY_NOT_AUTHENTIC, str(exc))
    signer = check_signer_info(security.signer_info, security.content, list(security.certificates),
                               content_type=ID_SECURITY_OBJECT)
    if signer.status is not SignerCheck.VALID:
        reason = ChipCheckReason.UNSUPPORTED_ALGORITHM if signer.status is SignerCheck.UNSUPPORTED_ALGORITHM \
            else ChipCheckReason.KEY_NOT_AUTHENTIC
        return ChipCheckResult.failed(CAM, reason, f"EF.CardSecurity: {signer.status.value}")
    candidates = [key for key in security.keys if key.curve.same_domain(cam.curve)]
    if not candidates:
        return ChipCheckResult.failed(CAM, ChipCheckReason.BAD_KEY, "EF.CardSecurity has no key on PACE's curve")
    return _verify_any(cam, candidates)


def _verify_any(cam: CamData, candidates: list[ChipKey]) -> ChipCheckResult:
    problem = ""
    for key in candidates:
        try:
            verify_chip_auth_data(cam, key.point)
            return ChipCheckResult.ok(CAM)
        except CamError as exc:
            problem = str(exc)
    return ChipCheckResult.failed(CAM, ChipCheckReason.SIGNATURE_INVALID, problem)


def confirm_chain(result: ChipCheckResult, data: bytes | None, sod_chain_valid: bool | None,
                  trust_store, now: datetime) -> ChipCheckResult:
    """A passed CAM counts only if EF.CardSecurity's signer chains to the trust store too. Checked
    when the SOD's chain is valid (otherwise passive authentication already fails the document)."""
    if result.check is not CAM or not result.passed or not sod_chain_valid or trust_store is None:
        return result
    try:
        security = parse_card_security(data or b"")
    except EmrtdError as exc:
        return ChipCheckResult.failed(CAM, ChipCheckReason.KEY_NOT_AUTHENTIC, str(exc))
    signer = check_signer_info(security.signer_info, security.content, list(security.certificates),
                               content_type=ID_SECURITY_OBJECT)
    if signer.certificate is None:
        return ChipCheckResult.failed(CAM, ChipCheckReason.KEY_NOT_AUTHENTIC, "EF.CardSecurity signer unknown")
    failures, _warnings = check_chain(signer.certificate, trust_store, now)
    if failures:
        detail = "EF.CardSecurity signer: " + ",".join(f.code() for f in failures)
        return ChipCheckResult.failed(CAM, ChipCheckReason.KEY_NOT_AUTHENTIC, detail)
    return result
