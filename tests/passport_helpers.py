"""Shared builders for the LDS / passive-auth / chip-auth tests (no shared data needed)."""
from __future__ import annotations

import io
from functools import lru_cache

from firmware_app.emrtd.pa import TrustStore
from simulator.passport_factory import AaKind, Forgery, PassportSpec, build_passport, build_pki
from simulator.test_pki import KeyKind, utc

NOW = utc(2026, 6, 1)
TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)


@lru_cache(maxsize=4)
def portrait(jpeg2000: bool = False, size: tuple[int, int] = (240, 320)) -> bytes:
    """A synthetic chip-sized portrait (gradient and shapes), JPEG or JPEG 2000."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", size)
    draw = ImageDraw.Draw(img)
    for y in range(size[1]):
        draw.line([(0, y), (size[0], y)], fill=(y % 256, 120, 255 - y % 256))
    draw.ellipse([60, 70, 180, 230], fill=(220, 180, 150))
    out = io.BytesIO()
    img.save(out, "JPEG2000" if jpeg2000 else "JPEG", **({} if jpeg2000 else {"quality": 85}))
    return out.getvalue()


@lru_cache(maxsize=16)
def pki(ds_kind: KeyKind = KeyKind.RSA_PKCS1, csca_kind: KeyKind = KeyKind.RSA_PKCS1,
        ds_expired: bool = False, revoke_ds: bool = False, seed: str = "tests", csca_expired: bool = False):
    return build_pki(seed, NOW, ds_kind, csca_kind, ds_expired=ds_expired, revoke_ds=revoke_ds,
                     csca_expired=csca_expired)


def passport(ds_kind: KeyKind = KeyKind.RSA_PKCS1, aa: AaKind = AaKind.RSA, forgery: Forgery = Forgery(),
             jpeg2000: bool = False, **pki_knobs):
    spec = PassportSpec(TD3, portrait(jpeg2000), aa=aa)
    return build_passport(spec, pki(ds_kind, **pki_knobs), NOW, forgery)


def store_for(test_pki, with_crl: bool = True) -> TrustStore:
    from firmware_app.emrtd.pa.trust_store import parse_crl

    store = TrustStore()
    store.add_certificate(test_pki.csca.certificate)
    if with_crl and test_pki.crl:
        store.crls.append(parse_crl(test_pki.crl, "test"))
    return store
