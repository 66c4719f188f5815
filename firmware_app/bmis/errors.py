"""Errors of the BMIS side, the whole tree in one place (as python-can keeps its `exceptions.py`).

    GateError (firmware_app.errors)
      BmisError
        BmisLinkError            the message contract, the outbox, the MQTT client
          ContractViolation      a message does not match its JSON Schema
          OutboxError > OutboxFull
          MqttSettingsError
          IngestError            ingest/errors.py: `bmis-ingest` is its own program
        BmisCommandError         commands, signing, the alert-list store, statistics
          NotCanonical, TrustStoreError, JournalError, StatsError, PkiUpdateRefused
          AlertStoreError > AlertListInvalid, AlertVersionConflict
          CommandRefused         commands/model.py: carries the answer's ResultReason

The lane sees OutboxFull (go out of service, doors secured, alarm); the other link errors are for
the link's own supervision and for tools. A command error never escapes to the MQTT client: the
processor turns it into a nack with a reason code; the errors exist so the pieces below it can say
precisely what went wrong.
"""
from __future__ import annotations

from firmware_app.errors import GateError


class BmisError(GateError):
    """Base of every error of the BMIS side (link, commands, ingest)."""


# -- the link: contract, outbox, MQTT ---------------------------------------------------------------
class BmisLinkError(BmisError):
    """Base of the errors raised by the contract, the outbox and the MQTT client."""


class ContractViolation(BmisLinkError):
    """A message does not match its JSON Schema (or names an unknown kind)."""

    def __init__(self, kind: str, problems: list[str]):
        self.kind, self.problems = kind, problems
        super().__init__(f"{kind}: " + "; ".join(problems))


class OutboxError(BmisLinkError):
    """The outbox database cannot be opened, read or written."""


class OutboxFull(OutboxError):
    """The outbox reached its size or age bound: the lane must stop taking travellers."""

    def __init__(self, reason: str, pending: int):
        self.reason, self.pending = reason, pending
        super().__init__(f"outbox full ({reason}), {pending} messages pending")


class MqttSettingsError(BmisLinkError):
    """TLS files or connection settings are missing or unusable."""


# -- commands: signatures, journal, alert lists, statistics, PKI updates -------------------------
class BmisCommandError(BmisError):
    """Base of the errors raised by commands, signing, the alert-list store and statistics."""


class NotCanonical(BmisCommandError):
    """A command cannot be turned into canonical signing bytes (float, deep nesting, bad key)."""


class TrustStoreError(BmisCommandError):
    """The directory of BMIS public keys is unreadable or holds something that is not a key."""


class JournalError(BmisCommandError):
    """The command journal cannot be read or written: commands are refused, not run unguarded."""


class AlertStoreError(BmisCommandError):
    """The alert-list store cannot be read or written."""


class AlertListInvalid(AlertStoreError):
    """An alert-list update is malformed (bad entry, bad version, too many entries)."""


class AlertVersionConflict(AlertStoreError):
    """A delta names a base version that is not the active one, or a version does not increase."""

    def __init__(self, list_id: str, expected: int | None, active: int | None):
        self.list_id, self.expected, self.active = list_id, expected, active
        super().__init__(f"list {list_id!r}: expected version {expected}, active is {active}")


class StatsError(BmisCommandError):
    """A crossing record cannot be counted (not a dict, unusable time)."""


class PkiUpdateRefused(BmisCommandError):
    """A trust-store update (CSCA, CRL, master list) was refused in part or whole; `result` says
    per file what happened."""

    def __init__(self, detail: str, result: dict):
        self.result = result
        super().__init__(detail)
