"""Errors of the BMIS command side: signatures, trust store, alert-list store, statistics.

A command handler never lets these escape to the MQTT client: it turns them into a nack with a
reason code. They exist so the pieces below the handler can say precisely what went wrong.
"""
from __future__ import annotations

from firmware_app.errors import GateError


class BmisCommandError(GateError):
    """Base of the errors raised by commands, signing, the alert-list store and statistics."""


class NotCanonical(BmisCommandError):
    """A command cannot be turned into canonical signing bytes (float, deep nesting, bad key)."""


class TrustStoreError(BmisCommandError):
    """The directory of BMIS public keys is unreadable or holds something that is not a key."""


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
