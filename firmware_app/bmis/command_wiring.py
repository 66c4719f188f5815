"""Builds the command side from the config: trust store, journal, alert store, statistics.

    side = build_command_side(config, lane=lane_port, clock=utc_now, on_alarm=alarm_sink)
    link = build_link(config, handle_command=side.processor.handle)
    policy uses side.alerts (an AlertListChecker); the app feeds side.stats with crossing records.

Files live in `device.data_dir`: bmis-commands.db (replay guard + audit), alerts.db, stats.db.
A trust-store directory that holds a bad file is an error (TrustStoreError). A missing directory
gives an empty trust store with a warning: the gate keeps working and refuses every command that
changes security state (`gatectl bmis keys` exits 1 until a key is added).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from firmware_app.config.model import GateConfig

from .alerts.store import AlertStore
from .commands.journal import CommandJournal
from .commands.processor import AlarmSink, CommandProcessor, CommandSettings, LaneControl, PkiUpdater, UpdatePort
from .commands.signing import TrustStore
from .stats import CrossingStats

log = logging.getLogger(__name__)
JOURNAL_FILE = "bmis-commands.db"
ALERTS_FILE = "alerts.db"
STATS_FILE = "stats.db"


@dataclass
class CommandSide:
    processor: CommandProcessor
    alerts: AlertStore
    stats: CrossingStats
    journal: CommandJournal

    def close(self) -> None:
        for part in (self.alerts, self.stats, self.journal):
            part.close()


def command_settings(config: GateConfig) -> CommandSettings:
    bmis = config.bmis
    return CommandSettings(prefix=bmis.prefix, device_id=config.device.id,
                           max_payload_bytes=bmis.command_max_payload_mb << 20,
                           max_lifetime=timedelta(seconds=bmis.command_max_lifetime_s),
                           clock_skew=timedelta(seconds=bmis.command_clock_skew_s))


def data_path(config: GateConfig, name: str) -> Path:
    directory = Path(config.device.data_dir)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / name


def open_alert_store(config: GateConfig, clock: Callable[[], datetime]) -> AlertStore:
    hours = config.bmis.alert_max_age_h
    return AlertStore.open(data_path(config, ALERTS_FILE), clock,
                           required_lists=config.bmis.alert_required_lists,
                           max_age=timedelta(hours=hours) if hours else None)


def load_trust_store(directory: Path) -> TrustStore:
    if not directory.exists():
        log.warning("no BMIS key directory %s: signed commands will all be refused", directory)
        return TrustStore()
    return TrustStore.from_directory(directory)


def build_command_side(config: GateConfig, *, lane: LaneControl, clock: Callable[[], datetime],
                       on_alarm: AlarmSink | None = None, pki: PkiUpdater | None = None,
                       updates: UpdatePort | None = None) -> CommandSide:
    trust = load_trust_store(Path(config.bmis.command_keys_dir))
    journal = CommandJournal.open(data_path(config, JOURNAL_FILE))
    alerts = open_alert_store(config, clock)
    stats = CrossingStats.open(data_path(config, STATS_FILE))
    processor = CommandProcessor(command_settings(config), trust=trust, journal=journal, alerts=alerts,
                                 lane=lane, clock=clock, on_alarm=on_alarm, pki=pki, updates=updates)
    return CommandSide(processor, alerts, stats, journal)
