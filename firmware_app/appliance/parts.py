"""The traveller-facing parts: kiosk and face stage builders, the view tee, and their stand-ins.

A stand-in never pretends: it refuses every call with the ComponentUnavailable that explains why,
so the lane refers (and is out of service anyway through the matching device fault).
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

from firmware_app.config.onestop_people import wording
from firmware_app.errors import GateError
from firmware_app.kiosk.errors import KioskError

from .errors import ComponentUnavailable

log = logging.getLogger("gate.app.parts")


class NullKiosk:
    """No screen could be built: views are dropped (the lane is out of service anyway)."""

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def show(self, view) -> None:
        log.debug("no kiosk: view %s not shown", getattr(view, "screen", view))


def build_kiosk(config, on_input):
    from firmware_app.kiosk.server import KioskServer
    try:
        kiosk = KioskServer.from_config(config.kiosk, on_input)
    except KioskError as exc:
        raise ComponentUnavailable("kiosk", f"{type(exc).__name__}: {exc}") from exc
    if config.authority:        # a one-stop lane: each authority's wording of its own screens
        kiosk.reword(wording(config.authority))
    return kiosk


class ViewTee:
    """The lane's KioskPort: the kiosk first, then each observer (a test bench watching the screens).
    Views are shown on every state change, so observers see the lane's transitions in order."""

    def __init__(self, kiosk):
        self.kiosk = kiosk
        self.observers: list = []

    def show(self, view) -> None:
        self.kiosk.show(view)
        for observer in list(self.observers):
            try:
                observer(view)
            except Exception as exc:  # an observer must never stop the lane's own screen updates
                log.error("view observer failed: %s", type(exc).__name__)


def model_version(models_dir: Path) -> str:
    from firmware_app.face.models import load_manifest
    entry = load_manifest(models_dir).models.get("recognizer", {})
    return f"{entry.get('name', 'recognizer')}@{str(entry.get('sha256', ''))[:12]}"


def models_dir_of(config, base_dir: Path) -> Path:
    directory = Path(config.face.models_dir)
    return directory if directory.is_absolute() else Path(base_dir) / directory


def build_face_stage(config, camera, vault, base_dir: Path):
    """Hash-checks and warms both models before returning (the app reports ready only after)."""
    from firmware_app.face.capture import CapturePlan
    from firmware_app.face.verifier import verifier_from_config
    from firmware_app.lane.stages import FaceCaptureStage
    try:
        verifier = verifier_from_config(config.face, base_dir)
        version = model_version(models_dir_of(config, base_dir))
    except GateError as exc:
        raise ComponentUnavailable("face models", f"{type(exc).__name__}: {exc}") from exc
    plan = CapturePlan(budget_s=config.face.budget_s, attempts=config.face.attempts)
    return FaceCaptureStage(verifier, camera, time.monotonic, vault, version, plan)


class RefusingFaceStage:
    def __init__(self, error: ComponentUnavailable):
        self.error = error

    def __call__(self, txn_id, round_no, feedback, cancelled):
        raise self.error
