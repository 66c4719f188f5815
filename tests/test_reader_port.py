"""The reader's port on the host: opened exclusively, kept away from ModemManager by the shipped
udev rule, and `gatesim reader` speaking the documented wire formats to the real driver."""
from __future__ import annotations

import random
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from drivers.passport_reader import (
    DeviceMessage,
    DocumentRead,
    Framing,
    LinkChanged,
    LinkState,
    ReadError,
    ReaderSettings,
    ReaderUnavailable,
    SerialPassportReader,
)
from simulator.reader import SimulatedReader

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "config" / "udev" / "60-border-gate-serial.rules"
TD3 = ["P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10"]
TD1 = ["I<UTOD231458907<<<<<<<<<<<<<<<",
       "7408122F1204159UTO<<<<<<<<<<<6",
       "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"]
FAST = dict(reconnect_min_s=0.01, reconnect_max_s=0.05)


def first_link_event(reader, timeout_s=3.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        event = reader.get_event(0.05)
        if isinstance(event, LinkChanged):
            return event
    raise AssertionError("no link event")


def test_the_port_is_opened_exclusively(tmp_path):
    with SimulatedReader(Framing.CUTE, random.Random(1), link_path=tmp_path / "reader") as sim:
        first = SerialPassportReader(ReaderSettings(url=sim.path, **FAST)).start()
        assert first_link_event(first).state is LinkState.UP
        with pytest.raises(serial.SerialException, match="exclusively"):
            serial.serial_for_url(sim.path, exclusive=True)
        second = SerialPassportReader(ReaderSettings(url=sim.path, **FAST)).start()
        down = first_link_event(second)
        assert down.state is LinkState.DOWN and isinstance(down.error, ReaderUnavailable)
        second.close()
        sim.send(TD3)   # the first driver still gets every frame
        event = first.get_event(3.0)
        assert isinstance(event, DocumentRead) and list(event.lines) == TD3
        first.close()


def _rules() -> list[str]:
    return [line for line in RULES.read_text().splitlines() if line.strip() and not line.startswith("#")]


def test_udev_rule_keeps_modemmanager_off_every_serial_reader_port():
    ignored = [line for line in _rules() if 'ENV{ID_MM_DEVICE_IGNORE}="1"' in line]
    kernels = " ".join(re.findall(r'KERNEL=="([^"]+)"', " ".join(ignored)))
    assert "ttyACM" in kernels and "ttyUSB" in kernels
    assert int(RULES.name.split("-")[0]) < 77   # before ModemManager's 77-mm-* and 80-mm-candidate


def test_udev_rule_lines_are_well_formed():
    pair = re.compile(r'^[A-Z_]+(\{[A-Za-z_]+\})?(==|!=|\+=|=|:=)"[^"]*"$')
    for line in _rules():
        assert all(pair.match(part.strip()) for part in line.split(",")), line


def _gatesim_reader(link: Path, *args: str, docs: str) -> subprocess.Popen:
    cmd = [sys.executable, "-c", "import sys; from simulator.cli import main; sys.exit(main())",
           "reader", "--pty-link", str(link), "--wait-reader", "10", "--gap", "0.05",
           "--linger", "0.5", *args]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=ROOT,
                            stderr=subprocess.PIPE, text=True)
    proc.stdin.write(docs)
    proc.stdin.close()
    return proc


# one run of the CLI (each costs a Python start-up); the contract suite covers every wire format
@pytest.mark.parametrize("sim_args, settings", [
    (["--framing", "rte", "--rte-no-bcc"], {"framing": "rte", "rte_use_bcc": False}),
])
def test_gatesim_reader_wire_formats_with_other_blocks(tmp_path, sim_args, settings):
    link = tmp_path / "reader"
    proc = _gatesim_reader(link, *sim_args, "--fault", "foreign=1", "--fault", "chunk=1-9",
                           docs="\n".join(TD3) + "\n\n" + "\n".join(TD1) + "\n")
    try:
        assert proc.stdout.readline().strip() == str(link)
        reader = SerialPassportReader(ReaderSettings(url=str(link), **settings)).start()
        got, other, deadline = [], [], time.monotonic() + 10
        while len(got) < 2 and time.monotonic() < deadline:
            event = reader.get_event(0.1)
            if isinstance(event, DocumentRead):
                got.append(list(event.lines))
            elif isinstance(event, (DeviceMessage, ReadError)):
                other.append(event)
        reader.close()
        assert proc.wait(10) == 0
    finally:
        proc.kill()
        proc.wait()
    assert got == [TD3, TD1]
    assert not [e for e in other if isinstance(e, ReadError)]
    assert len(other) == (0 if settings["framing"] == "cute" else 2)


def test_gatesim_reader_wire_options_build_the_driver_settings():
    import argparse

    from simulator.reader_cmd import register
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["reader", "--framing", "cute", "--cute-delimiters", "direct"])
    from simulator.reader_cmd import _wire_format
    assert _wire_format(args).document(["AB<"]) == b"\x02AB<\r\x03"
    args = parser.parse_args(["reader", "--framing", "rte", "--rte-no-bcc"])
    frame = _wire_format(args).document(["AB<"])
    assert frame[-1] == 0x03 and frame[1] == len(frame) - 3   # length word: device byte .. ETX
