"""`gatesim passport`: build a virtual passport (LDS files + test PKI) into a directory, or check
a directory of chip files (as written by `gatectl chip read --out`) offline.

    gatesim passport build --out DIR [--mrz L1 L2 [L3]] [--portrait IMG] [--ds-kind KIND] [forgeries]
    gatesim passport check DIR --trust-store PATH [--ml-root CERT]... [--json]

build writes DIR/<file>.bin (EF.COM.bin, EF.SOD.bin, DG1.bin ...), DIR/trust/csca.pem and
DIR/trust/csca.crl (a trust-store directory), DIR/masterlist.ml (the same CSCA as an ICAO master
list signed for that CSCA: check it with --ml-root DIR/trust/csca.pem) and DIR/chip/{aa,ca}_key.pem or
chip/ca_key_dh.json for a DH chip-authentication key (mode 0600, test keys for the virtual chip).
check exits 0 when passive authentication passes, 1 when it fails, 2 when the directory or trust
store is unusable.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from asn1crypto import pem
from cryptography.hazmat.primitives import serialization

from firmware_app.emrtd.lds.dg14 import Agreement, CaCipher
from simulator.chip_keys import DhChipKey
from simulator.cms_builder import master_list
from simulator.passport_factory import AaKind, Forgery, PassportSpec, build_passport, build_pki, chip_portrait
from simulator.test_pki import KeyKind, make_document_signer

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_MRZ = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def register(groups) -> None:
    cmd = groups.add_parser("passport", help="virtual passports: build LDS files, check chip files")
    actions = cmd.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    _register_build(actions.add_parser("build", help="build a signed virtual passport into a directory"))
    check = actions.add_parser("check", help="passive authentication of a directory of chip files")
    check.add_argument("directory", type=Path)
    check.add_argument("--trust-store", type=Path, required=True, metavar="PATH")
    check.add_argument("--ml-root", type=Path, action="append", default=[], metavar="CERT",
                       help="a certificate a master list's signer may chain to (repeatable)")
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=run_check)


def _register_build(build) -> None:
    build.add_argument("--out", type=Path, required=True, metavar="DIR")
    build.add_argument("--mrz", nargs="+", default=list(DEFAULT_MRZ), metavar="LINE")
    build.add_argument("--portrait", type=Path, metavar="IMAGE", help="photo (re-encoded to ~15 KB)")
    build.add_argument("--jpeg2000", action="store_true", help="store the portrait as JPEG 2000")
    build.add_argument("--iso39794", action="store_true", help="DG2 record in ISO/IEC 39794-5 format")
    build.add_argument("--ds-kind", choices=[k.value for k in KeyKind], default=KeyKind.RSA_PKCS1.value)
    build.add_argument("--aa", choices=[k.value for k in AaKind], default=AaKind.RSA.value)
    build.add_argument("--chip-auth", choices=["ecdh", "dh", "none"], default="ecdh",
                       help="chip authentication key in DG14 (DH: RFC 5114 1024-bit group)")
    build.add_argument("--ca-cipher", choices=[c.name.lower() for c in CaCipher], default="aes128")
    build.add_argument("--seed", default="gatesim")
    build.add_argument("--tamper-dg", type=int, metavar="N")
    build.add_argument("--wrong-signer", action="store_true")
    build.add_argument("--expired-ds", action="store_true")
    build.add_argument("--expired-csca", action="store_true")
    build.add_argument("--revoked-ds", action="store_true")
    build.add_argument("--clone", action="store_true", help="chip keys differ from DG14/DG15")
    build.add_argument("--pace-cam", action="store_true",
                       help="also write EF.CardSecurity.bin for PACE-CAM (brainpoolP256r1, AES-128)")
    build.set_defaults(func=run_build)


def _portrait(args) -> bytes:
    if args.portrait:
        return chip_portrait(args.portrait.read_bytes(), args.jpeg2000)
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.radial_gradient("L").convert("RGB").resize((240, 320)).save(out, "JPEG2000" if args.jpeg2000 else "JPEG")
    return out.getvalue()


def run_build(args) -> int:
    now = datetime.now(UTC)
    try:
        pki = build_pki(args.seed, now, KeyKind(args.ds_kind), ds_expired=args.expired_ds, revoke_ds=args.revoked_ds,
                        csca_expired=args.expired_csca)
        spec = PassportSpec(tuple(args.mrz), _portrait(args), aa=AaKind(args.aa), seed=args.seed,
                            iso39794=args.iso39794, chip_auth=args.chip_auth != "none",
                            ca_agreement=Agreement.DH if args.chip_auth == "dh" else Agreement.ECDH,
                            ca_cipher=CaCipher[args.ca_cipher.upper()], pace=_pace(args))
        forgery = Forgery(args.tamper_dg, args.wrong_signer, args.clone)
        document = build_passport(spec, pki, now, forgery)
    except (OSError, ValueError, KeyError) as exc:
        print(f"gatesim: cannot build passport: {exc}", file=sys.stderr)
        return EXIT_USAGE
    _write(args.out, document)
    signer = make_document_signer(pki.csca, args.seed, now, serial=2, label="master-list-signer")
    (args.out / "masterlist.ml").write_bytes(master_list([pki.csca.der], signer, now))
    print(f"wrote {len(document.files)} files to {args.out}; trust store: {args.out / 'trust'}")
    return EXIT_OK


def _pace(args) -> tuple:
    from firmware_app.emrtd.pace.info import PaceInfo
    return (PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13),) if args.pace_cam else ()


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _write(out: Path, document) -> None:
    for sub in ("trust", "chip"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for name, data in document.files.items():
        _write_private(out / f"{name}.bin", data)
    if document.card_security is not None:
        _write_private(out / "EF.CardSecurity.bin", document.card_security)
    (out / "trust" / "csca.pem").write_bytes(pem.armor("CERTIFICATE", document.pki.csca.der))
    (out / "trust" / "csca.crl").write_bytes(document.pki.crl)
    for name, key in (("aa", document.aa_private_key), ("ca", document.ca_private_key)):
        if isinstance(key, DhChipKey):
            _write_private(out / "chip" / f"{name}_key_dh.json", key.to_json().encode())
        elif key is not None:
            encoded = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
            _write_private(out / "chip" / f"{name}_key.pem", encoded)


def run_check(args) -> int:
    from firmware_app.emrtd.errors import PaError
    from firmware_app.emrtd.pa import passive_authenticate
    from firmware_app.emrtd.pa.trust_store import TrustStore, load_directory, load_roots

    try:
        store = TrustStore()
        load_roots(args.ml_root, store)
        load_directory(args.trust_store, store)
        sod = (args.directory / "EF.SOD.bin").read_bytes()
        groups = {int(p.name[2:-4]): p.read_bytes() for p in args.directory.glob("DG*.bin") if p.name[2:-4].isdigit()}
    except (OSError, PaError) as exc:
        print(f"gatesim: {exc}", file=sys.stderr)
        return EXIT_USAGE
    result = passive_authenticate(sod, groups, store, datetime.now(UTC))
    report = result.to_json()
    line = f"passive auth {report['result']} {' '.join(report['reasons'])}"
    print(json.dumps(report, indent=2) if args.json else line)
    return EXIT_OK if result.passed else EXIT_FAILED
