"""Chip-check figures: LDS parse time per file, passive authentication per Document Signer key
kind (including explicit-parameter EC keys on the in-house ECDSA), AA verification and CA key
agreement. Medians over N runs on this machine.

    .venv/bin/python -m bench chip_checks [--runs N]
"""
from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from firmware_app.emrtd.chip_auth.aa import verify_active_authentication  # noqa: E402
from firmware_app.emrtd.chip_auth.ca import agree, choose_chip_auth  # noqa: E402
from firmware_app.emrtd.lds import (  # noqa: E402
    decode_portrait,
    parse_com,
    parse_dg1,
    parse_dg2,
    parse_dg14,
    parse_dg15,
    parse_sod,
)
from firmware_app.emrtd.pa import TrustStore, passive_authenticate  # noqa: E402
from simulator.chip_keys import active_auth_sign  # noqa: E402
from simulator.passport_factory import AaKind, PassportSpec, build_passport, build_pki  # noqa: E402
from simulator.test_pki import KeyKind, utc  # noqa: E402

NOW = utc(2026, 6, 1)
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")
PARSERS = {"EF.COM": parse_com, "DG1": parse_dg1, "DG2": parse_dg2, "DG14": parse_dg14,
           "DG15": parse_dg15, "EF.SOD": parse_sod}


def _portrait() -> bytes:
    from PIL import Image

    img = Image.effect_noise((240, 320), 40).convert("RGB")
    out = io.BytesIO()
    img.save(out, "JPEG", quality=60)
    return out.getvalue()


def median_ms(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def _passport(kind: KeyKind, aa: AaKind = AaKind.RSA):
    pki = build_pki("bench", NOW, kind)
    store = TrustStore(cscas=[pki.csca.certificate])
    return build_passport(PassportSpec(TD3, _portrait(), aa=aa, seed="bench"), pki, NOW), store


def bench_parsing(runs: int) -> None:
    document, _ = _passport(KeyKind.RSA_PKCS1)
    for name, parser in PARSERS.items():
        data = document.files[name]
        print(f"parse {name:7s} {len(data):6d} B  {median_ms(lambda: parser(data), runs):7.3f} ms")
    face = parse_dg2(document.files["DG2"]).portrait
    print(f"decode portrait JPEG {len(face.image)} B  {median_ms(lambda: decode_portrait(face), runs):7.3f} ms")


def bench_passive_auth(runs: int) -> None:
    for kind in KeyKind:
        document, store = _passport(kind)
        sod, groups = document.files["EF.SOD"], document.data_groups
        assert passive_authenticate(sod, groups, store, NOW).passed
        ms = median_ms(lambda: passive_authenticate(sod, groups, store, NOW), runs)
        print(f"passive auth, DS {kind.value:32s} {ms:7.2f} ms")


def bench_chip_checks(runs: int) -> None:
    for aa in (AaKind.RSA, AaKind.EC):
        document, _ = _passport(KeyKind.RSA_PKCS1, aa)
        dg15, dg14 = parse_dg15(document.files["DG15"]), parse_dg14(document.files["DG14"])
        challenge = os.urandom(8)
        signature = active_auth_sign(document.aa_private_key, challenge, os.urandom)
        ms = median_ms(lambda: verify_active_authentication(dg15, challenge, signature, dg14), runs)
        print(f"active auth verify, {aa.value:3s}            {ms:7.2f} ms")
    # a fresh setup each run: a read loads and validates the DG14 key once
    ms = median_ms(lambda: agree(choose_chip_auth(dg14), os.urandom), runs)
    print(f"chip auth agreement (brainpoolP256r1, explicit DG14 key) {ms:7.2f} ms")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench chip_checks")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    bench_parsing(args.runs)
    bench_passive_auth(args.runs)
    bench_chip_checks(args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
