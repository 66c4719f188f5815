"""Commands from the BMIS: verify, guard against replay, run, answer. Never raises.

    processor = CommandProcessor(CommandSettings(prefix, device_id), trust=TrustStore.from_directory(d),
                                 journal=CommandJournal.open(p), alerts=alert_store, lane=lane_port,
                                 clock=utc_now, on_alarm=alarm_sink)
    link = BmisLink(outbox, ..., handle_command=processor.handle)

Checks, in order: topic (this device, known command), size, JSON object, envelope fields,
signature (commands that change security state; a bad one is an alarm), validity window
(expired, issued in the future, lifetime over the maximum), replay guard (security commands only,
kept on a steady clock: see command_journal.py), parameters. Then the
effect runs through the injected `LaneControl` or the alert store, and the result is journaled.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from firmware_app.errors import GateError

from .alert_store import AlertStore
from .command_errors import AlertListInvalid, AlertStoreError, AlertVersionConflict, PkiUpdateRefused
from .command_journal import AuditEntry, CommandJournal, JournalError
from .command_handlers import HANDLERS, CommandPorts, LaneControl, PkiUpdater
from .command_model import (SIGNED_COMMANDS, Command, CommandName, CommandRefused, CommandResult,
                            CommandStatus, ResultReason, command_name_of, decode_json,
                            parse_command)
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
                 on_alarm: AlarmSink | None = None, pki: PkiUpdater | None = None):
        self._settings, self._trust, self._journal = settings, trust, journal
        self._clock, self._on_alarm = clock, on_alarm
        self._ports = CommandPorts(lane, alerts, pki)

    def handle(self, topic: str, payload: bytes, response_topic: str | None = None,
               correlation_data: bytes | None = None) -> dict:
        """The cmd-result body for one incoming command. Response routing is the link's job."""
        try:
            return self._handle(topic, payload).to_dict()
        except Exception as exc:  # noqa: BLE001 - last resort at the MQTT boundary: answer, never crash
            # Type only above DEBUG: the message of an unexpected error may echo alert-list entries.
            log.error("command processing failed: %s", type(exc).__name__)
            log.debug("command processing failure", exc_info=True)
            return CommandResult(CommandStatus.NACK, ResultReason.INTERNAL_ERROR).to_dict()

    def _now(self) -> datetime:
        return self._clock().astimezone(timezone.utc)

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
