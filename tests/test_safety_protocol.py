"""The controller's line protocol: bounded lines, checked fields, any bytes give a message or a
ProtocolError (never another exception); a controller drops a client that sends garbage."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.gate.safety import protocol as proto


def test_a_command_round_trips():
    line = proto.encode(proto.command(3, proto.Op.OPEN, door="exit", passage="t1"))
    message = proto.decode(line.rstrip(b"\n"))
    assert proto.parse_command(message) == (3, proto.Op.OPEN) and message["passage"] == "t1"


@pytest.mark.parametrize("line", [b"[1]", b"{}", b'{"type": 1}', b"\xff", b'{"type":"cmd","id":"7"}',
                                  b'{"type":"cmd","id":true}', b'{"type":"cmd","door":' + b'"x"' * 1 + b',"on":1}',
                                  b'{"type":"cmd","passage":"' + b"p" * 65 + b'"}', b'{"type":"cmd","door":{}}',
                                  b"[" * 5000])
def test_malformed_lines_are_protocol_errors(line):
    with pytest.raises(proto.ProtocolError):
        proto.decode(line)


def test_unknown_ops_and_missing_ids_are_refused():
    for message in ({"type": "cmd", "op": "open"}, {"type": "cmd", "id": 1, "op": "unlock_everything"}):
        with pytest.raises(proto.ProtocolError):
            proto.parse_command(message)


def test_a_line_longer_than_the_bound_is_refused_before_its_end_arrives():
    buffer = proto.LineBuffer()
    with pytest.raises(proto.ProtocolError):
        buffer.feed(b"x" * proto.MAX_LINE)        # no newline yet: refused, not buffered for ever


def test_an_oversized_message_is_not_sent():
    with pytest.raises(proto.ProtocolError):
        proto.encode({"type": "event", "detail": "x" * proto.MAX_LINE})


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=3000), st.integers(1, 64))
def test_any_bytes_in_any_chunks_give_messages_or_a_protocol_error(data, chunk):
    buffer = proto.LineBuffer()
    try:
        for start in range(0, len(data), chunk):
            for line in buffer.feed(data[start:start + chunk]):
                message = proto.decode(line)
                assert isinstance(message, dict) and isinstance(message["type"], str)
    except proto.ProtocolError:
        pass


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
                           | st.text(max_size=80),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=12)


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["type", "id", "op", "door", "passage", "on", "v", "role", "x"]), json_values,
                       max_size=7))
def test_json_objects_of_any_shape_are_checked_field_by_field(fields):
    line = json.dumps(fields).encode()
    try:
        message = proto.decode(line)
    except proto.ProtocolError:
        return
    for key in ("id", "v"):
        assert key not in message or type(message[key]) is int
    for key in ("door", "passage", "op", "role"):
        assert message.get(key) is None or (isinstance(message[key], str) and len(message[key]) <= proto.MAX_TEXT)
