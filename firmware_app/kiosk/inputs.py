"""What the traveller can ask from the page, and strict parsing of the page's POST bodies."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..http_request import json_object
from .errors import RequestRejected

MAX_BODY_BYTES = 256


class InputKind(str, Enum):
    LANGUAGE = "language"       # the traveller picked a language
    MORE_TIME = "more_time"     # extend the current timeout
    ASSISTANCE = "assistance"   # call an officer


@dataclass(frozen=True)
class TravellerInput:
    kind: InputKind
    language: str | None = None


# POST path -> the input it carries.
INPUT_PATHS = {
    "/api/language": InputKind.LANGUAGE,
    "/api/more-time": InputKind.MORE_TIME,
    "/api/assistance": InputKind.ASSISTANCE,
}


def parse_input(kind: InputKind, body: bytes, offered: tuple[str, ...]) -> TravellerInput:
    """Decode a POST body (a small JSON object) into a TravellerInput or raise RequestRejected."""
    if len(body) > MAX_BODY_BYTES:
        raise RequestRejected(413, "body too large")
    data = json_object(body, RequestRejected)
    if kind is InputKind.LANGUAGE:
        language = data.get("language")
        if not isinstance(language, str) or language not in offered:
            raise RequestRejected(422, "unknown language")
        _only_keys(data, {"language"})
        return TravellerInput(kind, language)
    _only_keys(data, set())
    return TravellerInput(kind)


def _only_keys(data: dict, allowed: set[str]) -> None:
    if set(data) - allowed:
        raise RequestRejected(422, "unexpected keys")
