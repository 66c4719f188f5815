"""Commands from the BMIS: verify, guard against replay, run, answer. Never raises.

    processor = CommandProcessor(CommandSettings(prefix, device_id), trust=TrustStore.from_directory(d),
                                 journal=CommandJournal.open(p), alerts=alert_store, lane=lane_port,
                                 clock=utc_now, on_alarm=alarm_sink)
    link = BmisLink(outbox, ..., handle_command=processor.handle)

Checks, in order: topic (this device, known command), size, JSON object, envelope fields,
signature (commands that change security state; a bad one is an alarm), validity window
(expired, issued in the future, lifetime over the maximum), replay guard (security commands only,
kept on a steady clock: see journal.py), parameters. Then the
effect runs through the injected `LaneControl` or the alert store, and the result is journaled.

What each command does once it is verified (the handlers, at the end of this module): effects go
through the injected ports only. Parameters (the command's "params" object):
  set-mode        {"mode": "normal" | "assisted" | "registration_only" | "closed"}
  override        {"action": "open" | "close", "door": "entry" | "exit" | "all"}; operator_id required
  alerts-replace  {"list_id", "kind": "document" | "person", "version", "entries": [...]}
                  optionally in parts: + {"part": k, "parts": n} (see alerts/store.py)
  alerts-delta    {"list_id", "base_version", "version", "add": [...], "remove": [entry ids]}
  request-status  {} -> the lane's status in the result
  pki-update      {"files": [{"name": "DE-2026-11.ml", "data": "<base64>"}, ...]}: master lists,
                  CSCA certificates (DER/PEM) and CRLs for the passive-authentication trust store,
                  checked as `gatectl pki import` checks them (master lists pinned); the result
                  lists each file's outcome, and a refused file makes the answer a nack
  update-apply    {"url": "http(s)://...", "sha256": "<64 hex>", "version"?}: a border-gate package;
                  answered "downloading" at once, installed (with rollback) by root after it has
                  verified this same signed command again (firmware_app/deploy/requests.py)
"""
from __future__ import annotations

import base64
import binascii
import enum
import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from firmware_app.errors import GateError
from firmware_app.policy.modes import LaneMode

from ..alerts.store import AlertStore
from ..errors import AlertListInvalid, AlertStoreError, AlertVersionConflict, JournalError, PkiUpdateRefused
from .journal import AuditEntry, CommandJournal
from .model import (
    SIGNED_COMMANDS,
    Command,
    CommandName,
    CommandRefused,
    CommandResult,
    CommandStatus,
    ResultReason,
    command_name_of,
    decode_json,
    parse_command,
)
from .signing import SignatureCheck, SignatureStatus, TrustStore, verify_command

log = logging.getLogger(__name__)

_SIGNATURE_REASONS = {
    SignatureStatus.MISSING: ResultReason.UNSIGNED,
    SignatureStatus.UNKNOWN_KEY: ResultReason.UNKNOWN_KEY,
    SignatureStatus.BAD_SIGNATURE: ResultReason.BAD_SIGNATURE,
    SignatureStatus.MALFORMED: ResultReason.BAD_SIGNATURE,
    SignatureStatus.UNSUPPORTED_ALG: ResultReason.BAD_SIGNATURE,
}
AlarmSink = Callable[[str, str], None]   # (reason code, detail without personal data)


@dataclass(frozen=True)
class CommandSettings:
    prefix: str
    device_id: str
    max_payload_bytes: int = 16 << 20
    max_lifetime: timedelta = timedelta(hours=24)
    clock_skew: timedelta = timedelta(minutes=5)

    @property
    def device_root(self) -> str:
        return f"{self.prefix}/v1/{self.device_id}"


