"""The status socket and the metrics textfile as one part of the appliance, built from the config.

    service = StatusService.from_config(config, sources)   # sources: snapshot.StatusSources
    service.start()  ...  service.stop()

Neither may stop the lane: a socket that cannot be bound or a textfile that cannot be written is
logged, and the gate goes on serving travellers.
"""
from __future__ import annotations

import logging
from pathlib import Path

from .metrics import TextfileWriter
from .server import StatusServer
from .snapshot import StatusSources, build_snapshot

log = logging.getLogger(__name__)


def socket_path(config) -> Path:
    return Path(config.status.socket or Path(config.device.data_dir) / "status.sock")


class StatusService:
    def __init__(self, sources: StatusSources, socket: Path, group: str | None = None,
                 textfile: Path | None = None, interval_s: float = 15.0):
        self.sources = sources
        self.server = StatusServer(socket, self.snapshot, group=group)
        self.metrics = TextfileWriter(textfile, self.snapshot, interval_s) if textfile else None
        self._serving = False

    @classmethod
    def from_config(cls, config, sources: StatusSources) -> StatusService:
        return cls(sources, socket_path(config), config.status.group, config.metrics.textfile,
                   config.metrics.interval_s)

    def snapshot(self) -> dict:
        return build_snapshot(self.sources)

    def start(self) -> None:
        try:
            self.server.start()
            self._serving = True
        except (OSError, KeyError) as exc:     # KeyError: the configured group does not exist
            log.error("status socket %s not available: %s", self.server.path, exc)
        if self.metrics is not None:
            self.metrics.start()

    def stop(self) -> None:
        if self.metrics is not None:
            self.metrics.stop()
        if self._serving:
            self.server.stop()
            self._serving = False
