"""Every shipped appliance config passes `gatectl config check`, and each reader example works:
the driver accepts its settings and reads a document the simulator frames the same way,
with a stripe/barcode/reader block before it that must not count as a failed read."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from drivers.passport_reader import DeviceMessage, DocumentRead, Framing, ReadError, ReaderSettings
from drivers.passport_reader.framing import decoder_for
from firmware_app.cli import main as gatectl
from firmware_app.config import load_config
from simulator.reader_blocks import WireFormat

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = {"scenario-lab.toml"}   # `gatesim scenario` files, not appliance configs
CONFIGS = [ROOT / "config" / "default.toml"] + sorted(
    p for p in (ROOT / "config" / "examples").glob("*.toml") if p.name not in SCENARIOS)
READER_EXAMPLES = sorted((ROOT / "config" / "examples").glob("reader-*.toml"))
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_shipped_config_passes_config_check(path, capsys):
    assert gatectl(["config", "check", str(path)]) == 0, capsys.readouterr()


def test_one_reader_example_per_framing():
    framings = {load_config(p).reader.framing.value for p in READER_EXAMPLES}
    assert framings == {f.value for f in Framing}


@pytest.mark.parametrize("path", READER_EXAMPLES, ids=[p.name for p in READER_EXAMPLES])
def test_reader_example_reads_what_such_a_reader_sends(path):
    settings = ReaderSettings.from_mapping(load_config(path).reader.model_dump())
    wire = WireFormat.from_settings(settings)
    stream = wire.foreign(random.Random(4)) + wire.document(TD3)
    decoder = decoder_for(settings)
    events = decoder.feed(stream, 0.0) + decoder.poll(10.0)
    assert [e.lines for e in events if isinstance(e, DocumentRead)] == [TD3]
    assert not [e for e in events if isinstance(e, ReadError)]
    assert sum(isinstance(e, DeviceMessage) for e in events) == (0 if settings.framing is Framing.CUTE else 1)
