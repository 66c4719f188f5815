"""The blocking stages the runner calls on worker threads, built on the existing modules:
chip = emrtd read + passive authentication + DG1 comparison; face = the capture loop against the
chip portrait, its first frame chosen while the chip is read (`FaceCaptureStage.early`,
face_early.py). The portrait and the early frames pass from one to the other through a
`PortraitVault` keyed by transaction, never through the state machine, and are discarded when the
transaction ends.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import numpy as np

from firmware_app.emrtd.budget import ReadBudget
from firmware_app.emrtd.chip_auth.card_security import confirm_chain
from firmware_app.emrtd.chip_auth.pace_match import authentic_copies, check_pace_parameters
from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.errors import AuthenticationError, LdsError
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import MrzKey, mrz_key_from_lines
from firmware_app.emrtd.lds import Dg1Check, compare_with_printed, parse_dg1, parse_dg2
from firmware_app.emrtd.lds.sod import SecurityObject, parse_sod
from firmware_app.emrtd.pa import passive_authenticate
from firmware_app.emrtd.reader import DocumentRead, ReadOptions, read_document
from firmware_app.emrtd.vouch import SodVouch
from firmware_app.face.capture import CaptureLoop, CapturePlan
from firmware_app.face.errors import ImageUnreadable, ReferenceUnusable
from firmware_app.face.quality import instruction_for
from firmware_app.face.untrusted import (
    PORTRAIT_LIMITS,
    ImageKind,
    PortraitStreamCheck,
    UntrustedImageDecoder,
    shared_decoder,
)
from firmware_app.mrz import MrzResult, confirmed_by_chip
from firmware_app.policy import ChipEvidence, FaceEvidence
from firmware_app.policy.evidence import TrustView

from .authority_trust import AuthorityTrust
from .errors import PortraitMissing, StageCancelled
from .face_early import EarlyFrames, capture_early, reference_of, take
from .portrait_early import PortraitCandidate, start_decode


class PortraitVault:
    """Chip portraits of running transactions (BGR arrays) and, when `keep_live` (the officer
    console shows them), the best-scoring live frame; thread-safe; nothing kept after the end."""

    def __init__(self, keep_live: bool = False):
        self._lock = threading.Lock()
        self._portraits: dict[str, np.ndarray] = {}
        self._live: dict[str, tuple[float, np.ndarray]] = {}
        self._early: dict[str, EarlyFrames] = {}
        self._candidates: dict[str, PortraitCandidate] = {}     # portraits decoded during the read
        self._changed = threading.Condition(self._lock)
        self.keep_live = keep_live

    def put(self, txn_id: str, portrait: np.ndarray) -> None:
        with self._lock:
            self._portraits[txn_id] = portrait

    def get(self, txn_id: str) -> np.ndarray:
        with self._lock:
            portrait = self._portraits.get(txn_id)
        if portrait is None:
            raise PortraitMissing("no chip portrait for this transaction")
        return portrait

    def offer_live(self, txn_id: str, image: np.ndarray, score: float | None) -> None:
        """Keep the frame if it scored best so far (only while the portrait is held: not after the end)."""
        if not self.keep_live:
            return
        with self._lock:
            best = self._live.get(txn_id)
            if txn_id in self._portraits and (best is None or (score or -1.0) > best[0]):
                self._live[txn_id] = (score or -1.0, image)

    def peek(self, txn_id: str, live: bool) -> np.ndarray | None:
        """The portrait (or kept live frame) of a running transaction, or None."""
        with self._lock:
            if live:
                kept = self._live.get(txn_id)
                return kept[1] if kept else None
            return self._portraits.get(txn_id)

    def open_early(self, txn_id: str, started: float) -> EarlyFrames | None:
        """A slot for the transaction's early frames; None when one exists (or the face stage came first)."""
        with self._lock:
            if txn_id in self._early:
                return None
            slot = self._early[txn_id] = EarlyFrames(started)
            return slot

    def take_early(self, txn_id: str) -> EarlyFrames | None:
        """The early slot for the face stage (left in place, marked taken, until the discard)."""
        with self._lock:
            slot = self._early.get(txn_id)
            if slot is None:
                self._early[txn_id] = EarlyFrames.taken()
            else:
                slot.handover.set()         # stop choosing frames and waiting for the portrait
                self._changed.notify_all()
            return slot

    def put_candidate(self, txn_id: str, candidate: PortraitCandidate) -> None:
        with self._lock:
            self._candidates[txn_id] = candidate
            self._changed.notify_all()

    def candidate_decoded(self) -> None:
        with self._lock:
            self._changed.notify_all()

    def candidate(self, txn_id: str) -> PortraitCandidate | None:
        with self._lock:
            return self._candidates.get(txn_id)

    def decoded_candidate(self, txn_id: str, timeout: float, stop: Callable[[], bool]) -> PortraitCandidate | None:
        """Wait until the read's portrait is decoded (or `stop()`, told by take_early/discard)."""
        def ready() -> bool:
            candidate = self._candidates.get(txn_id)
            return stop() or (candidate is not None and candidate.done.is_set())
        with self._lock:
            self._changed.wait_for(ready, timeout)
            return self._candidates.get(txn_id)

    def discard(self, txn_id: str) -> None:
        with self._lock:
            self._portraits.pop(txn_id, None)
            self._live.pop(txn_id, None)
            self._candidates.pop(txn_id, None)
            slot = self._early.pop(txn_id, None)
            if slot is not None:
                slot.handover.set()     # an early capture still running stops at its next frame
            self._changed.notify_all()

    def __len__(self) -> int:
        with self._lock:
            return len(self._portraits)