class CommandProcessor:
    def __init__(self, settings: CommandSettings, *, trust: TrustStore, journal: CommandJournal,
                 alerts: AlertStore | None, lane: LaneControl, clock: Callable[[], datetime],
                 on_alarm: AlarmSink | None = None, pki: PkiUpdater | None = None,
                 updates: UpdatePort | None = None):
        self._settings, self._trust, self._journal = settings, trust, journal
        self._clock, self._on_alarm = clock, on_alarm
        self._ports = CommandPorts(lane, alerts, pki, updates)

    def handle(self, topic: str, payload: bytes, response_topic: str | None = None,
               correlation_data: bytes | None = None) -> dict:
        """The cmd-result body for one incoming command. Response routing is the link's job."""
        try:
            return self._handle(topic, payload).to_dict()
        except Exception as exc:
            # Type only above DEBUG: the message of an unexpected error may echo alert-list entries.
            log.error("command processing failed: %s", type(exc).__name__)
            log.debug("command processing failure", exc_info=True)
            return CommandResult(CommandStatus.NACK, ResultReason.INTERNAL_ERROR).to_dict()

    def _now(self) -> datetime:
        return self._clock().astimezone(UTC)

    def _handle(self, topic: str, payload: bytes) -> CommandResult:
        name, command, check = None, None, None
        try:
            name = command_name_of(topic, self._settings.device_root)
            body = decode_json(payload, self._settings.max_payload_bytes)
            command = parse_command(name, topic, body)
            check = self._signature_of(command)
            _require_valid(check)
            now = self._now()  # one reading for the window and the replay guard (no gap between them)
            self._check_window(command, now)
            return self._run_once(command, check, payload, now)
        except CommandRefused as refused:
            result = self._refusal(refused, name, command)
        except JournalError as exc:
            log.error("command journal unusable: %s", exc)
            result = self._refusal(CommandRefused(ResultReason.STORE_FAILED, "command journal"),
                                   name, command)
        self._audit(command, name, check, result)
        return result

    def _refusal(self, refused: CommandRefused, name: CommandName | None,
                 command: Command | None) -> CommandResult:
        log.info("command %s refused: %s", name.value if name else "?", refused.reason.value)
        if refused.alarm and self._on_alarm:
            self._on_alarm(f"command_{refused.reason.value}", f"command {name.value if name else '?'}")
        return CommandResult(CommandStatus.NACK, refused.reason,
                             command.command_id if command else None,
                             name.value if name else None, refused.detail, refused.alarm)

    def _signature_of(self, command: Command) -> SignatureCheck | None:
        """None when the command needs no signature and carries none."""
        if command.name not in SIGNED_COMMANDS and "signature" not in command.body:
            return None
        return verify_command(command.topic, command.body, self._trust)

    def _check_window(self, command: Command, now: datetime) -> None:
        settings = self._settings
        if command.expires_at <= command.issued_at:
            raise CommandRefused(ResultReason.MALFORMED, "expires_at must be after issued_at")
        if command.expires_at <= now:
            raise CommandRefused(ResultReason.EXPIRED, f"expired at {command.expires_at.isoformat()}")
        if command.issued_at > now + settings.clock_skew:
            raise CommandRefused(ResultReason.NOT_YET_VALID, "issued_at is in the future")
        if command.expires_at - command.issued_at > settings.max_lifetime:
            raise CommandRefused(ResultReason.LIFETIME_TOO_LONG,
                                 f"lifetime over {int(settings.max_lifetime.total_seconds())} s")

    def _run_once(self, command: Command, check: SignatureCheck | None, payload: bytes,
                  now: datetime) -> CommandResult:
        if command.name not in SIGNED_COMMANDS:     # read-only (request-status): no replay guard needed
            return self._execute(command)
        digest = hashlib.sha256(command.topic.encode("utf-8", "replace") + b"\x00" + payload).hexdigest()
        # Ids are kept for the clock skew beyond expiry, measured on the journal's steady clock too:
        # a wall clock stepped forward and back (NTP, or an operator) must not revive one.
        skew = self._settings.clock_skew
        self._journal.prune(now - skew)
        seen = self._journal.seen(command.command_id)
        if seen is not None:
            return self._repeat(command, seen.digest == digest, seen.result)
        forgotten = self._journal.forgotten_until()
        if forgotten is not None and command.expires_at <= forgotten:
            raise CommandRefused(ResultReason.CLOCK_UNTRUSTED,
                                 "expires before a command the replay guard has forgotten", alarm=True)
        self._journal.claim(command.command_id, digest, command.expires_at, (command.expires_at - now) + skew)
        result = self._execute(command)
        try:
            self._journal.finish(command.command_id, result.to_dict())
        except JournalError as exc:  # the effect happened: answer what it was, not a failure
            log.error("cannot record the result of command %s: %s", command.name.value, exc)
        self._audit(command, command.name, check, result)
        return result

    def _repeat(self, command: Command, same: bool, first: dict | None) -> CommandResult:
        if not same:
            raise CommandRefused(ResultReason.REPLAYED, "command id already used", alarm=True)
        first_outcome = {"first_status": first["status"], "first_reason": first["reason"]} if first \
            else {"first_status": "unknown"}
        return CommandResult(CommandStatus.ACK if first and first["status"] == "ack" else CommandStatus.NACK,
                             ResultReason.DUPLICATE, command.command_id, command.name.value,
                             "already handled; not run again", result=first_outcome)

    def _execute(self, command: Command) -> CommandResult:
        try:
            outcome = HANDLERS[command.name](command, self._ports)
        except CommandRefused as refused:
            return self._refusal(refused, command.name, command)
        except PkiUpdateRefused as exc:
            return self._nack(command, ResultReason.PKI_REFUSED, str(exc), exc.result)
        except AlertVersionConflict as exc:
            return self._nack(command, ResultReason.VERSION_CONFLICT, str(exc),
                              {"active_version": exc.active})
        except AlertListInvalid as exc:
            return self._nack(command, ResultReason.INVALID_PARAMS, str(exc))
        except AlertStoreError as exc:
            return self._nack(command, ResultReason.STORE_FAILED, str(exc))
        except GateError as exc:  # the lane refused (e.g. emergency active, door fault)
            return self._nack(command, ResultReason.LANE_REFUSED, f"{type(exc).__name__}: {exc}")
        log.info("command %s accepted", command.name.value)
        return CommandResult(CommandStatus.ACK, ResultReason.OK, command.command_id,
                             command.name.value, result=outcome)

    def _nack(self, command: Command, reason: ResultReason, detail: str,
              result: dict | None = None) -> CommandResult:
        log.info("command %s refused: %s", command.name.value, reason.value)
        return CommandResult(CommandStatus.NACK, reason, command.command_id, command.name.value,
                             detail[:200], result=result or {})

    def _audit(self, command: Command | None, name: CommandName | None,
               check: SignatureCheck | None, result: CommandResult) -> None:
        """Security-state commands and every refused signature go to the audit trail."""
        if name not in SIGNED_COMMANDS and not result.alarm:
            return
        log.debug("audit: command %s by operator %s", name, command.operator_id if command else None)
        entry = AuditEntry(self._now().isoformat(), result.command_id, result.command,
                           command.operator_id if command else None, check.key_id if check else None,
                           result.status.value, result.reason.value,
                           result.detail or json.dumps(result.result, sort_keys=True)[:200])
        try:
            self._journal.audit(entry)
        except JournalError as exc:
            log.error("cannot write the command audit trail: %s", exc)


