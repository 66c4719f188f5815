"""Every read has a budget: APDUs per file from the file's announced size, wall time for the
whole document, and the caller's cancel signal, all checked between APDUs.

A chip that answers each READ BINARY with one byte needs a thousand times the APDUs of a genuine
one (16,609 APDUs for a 15 KB portrait); a file may cost at most one APDU per `min_block` bytes
plus `slack_apdus` for the header, retries and re-authentication.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from firmware_app.emrtd.errors import ReadBudgetExceeded, ReadCancelled

DEFAULT_TIME_S = 30.0  # tools; the lane passes smartcard.read_timeout_s


@dataclass(frozen=True)
class ReadBudget:
    time_s: float = DEFAULT_TIME_S
    min_block: int = 32  # a genuine chip answers 100-65,000 bytes per READ BINARY
    slack_apdus: int = 24  # header, retries, re-selects and a few re-authentications

    def apdus_for(self, size: int) -> int:
        return -(-size // self.min_block) + self.slack_apdus


def never() -> bool:
    return False


class BudgetGuard:
    """The running budget of one read; called before every APDU (Session.guard)."""

    def __init__(self, budget: ReadBudget, clock: Callable[[], float], cancelled: Callable[[], bool] = never):
        self.budget, self.clock, self.cancelled = budget, clock, cancelled
        self.deadline = clock() + budget.time_s

    def __call__(self) -> None:
        if self.cancelled():
            raise ReadCancelled("read cancelled between APDUs")
        if self.clock() > self.deadline:
            raise ReadBudgetExceeded("document", f"read took longer than its {self.budget.time_s:g} s budget")
