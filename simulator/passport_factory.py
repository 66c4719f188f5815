"""Virtual passport factory: consistent LDS files signed by a test PKI, plus forgery knobs.

    pki = build_pki("seed", now)                      # CSCA -> DS (choose the DS key kind)
    passport = build_passport(PassportSpec(mrz_lines, jpeg_bytes), pki, now)
    passport.files["DG2"], passport.aa_private_key, pki.csca.der ...

The chip-side private keys (AA, CA) are returned for the virtual chip. Forgeries: a tampered data
group (hash mismatch), a SOD signed by the wrong key, an expired or revoked DS (CRL), a clone
(the chip holds AA/CA private keys that do not match DG15/DG14).
"""
from __future__ import annotations

import io
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum

from asn1crypto import core
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from firmware_app.emrtd.chip_auth.card_security import ID_SECURITY_OBJECT, STANDARDIZED_DOMAIN_PARAMETERS
from firmware_app.emrtd.crypto.curves import NAMED_CURVES
from firmware_app.emrtd.crypto.domains import STANDARD_PARAMETERS
from firmware_app.emrtd.files import DG_TAGS, SOD_TAG
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.com import encode_com
from firmware_app.emrtd.lds.dg1 import encode_dg1
from firmware_app.emrtd.lds.dg2 import BDB_39794_TAG, encode_dg2, encode_dg2_jpeg
from firmware_app.emrtd.lds.dg14 import Agreement, CaCipher
from firmware_app.emrtd.lds.dg15 import encode_dg15
from firmware_app.emrtd.lds.face_record import encode_iso39794
from firmware_app.emrtd.pa.signature import digest
from firmware_app.emrtd.pace.info import Mapping, PaceInfo
from firmware_app.emrtd.tlv import encode_tlv
from simulator import test_keys
from simulator.chip_keys import DhChipKey
from simulator.cms_builder import SignerId, signed_data
from simulator.test_pki import Authority, KeyKind, explicit_spki, make_crl, make_csca, make_document_signer, signing_key

DH_CA_PARAMETER_ID = 0  # RFC 5114 1024-bit MODP: its 128-byte public values fit short APDUs
ECDSA_PLAIN_SHA256 = asn1.ECDSA_PLAIN + ".3"


class AaKind(Enum):
    NONE = "none"
    RSA = "rsa"  # ISO/IEC 9796-2 with RSA-1024, the most common
    EC = "ec"  # ECDSA plain signature on P-256


@dataclass(frozen=True)
class TestPki:
    csca: Authority
    ds: Authority
    crl: bytes | None = None


@dataclass(frozen=True)
class PassportSpec:
    mrz_lines: tuple[str, ...]
    portrait: bytes  # JPEG or JPEG 2000 bytes, embedded as they are
    aa: AaKind = AaKind.RSA
    chip_auth: bool = True
    ca_agreement: Agreement = Agreement.ECDH  # ECDH on brainpoolP256r1 or DH on RFC 5114 group 0
    ca_cipher: CaCipher = CaCipher.AES128  # DES3: MSE:Set KAT; AES: MSE:Set AT + GENERAL AUTHENTICATE
    seed: str = "passport"
    ds_in_sod: bool = True  # a few states leave the DS certificate out of the SOD
    iso39794: bool = False  # portrait record in ISO/IEC 39794-5 (tagged) instead of 19794-5
    pace: tuple[PaceInfo, ...] = ()  # PACE variants in EF.CardAccess; a CAM one adds EF.CardSecurity
    sod_content_type: str = asn1.ID_LDS_SECURITY_OBJECT  # id-data or a legacy OID, as some states do
    sod_signer_id: SignerId = SignerId()  # how the SOD's SignerInfo names the DS certificate


@dataclass(frozen=True)
class Forgery:
    tamper_dg: int | None = None  # change one byte of this DG after the SOD was signed
    wrong_signer: bool = False  # sign the SOD with a key that is not the DS certificate's
    clone: bool = False  # chip keys differ from the public keys in DG14/DG15


@dataclass
class VirtualPassport:
    files: dict[str, bytes]
    mrz_lines: tuple[str, ...]
    pki: TestPki
    aa_private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None = None
    ca_private_key: ec.EllipticCurvePrivateKey | DhChipKey | None = None
    notes: dict[str, str] = field(default_factory=dict)
    pace: tuple[PaceInfo, ...] = ()
    card_security: bytes | None = None  # EF.CardSecurity (master file), signed by the DS

    @property
    def data_groups(self) -> dict[int, bytes]:
        return {int(name[2:]): data for name, data in self.files.items() if name.startswith("DG")}


