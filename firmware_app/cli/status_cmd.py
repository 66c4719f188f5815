"""`gatectl status [--config F | --socket PATH] [--json]`: the running appliance, asked over its
local status socket (group members of gate-app's group, or root).

On a one-stop post the outbox is each authority's (`outbox exit: ...`, `outbox entry: ...`), and
an outbox that cannot be read is named as its authority's (`ERROR ...`); so is the client
certificate (`certificate exit (UTO): ...`, from its [authority.bmis]).

Exit 0: in service, every component ok and every outbox readable; 1: answered, but out of service,
a component not ok or an outbox unreadable; 2: no answer (gate-app not running, wrong socket, no
permission) or config unusable.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
NOT_IN_SERVICE = ("out_of_service", "emergency", "stopped", "unknown")   # "closed" is a chosen mode


def register(groups) -> None:
    status = groups.add_parser("status", help="the running appliance: state, outbox, devices, versions")
    status.add_argument("--config", default="config/default.toml")
    status.add_argument("--socket", type=Path, help="the status socket (default: from the config)")
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=run_status)


def run_status(args) -> int:
    from firmware_app.status.client import query
    from firmware_app.status.errors import StatusUnavailable
    try:
        body = query(args.socket or _configured_socket(args.config))
    except (StatusUnavailable, ValueError) as exc:
        print(f"gatectl status: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(body, indent=2) if args.json else text(body))
    return EXIT_OK if healthy(body) else EXIT_FAILED


def _configured_socket(path: str) -> Path:
    from firmware_app.config import load_config
    from firmware_app.errors import ConfigError
    from firmware_app.status.service import socket_path
    try:
        return socket_path(load_config(path))
    except ConfigError as exc:
        raise ValueError(f"config: {exc}") from None


def healthy(body: dict) -> bool:
    components = body.get("devices") or {}
    return body.get("state") not in NOT_IN_SERVICE and "error" not in body and not outbox_errors(body) and \
        all(isinstance(c, dict) and c.get("status") == "ok" for c in components.values())


def outboxes(body: dict) -> dict[str, dict]:
    """The outbox by its owner: "" for the lane's one outbox, each role's on a one-stop post."""
    given = body.get("outbox")
    outbox: dict = given if isinstance(given, dict) else {}
    authorities = outbox.get("authorities")
    if isinstance(authorities, dict):
        return {str(role): entry if isinstance(entry, dict) else {} for role, entry in authorities.items()}
    return {"": outbox}


def outbox_errors(body: dict) -> dict[str, str]:
    """The outboxes that could not be read (a record may not be kept): not in service."""
    return {owner: str(entry["error"]) for owner, entry in outboxes(body).items() if "error" in entry}


def _outbox_line(owner: str, outbox: dict) -> str:
    label = f"outbox {owner}" if owner else "outbox"
    if "error" in outbox:
        return f"{label}: ERROR {outbox['error']}"
    return (f"{label}: {outbox.get('pending', '?')} pending, {outbox.get('unreceipted', '?')} unreceipted "
            f"(oldest {outbox.get('oldest_unreceipted_age_s', 0):.0f} s), "
            f"{outbox.get('dead_letters', '?')} dead letters")


def _certificate_lines(cert: dict) -> list[str]:
    """The lane's client certificate, or each authority's on a one-stop post."""
    authorities = cert.get("authorities")
    if not isinstance(authorities, dict):
        return [f"certificate: {_expiry(cert)}"]
    return [f"certificate {role} ({entry.get('country', '?')}): {_expiry(entry)}"
            for role, entry in authorities.items() if isinstance(entry, dict)]


def _expiry(cert: dict) -> str:
    return f"{cert.get('not_after', 'none')} ({cert.get('days_left', '?')} days left)"


def text(body: dict) -> str:
    versions, cert = body.get("versions") or {}, body.get("certificate") or {}
    lines = [f"{body.get('device_id', '?')}: {body.get('state', '?')} (mode {body.get('mode', '?')}), "
             f"up {body.get('uptime_s', 0):.0f} s, version {versions.get('app', '?')}",
             *[_outbox_line(owner, outbox) for owner, outbox in outboxes(body).items()],
             *_certificate_lines(cert)]
    for name, entry in sorted((body.get("devices") or {}).items()):
        lines.append(f"  {name}: {entry.get('status')} {entry.get('detail', '')} {entry.get('note', '')}".rstrip())
    for event in body.get("last_events") or []:
        lines.append(f"  event {event.get('time', '?')} {event.get('kind', '?')} {event.get('outcome', '')}".rstrip())
    if body.get("error"):
        lines.append(f"error: {body['error']}")
    return "\n".join(lines)
