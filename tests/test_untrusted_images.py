"""Untrusted images: header limits (bytes, pixels, progressive scans) before decoding, decoding in a
worker process that is abandoned past its time limit or when the caller gives up, and the chip
portrait decoded only after passive authentication vouched for it.

Before: a progressive-JPEG scan bomb (4000x4000, last scan repeated, 160 KB) took 33-48 s to decode
in the chip stage (Pillow) and in `gatectl face verify` (OpenCV), and the lane stayed out of service."""
from __future__ import annotations

import io
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.face.decode_protocol import AnswerReader
from firmware_app.face.errors import ImageDecodeAbandoned, ImageRefused, ImageUnreadable
from firmware_app.face.image_header import HeaderUnreadable, inspect_image
from firmware_app.face.untrusted import ImageKind, ImageLimits, UntrustedImageDecoder
from simulator.hostile import jpeg_scan_bomb, jpeg_scan_bomb_dg2, resign
from tests.passport_helpers import NOW, passport, pki, portrait

SAFETY_BOUND_S = 5.0  # generous: the bomb decoded for 33-48 s


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return jpeg_scan_bomb()


@pytest.fixture(scope="module")
def decoder():
    decoder = UntrustedImageDecoder()
    yield decoder
    decoder.close()


def _progressive(size=(300, 400)) -> bytes:
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, (10, 200, 30)).save(out, "JPEG", progressive=True)
    return out.getvalue()


def test_the_header_shows_the_scan_bomb_without_decoding_it(bomb):
    assert 150_000 < len(bomb) < 170_000
    start = time.monotonic()
    header = inspect_image(bomb, max_scans=40)
    assert time.monotonic() - start < 1.0
    assert (header.width, header.height) == (4000, 4000) and header.scans > 40
    assert inspect_image(bomb, max_scans=10_000).scans > 3000  # the repeats are all counted
    assert inspect_image(_progressive(), 40).scans == 10  # an ordinary progressive JPEG
    assert inspect_image(portrait(jpeg2000=True), 40).format == "JPEG2000"


def test_the_scan_bomb_is_refused_before_decoding(decoder, bomb):
    start = time.monotonic()
    with pytest.raises(ImageRefused, match="scans"):
        decoder.decode(bomb, ImageKind.PORTRAIT)
    assert time.monotonic() - start < 1.0


def test_a_decode_past_its_time_limit_is_abandoned_and_the_decoder_serves_again(decoder, bomb):
    unlimited = ImageLimits(max_scans=1_000_000, timeout_s=1.0)  # as if the bomb got past the header
    restarts, start = decoder.restarts, time.monotonic()
    with pytest.raises(ImageDecodeAbandoned, match="time limit"):
        decoder.decode(bomb, ImageKind.PORTRAIT, limits=unlimited)
    assert time.monotonic() - start < SAFETY_BOUND_S
    assert decoder.restarts == restarts + 1
    assert decoder.decode(portrait(), ImageKind.PORTRAIT).shape == (320, 240, 3)


def test_a_caller_that_gives_up_abandons_the_decode(decoder, bomb):
    unlimited = ImageLimits(max_scans=1_000_000, timeout_s=60.0)
    gave_up = threading.Event()
    threading.Timer(0.3, gave_up.set).start()
    start = time.monotonic()
    with pytest.raises(ImageDecodeAbandoned, match="gave up"):
        decoder.decode(bomb, ImageKind.IMAGE, gave_up.is_set, unlimited)
    assert time.monotonic() - start < SAFETY_BOUND_S


def test_genuine_images_decode_as_before(decoder):
    import cv2
    import numpy as np
    from PIL import Image
    data = portrait()
    expected = np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))[:, :, ::-1]
    assert np.array_equal(decoder.decode(data, ImageKind.PORTRAIT), expected)
    assert np.array_equal(decoder.decode(data, ImageKind.IMAGE),
                          cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR))
    assert decoder.decode(portrait(jpeg2000=True), ImageKind.PORTRAIT).shape == (320, 240, 3)
    with pytest.raises(ImageUnreadable):
        decoder.decode(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, ImageKind.IMAGE)


# --- the chip stage decodes only what passive authentication vouched for -------------------

def _chip_stage(document, trusted_pki, vault, decoder):
    from firmware_app.lane.stages import ChipReadStage
    from simulator.vchip.applet import VirtualIcaoChip
    from simulator.vchip.from_passport import chip_config
    from simulator.vchip.transport import InProcessTransceiver
    from tests.chip_fixtures import counter_rng
    from tests.passport_helpers import store_for

    def opener():
        return InProcessTransceiver(VirtualIcaoChip(chip_config(document), counter_rng("chip")))
    return ChipReadStage(opener, store_for(trusted_pki), counter_rng("terminal"), time.monotonic,
                         lambda: NOW, vault, decoder=decoder)


