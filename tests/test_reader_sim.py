"""The simulated passport reader: fault injection (pure parts), the pty device, `gatesim reader`."""
from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drivers.passport_reader import (
    DocumentRead,
    Framing,
    LinkChanged,
    LinkState,
    ReadErrorReason,
    ReaderSettings,
    RteBccScope,
    SerialPassportReader,
    encode,
)
from drivers.passport_reader.framing import RteDecoder, RteOptions
from simulator.cli import main as gatesim
from simulator.reader import (
    OCR_CONFUSIONS,
    FaultPlan,
    SimulatedReader,
    SimulatorError,
    chunked,
    faulty_frame,
    noise_bytes,
    with_ocr_error,
)
from simulator.reader_cmd import split_documents

ROOT = Path(__file__).resolve().parents[1]

TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<",
       "7408122F1204159UTO<<<<<<<<<<<6",
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]


def test_fault_plan_parses_the_cli_spec():
    plan = FaultPlan.parse(["chunk=2-9", "delay=0.01", "noise=16", "truncate=0.5", "ocr=1",
                            "bcc=0.25"])
    assert plan == FaultPlan(2, 9, 0.01, 16, 0.5, 1.0, 0.25)
    assert FaultPlan.parse(["chunk=4"]).chunk_max == 4


@pytest.mark.parametrize("spec", ["chunk=9-2", "ocr=1.5", "noise=-1", "speed=3", "delay=x",
                                  "chunk=a-b", "truncate"])
def test_bad_fault_specs_are_typed_errors(spec):
    with pytest.raises(SimulatorError):
        FaultPlan.parse([spec])


def test_ocr_error_is_one_confusable_substitution_and_repeatable():
    changed = with_ocr_error(TD3, random.Random(5))
    diffs = [(a, b) for x, y in zip(TD3, changed) for a, b in zip(x, y) if a != b]
    assert len(diffs) == 1 and OCR_CONFUSIONS[diffs[0][0]] == diffs[0][1]
    assert with_ocr_error(TD3, random.Random(5)) == changed
    assert with_ocr_error(["<<<"], random.Random(5)) == ["<<<"]


@pytest.mark.parametrize("framing", list(Framing))
def test_noise_never_looks_like_a_frame_start_or_text(framing):
    noise = noise_bytes(framing, 5000, random.Random(2))
    assert len(noise) == 5000
    if framing is Framing.LINES:
        assert not any(0x20 <= b <= 0x7E or b in (0x0A, 0x0D) for b in noise)
    else:
        assert ({0x1C} if framing is Framing.CUTE else {0x01}).isdisjoint(noise)


def test_faulty_frame_truncation_bcc_and_chunks():
    rng = random.Random(9)
    clean = encode(Framing.RTE, TD3)
    cut = faulty_frame(Framing.RTE, TD3, FaultPlan(truncate_rate=1.0), rng)
    assert 0 < len(cut) < len(clean) and clean.startswith(cut)
    bad = faulty_frame(Framing.RTE, TD3, FaultPlan(bcc_rate=1.0), rng)
    assert bad[:-1] == clean[:-1] and bad[-1] != clean[-1]
    plan = FaultPlan(chunk_min=1, chunk_max=5)
    pieces = chunked(clean, plan, rng)
    assert b"".join(pieces) == clean and max(map(len, pieces)) <= 5 and len(pieces) > 10


def test_split_documents_on_blank_lines_with_comments():
    text = ["# two documents\n", " A \n", "B\n", "\n", "\n", "C\r\n", "D\n", "E"]
    assert list(split_documents(text)) == [["A", "B"], ["C", "D", "E"]]


