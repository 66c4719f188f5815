"""Master-list import: synthetic CSCA certificates in four overlapping ICAO master lists, imported
into an empty trust store, against the time to load and check the same certificates with the
`cryptography` library (parse each DER and verify its self-signature). Prints both and the ratio.

    .venv/bin/python -m bench pki_import [--certs N] [--runs N]

The lists are built once and cached in bench/out/pki_import/ (delete it to rebuild).
"""
from __future__ import annotations

import argparse
import hashlib
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asn1crypto import cms  # noqa: E402
from cryptography import x509 as cx509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec, rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

from firmware_app.emrtd.lds import asn1  # noqa: E402
from firmware_app.emrtd.pa import TrustStore, import_master_list  # noqa: E402
from simulator.cms_builder import master_list  # noqa: E402
from simulator.test_pki import KeyKind, make_csca, make_document_signer, utc  # noqa: E402

NOW = utc(2026, 6, 1)
OUT = ROOT / "bench" / "out" / "pki_import"
LISTS = 4
OVERLAP = 0.2  # share of each list repeated from the previous one, as real lists overlap
RSA_KEYS = 8  # real lists mix RSA and ECDSA; a few RSA keys keep the build fast


def _synthetic_csca(index: int, rsa_keys: list) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding
    key = rsa_keys[index % RSA_KEYS] if index % 4 == 0 else ec.derive_private_key(
        int.from_bytes(hashlib.sha256(f"bench-csca/{index}".encode()).digest(), "big") % (2**250) + 1, ec.SECP256R1())
    country = f"{chr(65 + index // 26 % 26)}{chr(65 + index % 26)}"
    name = cx509.Name([cx509.NameAttribute(NameOID.COUNTRY_NAME, country),
                       cx509.NameAttribute(NameOID.COMMON_NAME, f"CSCA {country} {index}")])
    start = NOW - timedelta(days=365 * (1 + index % 12))
    cert = (cx509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(index + 1).not_valid_before(start).not_valid_after(start + timedelta(days=365 * 15))
            .add_extension(cx509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(Encoding.DER)


def build_lists(count: int) -> tuple[list[bytes], list]:
    """(master lists, their signers' root CSCAs); cached on disk."""
    roots = [make_csca(f"bench-root-{i}", NOW, KeyKind.ECDSA_P256, country=f"R{i}") for i in range(LISTS)]
    paths = [OUT / f"{count}-{i}.ml" for i in range(LISTS)]
    if all(p.exists() for p in paths):
        return [p.read_bytes() for p in paths], roots
    OUT.mkdir(parents=True, exist_ok=True)
    rsa_keys = [rsa.generate_private_key(65537, 2048) for _ in range(RSA_KEYS)]
    certs = [_synthetic_csca(i, rsa_keys) for i in range(count)]
    size = count // LISTS
    for i, (path, root) in enumerate(zip(paths, roots)):
        chunk = certs[i * size:(i + 1) * size]
        repeated = certs[max(0, (i - 1) * size):max(0, (i - 1) * size) + int(size * OVERLAP)] if i else []
        signer = make_document_signer(root, f"bench-root-{i}", NOW, KeyKind.ECDSA_P256, serial=500, label="ml")
        path.write_bytes(master_list([root.der] + chunk + repeated, signer, NOW))
    return [p.read_bytes() for p in paths], roots


def entries(data: bytes) -> list[bytes]:
    content = cms.ContentInfo.load(data)["content"]["encap_content_info"]["content"].native
    return [cert.dump() for cert in asn1.CscaMasterList.load(content)["cert_list"]]


def import_all(lists: list[bytes], roots: list) -> TrustStore:
    store = TrustStore()
    store.pins = [root.certificate for root in roots]
    for data in lists:
        import_master_list(data, store)
    return store


def load_and_check(ders: list[bytes]) -> int:
    checked = 0
    for der in ders:
        cert = cx509.load_der_x509_certificate(der)
        cert.subject, cert.not_valid_after_utc  # noqa: B018 - parsing them is part of the measured load
        try:
            cert.verify_directly_issued_by(cert)
            checked += 1
        except (ValueError, TypeError):
            pass  # a link certificate is not self-signed; loading it is the work measured
    return checked


def median_s(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench pki_import")
    parser.add_argument("--certs", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    lists, roots = build_lists(args.certs)
    ders = [der for data in lists for der in entries(data)]
    store = import_all(lists, roots)
    imported = median_s(lambda: import_all(lists, roots), args.runs)
    baseline = median_s(lambda: load_and_check(ders), args.runs)
    print(f"master lists {len(lists)}, entries {len(ders)}, distinct anchors {len(store.cscas)}, "
          f"{sum(len(d) for d in lists) // 1024} KiB")
    print(f"import into trust store   {imported * 1000:8.1f} ms  ({imported / len(ders) * 1e6:.0f} us/entry)")
    print(f"cryptography load+verify  {baseline * 1000:8.1f} ms  ({baseline / len(ders) * 1e6:.0f} us/entry)")
    print(f"ratio import / load+verify {imported / baseline:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