def _printed():
    from firmware_app.mrz import parse
    from tests.passport_helpers import TD3
    return parse(TD3, today=NOW.date())


def test_the_portrait_of_an_untrusted_document_is_never_decoded():
    from firmware_app.lane.stages import PortraitVault

    class Watching(UntrustedImageDecoder):
        calls = 0

        def decode(self, *args, **kwargs):
            Watching.calls += 1
            return super().decode(*args, **kwargs)
    decoder, vault = Watching(), PortraitVault()
    try:
        _chip_stage(passport(), pki(seed="another state"), vault, decoder)("t1", _printed(), threading.Event())
        assert len(vault) == 0 and Watching.calls == 0
        _chip_stage(passport(), pki(), vault, decoder)("t2", _printed(), threading.Event())
        assert vault.get("t2").shape == (320, 240, 3) and Watching.calls == 1
    finally:
        decoder.close()


@pytest.mark.parametrize("side, refused_for", [(4000, "pixels"), (1500, "scans")])
def test_a_signed_scan_bomb_portrait_stops_the_read_as_its_header_arrives(decoder, side, refused_for):
    from firmware_app.lane.stages import PortraitVault
    document = resign(passport(), pki(), NOW, {2: jpeg_scan_bomb_dg2(side)})
    vault, stage = PortraitVault(), _chip_stage(document, pki(), PortraitVault(), decoder)
    opener, seen = stage.open_transceiver, []
    stage.open_transceiver = lambda: seen.append(opener()) or seen[0]
    with pytest.raises(ImageRefused, match=refused_for):
        stage("t3", _printed(), threading.Event())
    apdus = seen[0].count  # of the whole read, authentication included
    assert apdus < 120 < len(document.files["DG2"]) // 223  # not the 700 blocks of the bomb
    assert len(vault) == 0


def test_the_portrait_stream_check_passes_genuine_portraits_in_any_pieces():
    from firmware_app.emrtd.lds.dg2 import encode_dg2_jpeg
    from firmware_app.face.untrusted import PortraitStreamCheck
    for data in (encode_dg2_jpeg(portrait(), 240, 320), encode_dg2_jpeg(_progressive(), 300, 400)):
        for size in (1, 7, 223, len(data)):
            check = PortraitStreamCheck()
            for start in range(0, len(data), size):
                check(data[start:start + size])


def test_gatectl_face_verify_refuses_the_bomb(tmp_path, capsys, bomb):
    from firmware_app.cli import main
    from tests.passport_helpers import portrait as photo
    (tmp_path / "bomb.jpg").write_bytes(bomb)
    (tmp_path / "ok.jpg").write_bytes(photo())
    start = time.monotonic()
    assert main(["face", "verify", str(tmp_path / "ok.jpg"), str(tmp_path / "bomb.jpg")]) == 2
    assert "scans" in capsys.readouterr().err
    assert time.monotonic() - start < 6 * SAFETY_BOUND_S  # includes loading the face models


def test_gatectl_face_verify_names_a_refused_image_before_decoding_the_other(tmp_path, bomb):
    """A refused live image is reported even when the reference's decode would pass its time limit
    first (a loaded machine; here a limit of zero): both headers are checked before any decode."""
    from types import SimpleNamespace

    from firmware_app.cli.face_cmd import _verify_one
    from tests.passport_helpers import portrait as photo
    (tmp_path / "bomb.jpg").write_bytes(bomb)
    (tmp_path / "ok.jpg").write_bytes(photo())
    decoder = UntrustedImageDecoder(ImageLimits(timeout_s=0.0))
    try:
        outcome = _verify_one(SimpleNamespace(threshold=0.36), decoder, tmp_path / "ok.jpg", tmp_path / "bomb.jpg")
    finally:
        decoder.close()
    assert outcome["error"] == "unreadable" and "bomb.jpg" in outcome["detail"] and "scans" in outcome["detail"]
    assert decoder.restarts == 0            # nothing was decoded, nothing abandoned


# --- fuzz the two new parsers ----------------------------------------------------------------

_jpeg_like = st.one_of(st.binary(max_size=300), st.binary(max_size=300).map(lambda b: b"\xff\xd8" + b),
                       st.tuples(st.integers(0, 2000), st.binary(min_size=1, max_size=8)).map(
                           lambda cut: _progressive((40, 30))[:cut[0]] + cut[1]))


@settings(max_examples=150, deadline=None)
@given(_jpeg_like)
def test_header_inspection_never_fails_untyped(data):
    try:
        header = inspect_image(data, max_scans=40)
    except HeaderUnreadable:
        return
    assert header.width >= 0 and header.height >= 0 and header.scans >= 0


@settings(max_examples=150, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=6))
def test_answer_reader_never_fails_untyped(chunks):
    reader = AnswerReader()
    try:
        for chunk in chunks:
            reader.feed(chunk)
        if reader.complete:
            reader.result()
    except (ImageDecodeAbandoned, ImageUnreadable):
        pass
