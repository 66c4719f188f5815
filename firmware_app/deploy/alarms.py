"""Alarms the updater raises for the BMIS. The updater runs as root outside the app, so it does
not write the outbox (root-owned WAL files would lock the app out of its own database): it drops
one JSON file per alarm into a spool in the data directory, owned like that directory, and the app
moves each into its outbox as an `alarms` message (same id: a crash in between sends it once).
"""
from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

SPOOL = "deploy-alarms"
MAX_DETAIL = 500


@dataclass(frozen=True)
class DeployAlarm:
    alarm_id: str
    kind: str            # update_rolled_back | update_rollback_failed | update_failed
    severity: str        # the contract's severity words
    detail: str
    raised_at: str

    def to_dict(self) -> dict:
        return asdict(self)


class AlarmSpool:
    def __init__(self, data_dir: Path, ids: Callable[[], uuid.UUID] = uuid.uuid4):
        self.data_dir, self.directory, self._ids = Path(data_dir), Path(data_dir) / SPOOL, ids

    def raise_alarm(self, kind: str, severity: str, detail: str, raised_at: str) -> DeployAlarm:
        alarm = DeployAlarm(str(self._ids()), kind, severity, detail[:MAX_DETAIL], raised_at)
        self.directory.mkdir(mode=0o750, parents=True, exist_ok=True)
        target = self.directory / f"{alarm.alarm_id}.json"
        partial = target.with_suffix(".partial")
        partial.write_text(json.dumps(alarm.to_dict()))
        self._own_like_data_dir(partial)
        os.replace(partial, target)
        return alarm

    def _own_like_data_dir(self, path: Path) -> None:
        owner = self.data_dir.stat()
        for item in (self.directory, path):
            if os.geteuid() == 0:
                os.chown(item, owner.st_uid, owner.st_gid)
        path.chmod(0o640)

    def pending(self) -> list[DeployAlarm]:
        alarms = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                alarm = DeployAlarm(**json.loads(path.read_text()))
                if str(uuid.UUID(alarm.alarm_id)) == alarm.alarm_id == path.stem:
                    alarms.append(alarm)
            except (OSError, ValueError, TypeError, AttributeError):
                continue     # a damaged file stays for a person to look at; it never blocks the others
        return alarms

    def done(self, alarm_id: str) -> None:
        (self.directory / f"{alarm_id}.json").unlink(missing_ok=True)
