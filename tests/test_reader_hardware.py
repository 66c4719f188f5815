"""Run on a real reader by a technician: `READER_URL=/dev/ttyACM0 READER_FRAMING=cute
.venv/bin/python -m pytest -m hardware tests/test_reader_hardware.py`, then put a passport on it.
With `READER_CONFIG=/etc/border-gate/gate.toml` the whole [reader] section is used instead (line
settings, CUTE delimiters, RTE options), e.g. one of config/examples/reader-*.toml."""
from __future__ import annotations

import os
import re

import pytest

from drivers.passport_reader import (
    DeviceMessage,
    DocumentRead,
    LinkChanged,
    ReaderSettings,
    SerialPassportReader,
)
from firmware_app.config import load_config

pytestmark = pytest.mark.hardware
MRZ_LINE = re.compile(r"^[A-Z0-9<]{30,44}$")


@pytest.fixture
def real_reader():
    url, config = os.environ.get("READER_URL"), os.environ.get("READER_CONFIG")
    if not url and not config:
        pytest.skip("set READER_URL (and READER_FRAMING) or READER_CONFIG to run against a real reader")
    if config:
        settings = ReaderSettings.from_mapping(load_config(config).reader.model_dump())
    else:
        settings = ReaderSettings(url=url, framing=os.environ.get("READER_FRAMING", "cute"))
    with SerialPassportReader(settings) as reader:
        yield reader


def test_a_presented_document_arrives_as_mrz_lines(real_reader):
    print("\npresent a passport or ID card to the reader (60 s)...")
    event = real_reader.get_event(60.0)
    while isinstance(event, (LinkChanged, DeviceMessage)):   # a stripe or barcode is no document
        event = real_reader.get_event(60.0)
    assert isinstance(event, DocumentRead), f"got {event!r}"
    assert len(event.lines) in (2, 3) and all(MRZ_LINE.match(line) for line in event.lines)
