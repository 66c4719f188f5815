"""Health as the BMIS reads it (schemas/health.json), whatever the parts of the appliance report.

Sources hand in `component -> {"status": ..., "detail": ...}` in their own words (a faulted camera
says "fault" and a sentence). The builder maps that onto the contract instead of letting the
message fail its schema, which would leave the BMIS showing the last retained "ok": statuses onto
ComponentStatus, names onto the allowed pattern, a detail that is a code stays `detail`, any other
text goes to `note` (bounded). Details are codes and sentences from the appliance itself, never
personal data.
"""
from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from typing import Any

MAX_COMPONENTS = 64
MAX_NOTE = 200
# health 1.2: what the gate runs and how long its identity lasts (firmware_app/status/snapshot.py)
HEALTH_INFO_FIELDS = ("software_version", "models", "pad_available", "certificate", "last_update")
_NAME_BAD = re.compile(r"[^a-z0-9_]+")
_CODE = re.compile(r"^[a-z0-9_.:-]{1,64}$")


class ComponentStatus(str, enum.Enum):
    OK = "ok"
    DEGRADED = "degraded"
    FAILED = "failed"
    UNKNOWN = "unknown"


_STATUS_WORDS = {"ok": ComponentStatus.OK, "degraded": ComponentStatus.DEGRADED, "warning": ComponentStatus.DEGRADED,
                 "failed": ComponentStatus.FAILED, "fault": ComponentStatus.FAILED, "error": ComponentStatus.FAILED,
                 "unknown": ComponentStatus.UNKNOWN}


def status_of(value: Any) -> ComponentStatus:
    """A source's status word as the contract's status; anything unrecognised is `unknown`."""
    if isinstance(value, ComponentStatus):
        return value
    return _STATUS_WORDS.get(str(value).strip().lower(), ComponentStatus.UNKNOWN)


def component_name(name: Any) -> str:
    cleaned = _NAME_BAD.sub("_", str(name).lower()).strip("_")[:32]
    return cleaned or "component"


def component_entry(status: Any, detail: Any = None, note: Any = None) -> dict[str, str]:
    """One component as health.json wants it: `detail` only when it is a code, text in `note`."""
    entry = {"status": status_of(status).value}
    texts = [str(t) for t in (detail, note) if t is not None and str(t) != ""]
    if texts and _CODE.match(texts[0]):
        entry["detail"] = texts.pop(0)
    if texts:
        entry["note"] = "; ".join(texts)[:MAX_NOTE]
    return entry


def health_components(components: Mapping[Any, Any], link: Mapping[str, str] | None = None) -> dict[str, dict]:
    """All components, bounded in number; the link's own entry is added unless a source already
    reports the link failed (the worse report wins)."""
    result: dict[str, dict] = {}
    for name, value in list(components.items())[:MAX_COMPONENTS]:
        value = value if isinstance(value, Mapping) else {"status": value}
        result[_unique(component_name(name), result)] = component_entry(
            value.get("status"), value.get("detail"), value.get("note"))
    if link is not None and result.get("bmis_link", {}).get("status") != ComponentStatus.FAILED.value:
        result["bmis_link"] = dict(link)
    return result


def _unique(name: str, taken: Mapping[str, Any]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        suffix = f"_{n}"
        candidate, n = name[:32 - len(suffix)] + suffix, n + 1
    return candidate
