"""gate-app logs to journald in its native protocol: the datagrams are parsed back here."""
from __future__ import annotations

import logging
import os
import socket
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.appliance.journal import JournalHandler, encode_field, priority, stderr_is_journal


def parse(datagram: bytes) -> dict[str, str]:
    """The journal's reader side: KEY=value lines, or KEY \\n length value \\n for binary values."""
    fields, at = {}, 0
    while at < len(datagram):
        end = datagram.index(b"\n", at)
        line = datagram[at:end]
        if b"=" in line:
            key, value = line.split(b"=", 1)
            at = end + 1
        else:
            key = line
            (size,) = struct.unpack("<Q", datagram[end + 1:end + 9])
            value = datagram[end + 9:end + 9 + size]
            assert datagram[end + 9 + size:end + 10 + size] == b"\n"
            at = end + 10 + size
        fields[key.decode()] = value.decode()
    return fields


@pytest.fixture
def journal(tmp_path):
    server = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    server.bind(str(tmp_path / "journal.sock"))
    server.settimeout(5)
    handler = JournalHandler("gate-app", str(tmp_path / "journal.sock"))
    logger = logging.getLogger("gate.test.journal")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, lambda: parse(server.recv(65536))
    logger.removeHandler(handler)
    handler.close()
    server.close()


def test_structured_fields_reach_the_journal(journal):
    logger, receive = journal
    logger.error("outbox full: %d records", 5, extra={"event": "outbox_full"})
    fields = receive()
    assert fields["MESSAGE"] == "outbox full: 5 records"
    assert (fields["PRIORITY"], fields["SYSLOG_IDENTIFIER"], fields["GATE_EVENT"]) == ("3", "gate-app", "outbox_full")
    assert fields["LOGGER"] == "gate.test.journal" and fields["CODE_FUNC"] == "test_structured_fields_reach_the_journal"
    logger.info("plain")
    assert receive()["GATE_EVENT"] == "gate.test.journal"   # no event code: the logger names it


def test_a_traceback_goes_as_one_multiline_entry(journal):
    logger, receive = journal
    try:
        raise ValueError("camera gone")
    except ValueError:
        logger.exception("camera stage failed")
    fields = receive()
    assert fields["MESSAGE"].startswith("camera stage failed\nTraceback") and "camera gone" in fields["MESSAGE"]
    assert fields["PRIORITY"] == "3"


def test_priorities_follow_syslog():
    assert [priority(level) for level in (logging.CRITICAL, logging.ERROR, logging.WARNING,
                                          logging.INFO, logging.DEBUG)] == [2, 3, 4, 6, 7]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=200))
def test_any_value_round_trips(value):
    assert parse(encode_field("MESSAGE", value)) == {"MESSAGE": value.encode("utf-8", "replace").decode()}


def test_journal_stream_must_be_our_stderr(tmp_path):
    with open(tmp_path / "stream", "w") as stream:
        stat = os.fstat(stream.fileno())
        ours = {"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino}"}
        assert stderr_is_journal(ours, stream.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": f"{stat.st_dev}:{stat.st_ino + 1}"}, stream.fileno())
        assert not stderr_is_journal({}, stream.fileno())
        assert not stderr_is_journal({"JOURNAL_STREAM": "junk"}, stream.fileno())