def _require_valid(check: SignatureCheck | None) -> None:
    if check is not None and not check.valid:
        raise CommandRefused(_SIGNATURE_REASONS[check.status], check.status.value, alarm=True)


# -- the handlers: what each verified command does, through the ports ------------------------------
MAX_STATUS_KEYS = 64
MAX_PKI_FILES = 16
_PKI_FILE_NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class OverrideAction(str, enum.Enum):
    OPEN = "open"
    CLOSE = "close"


class Door(str, enum.Enum):
    ENTRY = "entry"
    EXIT = "exit"
    ALL = "all"


class LaneControl(Protocol):
    """The lane as commands see it. A refusal is raised as a GateError subclass."""

    def set_mode(self, mode: LaneMode, operator_id: str | None) -> None: ...

    def override_door(self, action: OverrideAction, door: Door, operator_id: str, command_id: str) -> None: ...

    def request_status(self) -> dict: ...


class PkiUpdater(Protocol):
    """The CSCA trust store as commands see it: import (name, bytes) files, return a per-file
    report; raise PkiUpdateRefused when any file is refused."""

    def apply(self, files: list[tuple[str, bytes]]) -> dict: ...


class UpdatePort(Protocol):
    """Software updates as commands see them: start fetching the package the signed command names
    and return at once; raise ValueError for unusable parameters or a busy updater."""

    def start(self, topic: str, body: dict, command_id: str, params: dict) -> dict: ...


@dataclass(frozen=True)
class CommandPorts:
    lane: LaneControl
    alerts: AlertStore | None = None
    pki: PkiUpdater | None = None
    updates: UpdatePort | None = None


def _choice(params: dict, key: str, enum_type: type[enum.Enum]):
    try:
        return enum_type(params.get(key))
    except ValueError:
        allowed = ", ".join(str(m.value) for m in enum_type)
        raise CommandRefused(ResultReason.INVALID_PARAMS, f"{key} must be one of: {allowed}") from None


