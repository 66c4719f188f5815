"""Every chip read has a budget: APDUs per file from its announced size, wall time for the whole
document (injected clock), the caller's cancel signal between APDUs, and a bounded APDU log.

Before: a chip answering one byte per READ BINARY took 16,609 APDUs (9.5 s through pcscd, ~80 s
at air speed) for a 15 KB portrait and was accepted; the lane's cancel signal was ignored."""
from __future__ import annotations

import itertools
import threading
import time

import pytest

from firmware_app.config import load_config
from firmware_app.emrtd.budget import ReadBudget
from firmware_app.emrtd.errors import ReadBudgetExceeded, ReadCancelled
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.reader import DocumentReader, read_document
from firmware_app.emrtd.session import MAX_LOG_ENTRIES, ApduLog, ApduLogEntry, Session
from firmware_app.errors import ConfigError
from simulator.vchip.applet import ChipFaults
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import counter_rng, make_chip, mrz_key
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card  # noqa: F401  (fixture)


def _read(chip, budget=ReadBudget(), cancelled=lambda: False, clock=time.monotonic):
    transport = InProcessTransceiver(chip)
    reader = DocumentReader(Session(transport), mrz_key(), counter_rng("terminal"), clock,
                            budget=budget, cancelled=cancelled)
    return reader, transport


def test_a_chip_answering_one_byte_per_read_is_refused_within_the_file_budget():
    chip = make_chip(faults=ChipFaults(read_cap=1))
    reader, transport = _read(chip)
    with pytest.raises(ReadBudgetExceeded) as refused:
        reader.read()
    sod_size = len(chip.config.files[LdsFile.SOD.fid])
    assert refused.value.file_name == LdsFile.SOD.value  # EF.COM is small enough; the SOD is not
    # authentication and EF.COM (~30 APDUs), then the SOD's budget, not 1,800 one-byte reads
    assert transport.count < 40 + ReadBudget().apdus_for(sod_size) < sod_size


def test_a_chip_answering_small_but_sane_blocks_is_read():
    chip = make_chip(faults=ChipFaults(read_cap=64))
    reader, _ = _read(chip)
    result = reader.read()
    assert result.files[LdsFile.DG2] == chip.config.files[LdsFile.DG2.fid]


def test_a_file_announcing_more_than_such_a_file_holds_is_refused_unread():
    from firmware_app.emrtd.errors import FileTooLarge
    from firmware_app.emrtd.reader import DocumentReader
    from simulator.hostile import huge_q_dg14, resign
    from simulator.vchip.applet import VirtualIcaoChip
    from simulator.vchip.from_passport import chip_config
    from tests.passport_helpers import NOW, passport, pki
    document = resign(passport(), pki(), NOW, {14: huge_q_dg14(65_000)})
    transport = InProcessTransceiver(VirtualIcaoChip(chip_config(document), counter_rng("chip")))
    from firmware_app.emrtd.keys import mrz_key_from_lines
    reader = DocumentReader(Session(transport), mrz_key_from_lines(list(document.mrz_lines)),
                            counter_rng("terminal"), time.monotonic)
    with pytest.raises(FileTooLarge) as refused:
        reader.read()
    assert refused.value.file_name == "DG14"
    dg14_reads = [e for e in reader.session.log.entries if e.step == "read DG14"]
    assert len(dg14_reads) == 1  # its 4-byte header only, not 290 blocks


def test_the_whole_read_has_a_wall_time_budget_on_the_injected_clock():
    ticks = itertools.count()
    clock = lambda: next(ticks) * 0.1  # noqa: E731  (every look at the clock: 100 ms later)
    reader, transport = _read(make_chip(), budget=ReadBudget(time_s=3.0), clock=clock)
    with pytest.raises(ReadBudgetExceeded, match="3 s budget"):
        reader.read()
    assert transport.count < 31


def test_cancellation_stops_the_read_between_apdus():
    transport_box = {}
    cancelled = lambda: transport_box["t"].count >= 12  # noqa: E731
    reader, transport = _read(make_chip(), cancelled=cancelled)
    transport_box["t"] = transport
    with pytest.raises(ReadCancelled):
        reader.read()
    assert transport.count == 12


def test_the_apdu_log_is_bounded_and_keeps_both_ends():
    log = ApduLog()
    for index in range(5 * MAX_LOG_ENTRIES):
        log.add(ApduLogEntry(f"read {index}", "00B00000", 0, 223, True, 0x9000, 223))
    assert len(log.entries) == MAX_LOG_ENTRIES and log.count == 5 * MAX_LOG_ENTRIES
    assert log.entries[0].step == "read 0" and log.entries[-1].step == f"read {5 * MAX_LOG_ENTRIES - 1}"


def test_read_timeout_must_end_before_the_lane_gives_up(tmp_path):
    base = (tmp_path / "gate.toml")
    base.write_text('[device]\nid = "g1"\npost_id = "p"\n[reader]\nurl = "sim://"\n'
                    '[smartcard]\nread_timeout_s = 20.0\n[lane]\nchip_s = 15.0\n')
    with pytest.raises(ConfigError, match="read_timeout_s"):
        load_config(base)


def test_the_lane_chip_stage_passes_its_cancel_signal_to_the_read():
    from firmware_app.lane.stages import ChipReadStage, PortraitVault
    from firmware_app.mrz import parse
    from tests.chip_fixtures import MRZ_LINES

    chip, cancelled = make_chip(), threading.Event()

    def opener():
        transport = InProcessTransceiver(chip)
        original = transport.transmit

        def transmit(apdu):
            if transport.count == 10:
                cancelled.set()  # the traveller left: the runner sets the transaction's event
            return original(apdu)
        transport.transmit = transmit
        opener.transport = transport
        return transport
    stage = ChipReadStage(opener, None, counter_rng("terminal"), time.monotonic, None, PortraitVault())
    with pytest.raises(ReadCancelled):
        stage("t1", parse(MRZ_LINES), cancelled)
    assert opener.transport.count == 11


# --- through real pcscd --------------------------------------------------------------------

def test_one_byte_chip_through_pcscd_is_refused_quickly(pcscd_vpcd):
    from drivers.smartcard import open_transceiver
    chip = make_chip(faults=ChipFaults(read_cap=1))
    card = insert_card(chip, pcscd_vpcd[1])
    start = time.monotonic()
    try:
        with pytest.raises(ReadBudgetExceeded):
            read_document(open_transceiver("pcsc://Virtual PCD 00 00"), mrz_key(), counter_rng("t"), time.monotonic)
    finally:
        remove_card(card)
    assert time.monotonic() - start < 10.0  # generous; the unbounded read took 9.5 s for DG2 alone


def test_a_read_cancelled_after_dg14_arrives_starts_no_chip_authentication_maths():
    from firmware_app.emrtd.keys import mrz_key_from_lines
    from simulator.vchip.applet import VirtualIcaoChip
    from simulator.vchip.from_passport import chip_config
    from tests.passport_helpers import passport
    document = passport()
    transport = InProcessTransceiver(VirtualIcaoChip(chip_config(document), counter_rng("chip")))
    arrived = []

    def watch(file):
        if file is LdsFile.DG14:
            return arrived.append     # the transaction ends as DG14's last block comes in
        return None
    cancelled = lambda: sum(map(len, arrived)) >= len(document.files["DG14"])  # noqa: E731
    reader = DocumentReader(Session(transport), mrz_key_from_lines(list(document.mrz_lines)),
                            counter_rng("terminal"), time.monotonic, cancelled=cancelled, watch=watch)
    with pytest.raises(ReadCancelled):
        reader.read()
    assert "chip_authentication" not in reader.timings
