"""The timing model acts on the real chip stack: through pyscard -> pcscd -> vpcd, every answer of
the virtual chip comes only after its modelled air and processing time, so a read at 106 kbit/s
takes longer than at 848 kbit/s by about the modelled difference (run under flock /tmp/pcscd.lock)."""
from __future__ import annotations

import time

from drivers.smartcard import open_transceiver
from firmware_app.emrtd.reader import DocumentReader
from firmware_app.emrtd.session import Session
from simulator.timing import TimingModel
from tests.chip_fixtures import counter_rng, make_chip, mrz_key
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)


def _timed_read(port: int, kbps: int) -> tuple[float, float]:
    chip = make_chip(dg2_size=12000)
    card = insert_card(chip, port, latency=TimingModel(chip_kbps=kbps).apdu_s)
    transceiver = open_transceiver("pcsc://Virtual PCD 00 00")
    try:
        started = time.monotonic()
        DocumentReader(Session(transceiver), mrz_key(), counter_rng("terminal"), time.monotonic).read()
        return time.monotonic() - started, card.modelled_s
    finally:
        transceiver.close()
        remove_card(card)


def test_a_read_takes_its_modelled_air_time(pcscd_vpcd):
    slow, slow_model = _timed_read(pcscd_vpcd[1], 106)
    fast, fast_model = _timed_read(pcscd_vpcd[1], 848)
    assert slow_model > 1.0 and fast_model < slow_model / 3     # 12 kB at 106 kbit/s is over a second
    assert slow >= slow_model and fast >= fast_model            # never sooner than the model
    assert slow - fast >= 0.8 * (slow_model - fast_model)