def test_pty_reader_sends_with_chunk_delays_and_detects_the_port_opener(tmp_path):
    slept = []
    faults = FaultPlan(chunk_min=3, chunk_max=3, chunk_delay_s=0.02)
    sim = SimulatedReader(Framing.RTE, random.Random(1), faults=faults,
                          link_path=tmp_path / "r", sleep=slept.append)
    with sim:
        assert not sim.reader_attached()
        reader = SerialPassportReader(ReaderSettings(url=sim.path, framing=Framing.RTE)).start()
        assert sim.wait_for_reader(3.0)
        assert reader.get_event(3.0) == LinkChanged(LinkState.UP)
        wire = sim.send(TD3)
        event = reader.get_event(3.0)
        reader.close()
    assert isinstance(event, DocumentRead) and list(event.lines) == TD3
    assert [s for s in slept if s == 0.02] == [0.02] * (len(wire) // 3 + bool(len(wire) % 3) - 1)
    assert not (tmp_path / "r").exists()


def test_unplugged_reader_cannot_send():
    sim = SimulatedReader(Framing.CUTE, random.Random(1))
    sim.open()
    sim.unplug()
    with pytest.raises(SimulatorError):
        sim.send(TD3)


def test_after_an_unplug_the_driver_finds_the_reader_again_not_whoever_got_its_old_pty(tmp_path):
    """The fault library's flake: another terminal opened while the reader was out took its freed
    /dev/pts number; the stale link led the driver to that stranger and the next document was lost."""
    link = tmp_path / "reader"
    sim = SimulatedReader(Framing.CUTE, random.Random(1), link_path=link)
    sim.open()
    reader = SerialPassportReader(ReaderSettings(url=str(link), framing=Framing.CUTE, reconnect_min_s=0.02,
                                                 reconnect_max_s=0.05)).start()
    stranger = None
    try:
        assert sim.wait_for_reader(3.0) and reader.get_event(3.0) == LinkChanged(LinkState.UP)
        sim.unplug()
        assert reader.get_event(3.0).state is LinkState.DOWN      # the old slave is closed: its number is free
        stranger = os.openpty()                                    # the lowest free number: the reader's old one
        time.sleep(0.3)                                            # the driver tries again meanwhile
        sim.open()
        assert sim.wait_for_reader(3.0), "the driver did not come back to the reader"
        sim.send(TD3)
        events = [reader.get_event(3.0) for _ in range(2)]
        assert [list(e.lines) for e in events if isinstance(e, DocumentRead)] == [TD3], events
    finally:
        reader.close()
        sim.close()
        for fd in stranger or ():
            os.close(fd)


def _gatesim(*args: str, stdin: str = "") -> subprocess.Popen:
    cmd = [sys.executable, "-c", "import sys; from simulator.cli import main; sys.exit(main())",
           "reader", *args]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    proc.stdin.write(stdin)
    proc.stdin.close()
    return proc


def test_gatesim_reader_feeds_stdin_documents_to_the_driver(tmp_path):
    link = tmp_path / "reader"
    docs = "\n".join(TD3) + "\n\n" + "\n".join(TD1) + "\n"
    proc = _gatesim("--framing", "rte", "--pty-link", str(link), "--wait-reader", "10",
                    "--gap", "0.05", "--linger", "0.5", "--fault", "chunk=1-9", "--fault",
                    "noise=6", "--seed", "4", stdin=docs)
    try:
        assert proc.stdout.readline().strip() == str(link)
        reader = SerialPassportReader(ReaderSettings(url=str(link), framing=Framing.RTE)).start()
        got, deadline = [], time.monotonic() + 10
        while len(got) < 2 and time.monotonic() < deadline:
            event = reader.get_event(0.1)
            if isinstance(event, DocumentRead):
                got.append(list(event.lines))
        reader.close()
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert got == [TD3, TD1]


def test_gatesim_reader_exit_codes(tmp_path, capsys):
    assert gatesim(["reader", "--fault", "bogus=1"]) == 2
    assert gatesim(["reader", "--doc", str(tmp_path / "missing.txt")]) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("A\nB\nC\nD\n")
    assert gatesim(["reader", "--doc", str(bad), "--linger", "0"]) == 2
    assert gatesim(["reader", "--doc", str(bad), "--wait-reader", "0.05"]) == 1
    err = capsys.readouterr().err
    assert "not sendable" in err and "no reader opened the port" in err


def test_rte_options_reach_the_wire(tmp_path):
    options = RteOptions(bcc_scope=RteBccScope.FROM_SOH)
    wire = faulty_frame(Framing.RTE, TD3, FaultPlan(), random.Random(1), options)
    assert RteDecoder(options=options).feed(wire, 0.0)[0].lines == tuple(TD3)
    assert RteDecoder().feed(wire, 0.0)[0].reason is ReadErrorReason.BAD_BCC
    good = tmp_path / "doc.txt"
    good.write_text("\n".join(TD3) + "\n")
    assert gatesim(["reader", "--framing", "rte", "--rte-bcc-scope", "from_soh",
                    "--doc", str(good), "--linger", "0"]) == 0
