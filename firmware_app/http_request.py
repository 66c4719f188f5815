"""Request parsing shared by the appliance's small HTTP servers (the kiosk page, the officer console).

Both read small bodies from peers they do not trust: the length must be a plain decimal
Content-Length within the server's limit (no chunked bodies, never read to the end of the stream),
the body must arrive whole, and a JSON body or a form is decoded within bounds. A refusal is raised
as the calling layer's own error (`refuse`, a subclass of RequestRefused), so each server's handler
keeps catching only its own; nothing the peer sent is echoed into the reason.
"""
from __future__ import annotations

import json
import re
from email.message import Message
from http import HTTPStatus
from io import BufferedIOBase
from urllib.parse import parse_qs

from .errors import GateError

_DECIMAL = re.compile(r"[0-9]+")    # int() alone would take "+5", "1_0" and non-ASCII digits


class RequestRefused(GateError):
    """An HTTP request a server refuses: the status to answer and a short reason of our own."""

    def __init__(self, status: int, reason: str):
        self.status, self.reason = status, reason
        super().__init__(f"{status}: {reason}")


def body_length(value: str | None, limit: int, what: str = "body",
                refuse: type[RequestRefused] = RequestRefused) -> int:
    """The Content-Length header's value, checked: 411 when missing or not a decimal, 413 over `limit`."""
    text = (value or "").strip(" \t")   # optional white space around a field value (RFC 9110 5.5)
    if not _DECIMAL.fullmatch(text):
        raise refuse(411, "Content-Length required")
    if len(text.lstrip("0")) > len(str(limit)) or int(text) > limit:   # no huge int() on a long string
        raise refuse(413, f"{what} too large")
    return int(text)


def read_body(headers: Message, rfile: BufferedIOBase, limit: int, what: str = "body",
              refuse: type[RequestRefused] = RequestRefused) -> bytes:
    """Exactly Content-Length bytes (at most `limit`); 400 when the peer sent fewer and closed."""
    length = body_length(headers.get("Content-Length"), limit, what, refuse)
    body = rfile.read(length)
    if len(body) != length:
        raise refuse(400, "body shorter than its Content-Length")
    return body


def json_object(body: bytes, refuse: type[RequestRefused] = RequestRefused) -> dict:
    """A JSON object (an empty body is an empty object); 400 for anything else."""
    try:
        data = json.loads(body.decode("utf-8")) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise refuse(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise refuse(400, "body must be a JSON object")
    return data


def form_fields(body: bytes, max_fields: int, refuse: type[RequestRefused] = RequestRefused) -> dict[str, list[str]]:
    """A url-encoded form of at most `max_fields` fields; 400 for more (parse_qs raises ValueError)."""
    try:
        return parse_qs(body.decode("utf-8", "replace"), max_num_fields=max_fields)
    except ValueError:
        raise refuse(400, "too many form fields") from None


def status_phrase(code: int) -> str:
    """The standard phrase of a status code, for answering the stdlib's own refusals."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return "error"
