"""gate-app's side of the updater's alarm spool (alarms.py): each alarm goes into the outbox as an
`alarms` message, then its file is removed. The alarm's id is the message's msg_id, so a crash
between the two sends it once (the outbox keeps one record per msg_id)."""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from pathlib import Path

from firmware_app.errors import GateError

from .alarms import AlarmSpool, DeployAlarm

log = logging.getLogger(__name__)
# (kind, severity, detail, msg_id): stores the alarm durably or raises a GateError
RaiseAlarm = Callable[[str, str, str, uuid.UUID], None]


def forward_deploy_alarms(data_dir: Path, raise_alarm: RaiseAlarm) -> list[DeployAlarm]:
    spool = AlarmSpool(data_dir)
    forwarded = []
    for alarm in spool.pending():
        try:
            raise_alarm(alarm.kind, alarm.severity, f"{alarm.detail} (raised {alarm.raised_at})"[:512],
                        uuid.UUID(alarm.alarm_id))
        except GateError as exc:    # e.g. the outbox is full: the file stays, tried at the next start
            log.error("update alarm %s not stored: %s", alarm.kind, type(exc).__name__)
            continue
        spool.done(alarm.alarm_id)
        forwarded.append(alarm)
    return forwarded
