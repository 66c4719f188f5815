"""The review desk: the lane's OfficerPort on one side, the officer console on the other.

The lane asks for a review (`request_review`) when an ASSISTED-mode traveller has been decided;
the desk holds that one pending review (a lane has one traveller at a time) until an officer
answers, the transaction ends (`discard`, the lane's BiometricStore hook: the images go with it),
or its time is up. The desk stops taking answers `MARGIN_S` before the lane's own `officer_s`
timer fires, so an answer it hands over still finds the lane waiting; the lane (which drops an
answer naming another transaction) stays the authority either way.

The first answer wins: it is claimed under the lock, written to the audit, and only then handed
to the lane. An answer the audit cannot record is not handed over (the lane then refers at its
timeout). Images are fetched and encoded once, on the console's first request, and only for the
pending transaction.
"""
from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from firmware_app.lane.events import OfficerDecision, OfficerVerdict
from firmware_app.policy import Decision, Evidence

from .audit import AuditAction, OfficerAudit
from .errors import StaleReview

log = logging.getLogger(__name__)
MARGIN_S = 1.0
MAX_IMAGE_BYTES = 2 * 1024 * 1024


class ImageKind(str, enum.Enum):
    PORTRAIT = "portrait"       # the chip's DG2 portrait (decoded only after passive authentication)
    LIVE = "live"               # the live frame the face stage compared


ImageSource = Callable[[str, ImageKind], "bytes | None"]     # txn_id, kind -> JPEG bytes or None


@dataclass(frozen=True)
class PendingReview:
    txn_id: str
    decision: Decision
    evidence: Evidence | None
    requested_at: datetime
    deadline: float             # monotonic: answers are taken until then
    clearable: bool = False     # one-stop: this authority's own referral, which its officer may clear

    def __repr__(self) -> str:
        return f"PendingReview(txn_id={self.txn_id!r}, outcome={self.decision.outcome.value!r})"


class ReviewDesk:
    def __init__(self, submit: Callable[[OfficerDecision], None], audit: OfficerAudit, officer_s: float, *,
                 images: ImageSource = lambda txn_id, kind: None, clock: Callable[[], datetime],
                 monotonic: Callable[[], float] = time.monotonic):
        self._submit, self._audit, self._images_source = submit, audit, images
        self.window_s = max(0.0, officer_s - MARGIN_S)
        self._clock, self._monotonic = clock, monotonic
        self._lock = threading.Lock()
        self._pending: PendingReview | None = None
        self._images: dict[ImageKind, bytes | None] = {}
        self.version = 0        # changes whenever what the console should show changes

    # --- the lane's side --------------------------------------------------------------------
    def request_review(self, txn_id: str, decision: Decision, evidence: Evidence | None = None, *,
                       clearable: bool = False) -> None:
        review = PendingReview(txn_id, decision, evidence, self._clock(), self._monotonic() + self.window_s,
                               clearable)
        with self._lock:
            self._pending, self._images = review, {}
            self.version += 1
        log.info("officer review requested for %s", txn_id)

    def discard(self, txn_id: str) -> None:
        """The transaction ended: forget its review and its images."""
        with self._lock:
            if self._pending is not None and self._pending.txn_id == txn_id:
                self._pending, self._images = None, {}
                self.version += 1

    # --- the console's side -----------------------------------------------------------------
    def pending(self) -> PendingReview | None:
        with self._lock:
            return self._open()

    def _open(self) -> PendingReview | None:
        if self._pending is not None and self._monotonic() >= self._pending.deadline:
            self._pending, self._images = None, {}      # the lane refers at its own timeout
            self.version += 1
        return self._pending

    def seconds_left(self, review: PendingReview) -> float:
        return max(0.0, review.deadline - self._monotonic())

    def decide(self, txn_id: str, verdict: OfficerVerdict, officer: str, peer: str = "") -> None:
        """Raises StaleReview when the lane is not waiting for this transaction (audited as such),
        OfficerAuditError when the answer cannot be audited (then it is not handed over)."""
        verdict = OfficerVerdict(verdict)
        with self._lock:
            review = self._open()
            fresh = review is not None and review.txn_id == txn_id
            if fresh:
                self._pending, self._images = None, {}
                self.version += 1
        self._audit.record(officer, AuditAction.DECISION, txn_id=txn_id[:64], verdict=verdict.value,
                           applied=fresh, peer=peer)
        if not fresh:
            raise StaleReview("no review is pending for this transaction")
        log.info("officer %s answered %s for %s", officer, verdict.value, txn_id)
        self._submit(OfficerDecision(txn_id, verdict, officer))

    def image(self, txn_id: str, kind: ImageKind) -> bytes | None:
        """JPEG bytes of the pending transaction's image, or None (no such image, not pending)."""
        with self._lock:
            review = self._open()
            if review is None or review.txn_id != txn_id:
                return None
            if kind in self._images:
                return self._images[kind]
        data = self._fetch(txn_id, kind)
        with self._lock:
            if self._pending is None or self._pending.txn_id != txn_id:
                return None     # ended while encoding: nothing is kept
            self._images[kind] = data
        return data

    def _fetch(self, txn_id: str, kind: ImageKind) -> bytes | None:
        try:
            data = self._images_source(txn_id, kind)
        except Exception as exc:  # an image the console cannot show must not break the review
            log.warning("officer console: %s image unavailable: %s", kind.value, type(exc).__name__)
            return None
        return data if data is not None and len(data) <= MAX_IMAGE_BYTES else None
