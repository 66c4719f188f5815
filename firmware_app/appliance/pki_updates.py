"""The `pki-update` BMIS command on the appliance: CSCA certificates, CRLs and master lists pushed
by the BMIS go into `[smartcard] csca_dir` exactly as `gatectl pki import` puts them (master lists
pinned, CRLs only from a CSCA in the store, nothing refused is stored), then the chip stage is
given the reloaded store. The old store stays in use when the reload fails.

Runs on the BMIS command thread like an alert-list update: bounded by the command payload limit
and the master-list certificate limit; a transaction reads the store it started with.
"""
from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from firmware_app.bmis.errors import PkiUpdateRefused
from firmware_app.emrtd.errors import PaError
from firmware_app.emrtd.pa.provision import FileReport, Outcome, import_files

from . import devices
from .errors import ComponentUnavailable

log = logging.getLogger("gate.app.pki")


class TrustStoreUpdater:
    """firmware_app.bmis.command_handlers.PkiUpdater for the appliance."""

    def __init__(self, config, clock: Callable[[], datetime]):
        self._config, self._clock = config, clock
        self._stage = None
        self._on_restored: Callable[[], None] = lambda: None
        self._lock = threading.Lock()

    def attach(self, chip_stage, on_restored: Callable[[], None] = lambda: None) -> None:
        """The chip stage is built after the BMIS side; until then updates reach the disk only."""
        self._stage, self._on_restored = chip_stage, on_restored

    def apply(self, files: list[tuple[str, bytes]]) -> dict:
        with self._lock:
            reports = self._import(files)
            result: dict[str, Any] = {"files": [_summary(name, report) for (name, _), report in zip(files, reports)]}
            if any(r.outcome is Outcome.ADDED for r in reports):
                result["anchors"] = self._reload()
        refused = [r for r in reports if r.outcome is Outcome.REFUSED]
        if refused:
            raise PkiUpdateRefused(f"{len(refused)} of {len(reports)} files refused", result)
        return result

    def _import(self, files: list[tuple[str, bytes]]) -> list[FileReport]:
        section = self._config.smartcard
        spool_root = Path(self._config.device.data_dir)
        spool_root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="pki-update-", dir=spool_root) as spool:
            paths = []
            for index, (name, data) in enumerate(files):
                path = Path(spool) / f"{index:02d}-{name}"
                path.write_bytes(data)
                paths.append(path)
            try:
                return import_files(paths, Path(section.csca_dir), list(section.master_list_roots), self._clock())
            except (OSError, PaError) as exc:
                raise PkiUpdateRefused(f"trust store unusable: {exc}", {}) from exc

    def _reload(self) -> int:
        try:
            store = devices.load_trust_store(self._config)
        except ComponentUnavailable as exc:
            raise PkiUpdateRefused(f"imported, but the store does not load: {exc}", {}) from exc
        self._install(store)
        log.info("trust store reloaded after a BMIS update: %d anchors, %d CRLs", len(store.cscas), len(store.crls))
        return len(store.cscas)

    def _install(self, store) -> None:
        if self._stage is not None:
            was_missing = self._stage.trust_store is None
            self._stage.trust_store = store  # one reference swap: a running check keeps the old store
            if was_missing:
                self._on_restored()


def _summary(name: str, report: FileReport) -> dict:
    """Counts and countries, not every anchor: the answer must stay a small MQTT message."""
    return {"name": name, "kind": report.kind.value, "outcome": report.outcome.value, "reason": report.reason[:200],
            "added": len(report.anchors), "countries": sorted({a["country"] for a in report.anchors})[:300],
            "already_present": report.already_present, "expired": report.expired,
            "stored_as": report.stored_as}