class ChipReadStage:
    """`open_transceiver()` gives a fresh transport to the card (closed after the read)."""

    def __init__(self, open_transceiver: Callable, trust_store, rng: Callable[[int], bytes],
                 monotonic: Callable[[], float], now: Callable[[], datetime], vault: PortraitVault,
                 options: ReadOptions = ReadOptions(), budget: ReadBudget = ReadBudget(),
                 decoder: UntrustedImageDecoder | None = None):
        self.open_transceiver, self.trust_store, self.rng = open_transceiver, trust_store, rng
        self.monotonic, self.now, self.vault, self.options = monotonic, now, vault, options
        self.budget, self.decoder = budget, decoder or shared_decoder()
        self.authority_trust: AuthorityTrust | None = None    # a one-stop lane's stores (authority_trust.py)

    def __call__(self, txn_id: str, mrz: MrzResult, cancelled: threading.Event) -> ChipEvidence:
        if not mrz.valid and mrz.candidates:
            return self._read_with_candidates(txn_id, mrz, cancelled)
        read = self._read(mrz_key_from_lines(list(mrz.lines)), cancelled, txn_id)
        return self.evidence(txn_id, read, mrz, cancelled)

    def _read(self, key, cancelled: threading.Event, txn_id: str) -> DocumentRead:
        vouch = SodVouch(trusted=self._sod_trusted)

        def mandatory_read(files) -> None:      # the portrait is decoded while CA/AA go on
            candidate = start_decode(files, vouch, self.decoder, cancelled.is_set,
                                     lambda decoded: self.vault.candidate_decoded())
            if candidate is not None:
                self.vault.put_candidate(txn_id, candidate)
        return read_document(self.open_transceiver(), key, self.rng, self.monotonic, self.options,
                             vouch=vouch, budget=self.budget, mandatory_read=mandatory_read,
                             cancelled=cancelled.is_set, watch=_watch)  # a traveller who left stops the read

    def _read_with_candidates(self, txn_id: str, mrz: MrzResult, cancelled: threading.Event) -> ChipEvidence:
        """An invalid MRZ's repair candidates, one BAC key at a time (the parser bounds how many).
        A candidate is adopted only when its key opened the chip and the chip's DG1 equals it:
        BAC vouches for the key fields, DG1 (under passive authentication) for the rest."""
        failure: AuthenticationError | None = None
        for key, readings in _candidate_keys(mrz):
            if cancelled.is_set():
                raise StageCancelled("chip read cancelled between candidate keys")
            try:
                read = self._read(key, cancelled, txn_id)
            except AuthenticationError as exc:
                failure = exc       # the chip refused this reading's key: try the next one
                continue
            return self._adopt(txn_id, read, mrz, readings, cancelled)
        raise failure or AuthenticationError("BAC", "no repair candidate gives a usable key")

    def _adopt(self, txn_id: str, read: DocumentRead, mrz: MrzResult, readings: list[MrzResult],
               cancelled: threading.Event) -> ChipEvidence:
        chip_mrz = _chip_dg1(read)
        match = next((c for c in readings if chip_mrz is not None
                      and compare_with_printed(chip_mrz, list(c.lines)) is Dg1Check.MATCH), None)
        evidence = self.evidence(txn_id, read, match or mrz, cancelled)
        return replace(evidence, confirmed_mrz=confirmed_by_chip(match)) if match else evidence

    def _sod_trusted(self, sod: SecurityObject) -> bool:
        """CA/AA maths only on keys a trusted Document Signer signed: the SOD's signature and chain."""
        trusted = passive_authenticate(sod, {}, self.trust_store, self.now()).passed
        return trusted or (self.authority_trust is not None and self.authority_trust.trusts(sod, self.now()))

    def evidence(self, txn_id: str, read: DocumentRead, mrz: MrzResult,
                 cancelled: threading.Event | None = None) -> ChipEvidence:
        passive = _passive(read, self.trust_store, self.now())
        base = _hidden_checks_failed(ChipEvidence.from_read(read, passive, _dg1_check(read, mrz)), read)
        views = self._authority_views(base, read)
        vouched = any(pa is not None and pa.passed for pa in (passive, *(v.passive for _, v in views)))
        self._keep_portrait(txn_id, read, vouched, cancelled)
        # an ended transaction's vault entry is already discarded: a late portrait must not stay behind
        # (the runner sets `cancelled` before it discards, so checking after the put closes the race)
        if cancelled is not None and cancelled.is_set():
            self.vault.discard(txn_id)
        evidence = _card_security_chain(base, read, passive, self.trust_store, self.now())
        evidence = _pace_parameters(evidence, read, passive)
        return replace(evidence, views=views) if views else evidence

    def _authority_views(self, base: ChipEvidence, read: DocumentRead) -> tuple[tuple[str, TrustView], ...]:
        """Each authority's own judgement of the same read (a one-stop lane with its own stores). The
        PACE downgrade check too: a signed copy of the PACEInfos proves something only to an
        authority whose anchors vouch for its signer (its own PA, its own CAM chain)."""
        if self.authority_trust is None:
            return ()
        views = []
        for role, store in self.authority_trust.stores():
            passive = _passive(read, store, self.now())
            own = _pace_parameters(_card_security_chain(base, read, passive, store, self.now()), read, passive)
            views.append((role, TrustView(passive, own.chip_auth, own.pace_parameters)))
        return tuple(views)

    def _keep_portrait(self, txn_id: str, read: DocumentRead, vouched: bool,
                       cancelled: threading.Event | None) -> None:
        """Decode the portrait only when passive authentication vouched for it (an attacker's image
        is never decoded), in the decode worker with pixel, scan and time limits. On a one-stop
        lane any authority's own store may vouch: the other's policy still refers on its own PA."""
        data = read.files.get(LdsFile.DG2)
        if data is None or not vouched:
            return      # the face stage will report the missing portrait; the policy refers
        candidate = self.vault.candidate(txn_id)
        decoded, image = candidate.result_for(data) if candidate is not None else (False, None)
        try:
            if not decoded:       # not decoded during the read (or other bytes): decode now
                face = parse_dg2(data).portrait
                stop = cancelled.is_set if cancelled is not None else (lambda: False)
                image = self.decoder.decode(face.image, ImageKind.PORTRAIT, stop, PORTRAIT_LIMITS)
        except (LdsError, ImageUnreadable):
            return
        if image is not None:
            self.vault.put(txn_id, image)


