"""The image decode worker is warm (interpreter started, decoders imported and tried) before a
traveller's image is charged any time: at boot and again after a worker was killed, an image's time
limit counts its decode only. Before: the first decode after start or restart also paid the
worker's start and, for photos, OpenCV's first import, and on a loaded device a genuine traveller's
portrait could be abandoned (a false referral).

The slow device is a `sitecustomize` on the worker's PYTHONPATH: it sleeps as the interpreter starts
and when cv2 is imported; the decoder and its worker are the real ones."""
from __future__ import annotations

import pytest

from firmware_app.face.errors import ImageDecodeAbandoned
from firmware_app.face.untrusted import ImageKind, ImageLimits, UntrustedImageDecoder
from tests.passport_helpers import portrait

SLOW_START_S = 1.0      # the worker's cold start on a loaded device (slept, so never shorter)
DECODE_LIMIT_S = 0.6    # shorter than the cold start, ample for a 240x320 portrait (~5 ms)
SAFETY_BOUND_S = 20.0

SLOW_SITE = '''
import importlib.abc, os, sys, time
time.sleep(float(os.environ.get("SLOW_START_S", "0")))

class _SlowCv2(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "cv2":
            time.sleep(float(os.environ.get("SLOW_CV2_S", "0")))
        return None

sys.meta_path.insert(0, _SlowCv2())
'''


@pytest.fixture(scope="module")
def slow_device(tmp_path_factory):
    site = tmp_path_factory.mktemp("slow_site")
    (site / "sitecustomize.py").write_text(SLOW_SITE)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", str(site))
        patch.setenv("SLOW_START_S", str(SLOW_START_S))
        patch.setenv("SLOW_CV2_S", "0.7")      # over DECODE_LIMIT_S as well
        yield


def test_the_first_portrait_after_boot_and_after_a_kill_is_charged_its_decode_only(slow_device):
    decoder = UntrustedImageDecoder(ImageLimits(timeout_s=DECODE_LIMIT_S), warm=(ImageKind.PORTRAIT,))
    try:
        decoder.warm_up()                       # as the appliance does at boot, just before the lane
        assert decoder.decode(portrait(), ImageKind.PORTRAIT).shape == (320, 240, 3)
        with pytest.raises(ImageDecodeAbandoned, match="gave up"):     # the worker is killed
            decoder.decode(portrait(), ImageKind.PORTRAIT, cancelled=lambda: True)
        assert decoder.restarts == 1
        assert decoder.decode(portrait(), ImageKind.PORTRAIT).shape == (320, 240, 3)
        assert decoder.restarts == 1            # the replacement's start was not charged
    finally:
        decoder.close()


def test_the_first_photo_is_not_charged_opencvs_import(slow_device, monkeypatch):
    monkeypatch.setenv("SLOW_START_S", "0")
    decoder = UntrustedImageDecoder(ImageLimits(timeout_s=DECODE_LIMIT_S))
    try:
        assert decoder.decode(portrait(), ImageKind.IMAGE).shape == (320, 240, 3)
        assert decoder.restarts == 0
    finally:
        decoder.close()


def test_a_worker_that_cannot_start_is_a_fault_not_an_endless_wait(slow_device):
    decoder = UntrustedImageDecoder(ImageLimits(timeout_s=DECODE_LIMIT_S), warm=(ImageKind.PORTRAIT,),
                                    start_limit_s=0.3)
    try:
        with pytest.raises(ImageDecodeAbandoned, match=r"did not start within 0\.3 s"):
            decoder.decode(portrait(), ImageKind.PORTRAIT)
        assert decoder.restarts == 1
    finally:
        decoder.close()
    assert not decoder.wait_warm(0.0)
