"""The request parsing the kiosk page and the officer console share (firmware_app/http_request.py):
lengths, whole bodies, JSON objects, forms, each refusal raised as the calling layer's own error."""
from __future__ import annotations

import io
import json
from email.message import Message

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.http_request import (
    RequestRefused,
    body_length,
    form_fields,
    json_object,
    read_body,
    status_phrase,
)
from firmware_app.kiosk.errors import KioskError, RequestRejected
from firmware_app.officer.errors import OfficerError, Refused

LIMIT = 256


def headers(length: str | None) -> Message:
    message = Message()
    if length is not None:
        message["Content-Length"] = length
    return message


class CountingReader(io.BytesIO):
    """A request stream that remembers how many bytes were asked for."""

    asked = 0

    def read(self, size: int | None = -1) -> bytes:
        self.asked += size if size is not None and size >= 0 else 1 << 30
        return super().read(size)


@pytest.mark.parametrize(("value", "expected"), [
    ("0", 0), ("12", 12), (" 12\t", 12), ("0000256", 256), (str(LIMIT), LIMIT),
])
def test_a_plain_decimal_length_within_the_limit_is_taken(value, expected):
    assert body_length(value, LIMIT) == expected


@pytest.mark.parametrize(("value", "status"), [
    (None, 411), ("", 411), ("abc", 411), ("+5", 411), ("-1", 411), ("1_0", 411), ("\u0665", 411),
    ("1 2", 411), ("0x10", 411), (str(LIMIT + 1), 413), ("9" * 5000, 413),
])
def test_a_missing_malformed_or_oversized_length_is_refused(value, status):
    with pytest.raises(RequestRefused) as refused:
        body_length(value, LIMIT)
    assert refused.value.status == status


def test_the_reason_names_what_is_too_large_and_never_echoes_the_peer():
    with pytest.raises(RequestRefused) as refused:
        body_length("99999", LIMIT, what="form")
    assert refused.value.reason == "form too large" and "99999" not in str(refused.value)


@pytest.mark.parametrize(("refuse", "layer"), [(RequestRejected, KioskError), (Refused, OfficerError)])
def test_each_server_gets_its_own_layer_s_refusal(refuse, layer):
    with pytest.raises(layer) as refused:
        read_body(headers("nine"), io.BytesIO(b""), LIMIT, refuse=refuse)
    assert isinstance(refused.value, refuse) and refused.value.status == 411
    with pytest.raises(refuse):
        json_object(b"[1]", refuse)
    with pytest.raises(refuse):
        form_fields(b"a=1&b=2&c=3", 2, refuse)


def test_exactly_the_announced_body_is_read_and_a_short_one_is_refused():
    stream = io.BytesIO(b'{"a": 1}next request')
    assert read_body(headers("8"), stream, LIMIT) == b'{"a": 1}'
    assert stream.read() == b"next request"           # nothing beyond Content-Length was consumed
    with pytest.raises(RequestRefused) as refused:
        read_body(headers("20"), io.BytesIO(b"{}"), LIMIT)
    assert refused.value.status == 400


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"\xff\xfe{}", b"[" * 100_000, b"null"])
def test_anything_but_a_json_object_is_a_400(body):
    with pytest.raises(RequestRefused) as refused:
        json_object(body)
    assert refused.value.status == 400


def test_a_json_object_or_an_empty_body_is_taken():
    assert json_object(b' {"language": "fr"} ') == {"language": "fr"}
    assert json_object(b"  ") == {}


def test_a_form_with_more_fields_than_allowed_is_a_400_not_a_crash():
    assert form_fields(b"name=a&password=%C3%A9", 8) == {"name": ["a"], "password": ["\u00e9"]}
    with pytest.raises(RequestRefused) as refused:
        form_fields(b"&".join(b"f%d=x" % n for n in range(9)), 8)
    assert refused.value.status == 400


def test_status_phrases_for_the_stdlib_s_own_refusals():
    assert status_phrase(404) == "Not Found" and status_phrase(431) == "Request Header Fields Too Large"
    assert status_phrase(999) == "error"


lengths = st.one_of(st.none(), st.integers(-5, 2 * LIMIT).map(str),
                    st.text(alphabet="0123456789 +-_x\t\u0665abc", max_size=12))


@settings(max_examples=300, deadline=None)
@given(length=lengths, body=st.binary(max_size=2 * LIMIT), as_json=st.booleans())
def test_hostile_bodies_give_a_bounded_read_and_a_result_or_a_refusal(length, body, as_json):
    stream = CountingReader(body)
    try:
        data = read_body(headers(length), stream, LIMIT)
        parsed = json_object(data) if as_json else form_fields(data, 8)
    except RequestRefused as refused:
        assert refused.status in (400, 411, 413)
    else:
        assert isinstance(parsed, dict)
        assert length is not None and len(data) == int(length.strip(" \t")) <= LIMIT
    assert stream.asked <= LIMIT


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=20))
def test_any_json_value_is_taken_only_as_an_object(value):
    encoded = json.dumps(value).encode()
    try:
        assert json_object(encoded) == value
    except RequestRefused as refused:
        assert refused.status == 400 and not isinstance(value, dict)