def _watch(file: LdsFile):
    """A portrait over the pixel or scan limit stops the read as soon as its header arrives."""
    return PortraitStreamCheck(PORTRAIT_LIMITS) if file is LdsFile.DG2 else None


# EF.COM is not signed: a clone may drop DG14/DG15 from it (or refuse to read them) to skip CA/AA.
_SIGNED_CHECK_FILES = ((14, "chip_auth", ChipCheck.CHIP_AUTHENTICATION),
                       (15, "active_auth", ChipCheck.ACTIVE_AUTHENTICATION))


def _hidden_checks_failed(evidence: ChipEvidence, read: DocumentRead) -> ChipEvidence:
    """A DG14/DG15 hashed in the SOD but not presented by the chip fails its check."""
    signed = _sod_groups(read)
    presented = read.data_groups
    for number, name, check in _SIGNED_CHECK_FILES:
        current = getattr(evidence, name)
        if current is not None and current.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING:
            continue  # PACE-CAM proved the chip's key without DG14
        if number in signed and number not in presented:
            failed = ChipCheckResult.failed(check, ChipCheckReason.CHIP_REFUSED,
                                            f"DG{number} signed in the SOD but not presented")
            changes: dict[str, Any] = {name: failed}
            evidence = replace(evidence, **changes)
    return evidence


def _card_security_chain(evidence: ChipEvidence, read: DocumentRead, passive, trust_store,
                         now: datetime) -> ChipEvidence:
    """A passed PACE-CAM counts only if EF.CardSecurity's signer chains like the SOD's (else: clone)."""
    if evidence.chip_auth is None:
        return evidence
    chain_valid = passive.chain_valid if passive is not None else None
    confirmed = confirm_chain(evidence.chip_auth, read.card_security, chain_valid, trust_store, now)
    return evidence if confirmed is evidence.chip_auth else replace(evidence, chip_auth=confirmed)


def _passive(read: DocumentRead, store, now: datetime):
    if LdsFile.SOD not in read.files:
        return None
    return passive_authenticate(read.files[LdsFile.SOD], read.data_groups, store, now)