def build_pki(seed: str, now: datetime, ds_kind: KeyKind = KeyKind.RSA_PKCS1, csca_kind: KeyKind = KeyKind.RSA_PKCS1,
              ds_expired: bool = False, revoke_ds: bool = False, country: str = "UT",
              csca_expired: bool = False) -> TestPki:
    csca = make_csca(seed, now, csca_kind, country=country, expired=csca_expired)
    valid_days = (-800, -1) if ds_expired else (-30, 3650)
    ds = make_document_signer(csca, seed, now, ds_kind, valid_days=valid_days)
    crl = make_crl(csca, [ds.serial] if revoke_ds else [], now)
    return TestPki(csca, ds, crl)


def build_passport(spec: PassportSpec, pki: TestPki, now: datetime, forgery: Forgery = Forgery()) -> VirtualPassport:
    groups = {1: encode_dg1(list(spec.mrz_lines)), 2: _dg2(spec.portrait, spec.iso39794)}
    passport = VirtualPassport({}, spec.mrz_lines, pki, pace=spec.pace)
    _add_chip_authentication(spec, passport, forgery)
    if any(info.mapping is Mapping.ECDH_CAM for info in spec.pace):
        passport.card_security = _card_security(spec, passport, pki, now)
    _add_active_authentication(spec, groups, passport, forgery)
    groups[14] = _dg14(passport, spec) if spec.chip_auth or spec.aa is AaKind.EC or spec.pace else None
    groups = {n: data for n, data in groups.items() if data is not None}
    sod = _sod(groups, pki, now, spec, forgery)
    if forgery.tamper_dg is not None:
        groups[forgery.tamper_dg] = _tamper(groups[forgery.tamper_dg])
    passport.files = {"EF.COM": encode_com(sorted(groups)), "EF.SOD": sod}
    passport.files.update({f"DG{n}": data for n, data in sorted(groups.items())})
    return passport


def _dg2(portrait: bytes, iso39794: bool) -> bytes:
    from PIL import Image

    if iso39794:
        return encode_dg2(encode_iso39794(portrait), bdb_tag=BDB_39794_TAG)
    with Image.open(io.BytesIO(portrait)) as img:
        width, height, jp2 = img.width, img.height, img.format == "JPEG2000"
    return encode_dg2_jpeg(portrait, width, height, jpeg2000=jp2)


def chip_portrait(image: bytes, jpeg2000: bool = False, max_bytes: int = 18_000,
                  size: tuple[int, int] = (240, 320)) -> bytes:
    """Re-encode a photo the way issuers store it: about 240x320 and 10-20 KB, JPEG or JPEG 2000."""
    from PIL import Image

    with Image.open(io.BytesIO(image)) as img:
        img = img.convert("RGB")
        img.thumbnail(size)
    for step in range(8):  # lower the quality until it fits, like an issuer's personalisation
        out = io.BytesIO()
        if jpeg2000:
            img.save(out, "JPEG2000", quality_mode="rates", quality_layers=[8 * 1.5 ** step])
        else:
            img.save(out, "JPEG", quality=95 - 10 * step)
        if out.tell() <= max_bytes:
            break
    return out.getvalue()


def _tamper(data: bytes) -> bytes:
    return data[:-1] + bytes([data[-1] ^ 0x01])


def _add_chip_authentication(spec: PassportSpec, passport: VirtualPassport, forgery: Forgery) -> None:
    if not (spec.chip_auth or any(info.mapping is Mapping.ECDH_CAM for info in spec.pace)):
        return
    chip_key, clone_key = (_chip_key(spec, label) for label in ("ca", "ca-clone"))
    passport.notes["ca_public_key"] = _ca_public_key_info(chip_key).dump().hex()
    passport.ca_private_key = clone_key if forgery.clone else chip_key


def _chip_key(spec: PassportSpec, label: str) -> ec.EllipticCurvePrivateKey | DhChipKey:
    if spec.ca_agreement is Agreement.DH:
        group = STANDARD_PARAMETERS[DH_CA_PARAMETER_ID]
        return DhChipKey(DH_CA_PARAMETER_ID, test_keys.scalar(spec.seed, label, group.q))
    return test_keys.ec_key(spec.seed, label, "brainpoolP256r1")


def _ca_public_key_info(key: ec.EllipticCurvePrivateKey | DhChipKey):
    if isinstance(key, DhChipKey):
        return key.public_key_info()
    return explicit_spki(NAMED_CURVES["brainpoolP256r1"], _point(key))  # explicit, as real chips do