def _set_mode(command: Command, ports: CommandPorts) -> dict:
    mode = _choice(command.params, "mode", LaneMode)
    ports.lane.set_mode(mode, command.operator_id)
    return {"mode": mode.value}


def _override(command: Command, ports: CommandPorts) -> dict:
    if not command.operator_id:
        raise CommandRefused(ResultReason.INVALID_PARAMS, "an override needs operator_id")
    action = _choice(command.params, "action", OverrideAction)
    door = _choice(command.params, "door", Door)
    ports.lane.override_door(action, door, command.operator_id, command.command_id)
    return {"action": action.value, "door": door.value}


def _store(alerts: AlertStore | None) -> AlertStore:
    if alerts is None:
        raise CommandRefused(ResultReason.STORE_FAILED, "no alert-list store on this device")
    return alerts


def _alerts_replace(command: Command, ports: CommandPorts) -> dict:
    p, alerts = command.params, ports.alerts
    if "parts" in p or "part" in p:
        progress = _store(alerts).replace_part(p.get("list_id"), p.get("kind"), p.get("version"),
                                               p.get("part"), p.get("parts"), p.get("entries"))
        return {"list_id": p["list_id"], "version": p["version"], **progress}
    count = _store(alerts).replace(p.get("list_id"), p.get("kind"), p.get("version"), p.get("entries"))
    return {"list_id": p["list_id"], "version": p["version"], "entry_count": count}


def _alerts_delta(command: Command, ports: CommandPorts) -> dict:
    p, alerts = command.params, ports.alerts
    count = _store(alerts).apply_delta(p.get("list_id"), p.get("base_version"), p.get("version"),
                                       p.get("add", []), p.get("remove", []))
    return {"list_id": p["list_id"], "version": p["version"], "entry_count": count}


def _request_status(_command: Command, ports: CommandPorts) -> dict:
    status, alerts = ports.lane.request_status(), ports.alerts
    if not isinstance(status, dict) or len(status) > MAX_STATUS_KEYS:
        raise CommandRefused(ResultReason.INTERNAL_ERROR, "the lane gave no usable status")
    result = {"lane": dict(status)}
    if alerts is not None:
        result["alert_lists"] = dict(alerts.versions().items())
    return result


def _pki_update(command: Command, ports: CommandPorts) -> dict:
    files = _pki_files(command.params.get("files"))
    if ports.pki is None:
        raise CommandRefused(ResultReason.STORE_FAILED, "no CSCA trust store on this device")
    return ports.pki.apply(files)


def _pki_files(files) -> list[tuple[str, bytes]]:
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_PKI_FILES:
        raise CommandRefused(ResultReason.INVALID_PARAMS, f"files must be a list of 1 to {MAX_PKI_FILES}")
    decoded = []
    for item in files:
        name = item.get("name") if isinstance(item, dict) else None
        data = item.get("data") if isinstance(item, dict) else None
        if not isinstance(name, str) or not _PKI_FILE_NAME.match(name) or not isinstance(data, str):
            raise CommandRefused(ResultReason.INVALID_PARAMS, "each file needs a plain name and base64 data")
        try:
            decoded.append((name, base64.b64decode(data, validate=True)))
        except (binascii.Error, ValueError):
            raise CommandRefused(ResultReason.INVALID_PARAMS, f"{name}: data is not base64") from None
    return decoded


def _update_apply(command: Command, ports: CommandPorts) -> dict:
    if ports.updates is None:
        raise CommandRefused(ResultReason.STORE_FAILED, "no updater on this device")
    try:
        return ports.updates.start(command.topic, command.body, command.command_id, command.params)
    except ValueError as exc:
        raise CommandRefused(ResultReason.INVALID_PARAMS, str(exc)) from None


Handler = Callable[[Command, CommandPorts], dict]
HANDLERS: dict[CommandName, Handler] = {
    CommandName.SET_MODE: _set_mode,
    CommandName.OVERRIDE: _override,
    CommandName.ALERTS_REPLACE: _alerts_replace,
    CommandName.ALERTS_DELTA: _alerts_delta,
    CommandName.REQUEST_STATUS: _request_status,
    CommandName.PKI_UPDATE: _pki_update,
    CommandName.UPDATE_APPLY: _update_apply,
}
