"""Errors of the BMIS link: message contract, outbox and MQTT connection.

The lane sees OutboxFull (go out of service, doors secured, alarm); the rest are for the link's
own supervision and for tools.
"""
from __future__ import annotations

from firmware_app.errors import GateError


class BmisLinkError(GateError):
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
