"""The last few things that happened at the lane, for `gatectl status`: codes and times only
(outcome, reason codes, kinds), never a name, a document number or an image."""
from __future__ import annotations

import collections
import threading
from collections.abc import Mapping
from typing import Any

MAX_EVENTS = 20
MAX_CODES = 8


def _code(value: Any) -> str | None:
    return None if value is None else str(getattr(value, "value", value))[:64]


class RecentEvents:
    def __init__(self, maxlen: int = MAX_EVENTS, withheld: frozenset[str] = frozenset(), reasons: bool = True):
        """`withheld`: codes never noted (a reason left out, an alarm or exception not noted at all);
        `reasons` False: a crossing is noted with its outcome only."""
        self._events: collections.deque = collections.deque(maxlen=maxlen)
        self._lock = threading.Lock()
        self._withheld = withheld
        self._reasons = reasons

    def _add(self, event: dict) -> None:
        with self._lock:
            self._events.append({k: v for k, v in event.items() if v not in (None, [], "")})

    def crossing(self, record: Mapping[str, Any]) -> None:
        decision = record.get("decision")
        found = decision.get("reasons") if isinstance(decision, Mapping) else None
        reasons: list = found if isinstance(found, list) and self._reasons else []
        self._add({"time": _code(record.get("ended_at")), "kind": "crossing",
                   "outcome": _code(record.get("outcome")),
                   "reasons": [code for code in (_code(r.get("code") if isinstance(r, Mapping) else r)
                                                 for r in reasons[:MAX_CODES]) if code not in self._withheld]})

    def exception(self, kind: Any, time: str | None = None) -> None:
        if _code(kind) not in self._withheld:
            self._add({"time": time, "kind": "exception", "outcome": _code(kind)})

    def alarm(self, kind: Any, time: str | None = None) -> None:
        if _code(kind) not in self._withheld:
            self._add({"time": time, "kind": "alarm", "outcome": _code(kind)})

    def last(self) -> list[dict]:
        with self._lock:
            return list(reversed(self._events))     # newest first
