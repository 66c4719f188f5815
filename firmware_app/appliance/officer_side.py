"""The officer console from the config ([officer]): the review desk as the lane's OfficerPort,
the HTTPS console, its audit, and the portrait vault's images for it.

Not a lane fault when it cannot be built or cannot listen: NORMAL mode needs no officer, and in
ASSISTED mode an unanswered review refers the traveller after `lane.officer_s` (as without a
console). It is reported on the health instead (`officer_console` failed, with the reason).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from firmware_app.errors import GateError

if TYPE_CHECKING:   # the console is imported only when [officer] is enabled
    from firmware_app.officer import OfficerAudit, ReviewDesk
    from firmware_app.officer.server import OfficerConsole

log = logging.getLogger("gate.app.officer")
AUDIT_FILE = "officer-audit.db"


@dataclass
class OfficerSide:
    desk: ReviewDesk            # the lane's OfficerPort
    console: OfficerConsole
    audit: OfficerAudit

    def start(self) -> None:
        self.console.start()

    def stop(self) -> None:
        self.console.stop()
        self.audit.close()


class NoOfficerSide:
    """[officer] off, or a console that could not be built or started: no desk, nothing to run."""
    desk = None

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class BiometricStores:
    """The lane's BiometricStore over several holders (the vault, the review desk): all emptied."""

    def __init__(self, *stores):
        self.stores = [s for s in stores if s is not None]

    def discard(self, txn_id: str) -> None:
        for store in self.stores:
            store.discard(txn_id)


def vault_images(vault) -> Callable:
    """The desk's image source: the vault's portrait or kept live frame, JPEG-encoded on demand."""
    from firmware_app.face.images import encode_jpeg
    from firmware_app.officer import ImageKind

    def images(txn_id: str, kind) -> bytes | None:
        image = vault.peek(txn_id, live=kind is ImageKind.LIVE)
        return None if image is None else encode_jpeg(image)
    return images


def build_officer_side(config, submit: Callable, vault, clock: Callable[[], datetime]) -> OfficerSide:
    """Raises GateError (an officer-layer error) when the console cannot be built as configured."""
    from firmware_app.officer import OfficerAudit, OfficerStore, ReviewDesk
    from firmware_app.officer.server import OfficerConsole
    section = config.officer
    audit_path = section.audit_file or Path(config.device.data_dir) / AUDIT_FILE
    audit = OfficerAudit.open(audit_path, clock)
    try:
        desk = ReviewDesk(submit, audit, config.lane.officer_s, images=vault_images(vault), clock=clock)
        store = OfficerStore(section.credential_file, max_failures=section.max_failures, lockout_s=section.lockout_s)
        if not store.names():
            log.warning("officer console: no officer in %s (gatectl officer add)", section.credential_file)
        console = OfficerConsole(desk, store, audit, section.cert_file, section.key_file, bind=section.bind,
                                 port=section.port, device_id=config.device.id, session_s=section.session_s)
    except GateError:
        audit.close()
        raise
    return OfficerSide(desk, console, audit)