def _add_active_authentication(spec: PassportSpec, groups: dict, passport: VirtualPassport, forgery: Forgery) -> None:
    if spec.aa is AaKind.NONE:
        return
    label = "aa-clone" if forgery.clone else "aa"
    if spec.aa is AaKind.RSA:
        public = test_keys.rsa_key(spec.seed, "aa", 1024).public_key()
        passport.aa_private_key = test_keys.rsa_key(spec.seed, label, 1024)
    else:
        public = test_keys.ec_key(spec.seed, "aa", "secp256r1").public_key()
        passport.aa_private_key = test_keys.ec_key(spec.seed, label, "secp256r1")
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    groups[15] = encode_dg15(der)


def _point(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def _dg14(passport: VirtualPassport, spec: PassportSpec) -> bytes:
    infos = []
    if spec.chip_auth:
        dh = spec.ca_agreement is Agreement.DH
        protocol = f"{asn1.ID_CA_DH if dh else asn1.ID_CA_ECDH}.{spec.ca_cipher.value}"
        spki = core.Any.load(bytes.fromhex(passport.notes["ca_public_key"]))
        infos.append(asn1.SecurityInfo({"protocol": protocol, "required_data": core.Integer(1)}))
        infos.append(asn1.SecurityInfo({"protocol": asn1.ID_PK_DH if dh else asn1.ID_PK_ECDH, "required_data": spki}))
    if spec.aa is AaKind.EC:
        infos.append(asn1.SecurityInfo({"protocol": asn1.ID_AA, "required_data": core.Integer(1),
                                        "optional_data": core.ObjectIdentifier(ECDSA_PLAIN_SHA256)}))
    infos.extend(_pace_infos(spec.pace))  # signed copies of EF.CardAccess (9303-10 DG14)
    return encode_tlv(DG_TAGS[14], asn1.SecurityInfos(infos).dump())


def _pace_infos(pace: tuple[PaceInfo, ...]) -> list[asn1.SecurityInfo]:
    return [asn1.SecurityInfo({"protocol": info.oid, "required_data": core.Integer(info.version),
                               "optional_data": core.Integer(info.parameter_id)}) for info in pace]


def _card_security(spec: PassportSpec, passport: VirtualPassport, pki: TestPki, now: datetime) -> bytes:
    """SecurityInfos (the PACEInfos, CA info and the CA key in the standardized-domain-parameter form
    of 9303-11 I.1), signed by the Document Signer with id-SecurityObject content."""
    if spec.ca_agreement is not Agreement.ECDH:
        raise ValueError("PACE-CAM needs an ECDH chip-authentication key")
    public = _point(test_keys.ec_key(spec.seed, "ca", "brainpoolP256r1"))
    key_info = asn1.GenericPublicKeyInfo({"algorithm": {"algorithm": STANDARDIZED_DOMAIN_PARAMETERS,
                                                        "parameters": core.Integer(13)}, "public_key": public})
    infos = _pace_infos(spec.pace)
    infos.append(asn1.SecurityInfo({"protocol": f"{asn1.ID_CA_ECDH}.{spec.ca_cipher.value}",
                                    "required_data": core.Integer(1)}))
    infos.append(asn1.SecurityInfo({"protocol": asn1.ID_PK_ECDH, "required_data": key_info}))
    return signed_data(ID_SECURITY_OBJECT, asn1.SecurityInfos(infos).dump(), pki.ds, now)


def lds_security_object(groups: dict[int, bytes], hash_name: str = "sha256") -> bytes:
    return asn1.LdsSecurityObject({
        "version": 0,
        "hash_algorithm": {"algorithm": hash_name},
        "data_group_hash_values": [
            {"data_group_number": n, "data_group_hash_value": digest(hash_name, data)}
            for n, data in sorted(groups.items())
        ],
    }).dump()


def _sod(groups: dict[int, bytes], pki: TestPki, now: datetime, spec: PassportSpec, forgery: Forgery) -> bytes:
    wrong_key = signing_key(pki.ds.key.kind, spec.seed, "impostor") if forgery.wrong_signer else None
    content_info = signed_data(spec.sod_content_type, lds_security_object(groups), pki.ds, now, wrong_key,
                               include_certificate=spec.ds_in_sod, sid=spec.sod_signer_id)
    return encode_tlv(SOD_TAG, content_info)


def with_forgery(spec: PassportSpec, pki: TestPki, now: datetime, **knobs) -> VirtualPassport:
    return build_passport(spec, pki, now, replace(Forgery(), **knobs))