def _pace_parameters(evidence: ChipEvidence, read: DocumentRead, passive) -> ChipEvidence:
    """EF.CardAccess (unsigned, read before PACE) must equal the signed PACEInfos: else a man in
    the middle may have pushed the lane to a weaker protocol or domain."""
    chip_auth = evidence.chip_auth
    cam_confirmed = (chip_auth is not None and chip_auth.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING
                     and chip_auth.passed)
    copies = authentic_copies(read.files.get(LdsFile.DG14), passive is not None and passive.passed,
                              read.card_security, cam_confirmed)
    return replace(evidence, pace_parameters=check_pace_parameters(read.card_access, copies))


def _sod_groups(read: DocumentRead) -> frozenset[int]:
    try:
        return frozenset(parse_sod(read.files[LdsFile.SOD]).dg_hashes)
    except (KeyError, LdsError):
        return frozenset()      # passive authentication reports the missing or malformed SOD


def _candidate_keys(mrz: MrzResult) -> list[tuple[MrzKey, list[MrzResult]]]:
    """Distinct BAC keys of the candidates, in the parser's order, each with its readings (a
    country-code or optional-data repair shares the printed key; DG1 then tells them apart)."""
    keys: dict[bytes, tuple[MrzKey, list[MrzResult]]] = {}
    for candidate in mrz.candidates:
        try:
            key = mrz_key_from_lines(list(candidate.lines))
            keys.setdefault(key.information(), (key, []))[1].append(candidate)
        except AuthenticationError:
            continue        # a layout without BAC key support here
    return list(keys.values())


def _chip_dg1(read: DocumentRead):
    try:
        return parse_dg1(read.files[LdsFile.DG1])
    except (KeyError, LdsError):
        return None


def _dg1_check(read: DocumentRead, mrz: MrzResult) -> Dg1Check | None:
    try:
        return compare_with_printed(parse_dg1(read.files[LdsFile.DG1]), list(mrz.lines))
    except (KeyError, LdsError):
        return None


class _CancellableCamera:
    """Stops a capture between frames once its transaction has ended."""

    def __init__(self, camera, cancelled: threading.Event):
        self.camera, self.cancelled = camera, cancelled

    def read(self):
        if self.cancelled.is_set():
            raise StageCancelled("face capture cancelled")
        return self.camera.read()


class FaceCaptureStage:
    """One capture at a time: a new transaction's capture waits for the camera (its timer runs)."""

    def __init__(self, verifier, camera, monotonic: Callable[[], float], vault: PortraitVault,
                 model_version: str, plan: CapturePlan = CapturePlan()):
        self.verifier, self.camera, self.monotonic = verifier, camera, monotonic
        self.vault, self.model_version, self.plan = vault, model_version, plan
        self._camera_lock = threading.Lock()

    def __call__(self, txn_id: str, round_no: int, feedback: Callable[[str | None], None],
                 cancelled: threading.Event) -> FaceEvidence:
        portrait = self.vault.get(txn_id)
        early = self.vault.take_early(txn_id) if round_no == 1 else None
        reference = reference_of(early, portrait) or self.verifier.reference(portrait)
        loop = CaptureLoop(self.verifier, _CancellableCamera(self.camera, cancelled), self.monotonic, self.plan,
                           on_feedback=lambda issues: feedback(instruction_for(issues)),
                           on_compared=lambda image, verdict: self.vault.offer_live(txn_id, image, verdict.score))
        first = take(early, self.monotonic)
        with self._camera_lock:
            return FaceEvidence.from_capture(loop.run(reference, first), self.model_version)

    def early(self, txn_id: str, cancelled: threading.Event) -> None:
        """Blocking, while the chip is read: choose the first attempt's frame (no kiosk feedback,
        no answer to the lane). Bounded by the capture budget, the transaction's end and the hand-over."""
        slot = self.vault.open_early(txn_id, self.monotonic())
        if slot is None:
            return
        loop = CaptureLoop(self.verifier, _CancellableCamera(self.camera, cancelled), self.monotonic, self.plan)
        try:
            with self._camera_lock:
                capture_early(loop, slot, slot.started + self.plan.budget_s)
            self._early_reference(txn_id, slot, cancelled)
        finally:
            slot.referenced.set()

    def _early_reference(self, txn_id: str, slot: EarlyFrames, cancelled: threading.Event) -> None:
        """The reference from the portrait decoded during the read, unless the face stage took over
        (the vault wakes this wait on the hand-over and on the transaction's end)."""
        stop = lambda: slot.handover.is_set() or cancelled.is_set()  # noqa: E731
        candidate = self.vault.decoded_candidate(txn_id, self.plan.budget_s, stop)
        if candidate is None or candidate.image is None or slot.handover.is_set():
            return
        try:
            slot.reference = (candidate.image, self.verifier.reference(candidate.image))
        except ReferenceUnusable:
            return      # the face stage meets it again and reports it
