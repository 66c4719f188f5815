"""Deployment tools for technicians: provisioning a gate's identity, enrolment against the post's
CA, certificate renewal, the effective config and the redacted support bundle; software updates
with rollback and the kept packages (update.py; the BMIS update-apply command in requests.py and
request_runner.py; the updater built from the config in wiring.py), gate-app's device drop-in
(devices.py).

Used by `gatectl` (firmware_app/cli); the running appliance reads certificate expiry from here and
hands the updater's alarms and update-apply requests over (firmware_app/appliance/field_ops.py).
"""

from __future__ import annotations

from pathlib import Path

from .health import HealthWindow
from .system import SystemCommands, SystemInstaller
from .update import Updater, UpdateSettings


def packages_dir(config) -> Path:
    return Path(config.update.packages_dir or Path(config.device.data_dir) / "packages")


def updater_from_config(config) -> Updater:
    section = config.update
    settings = UpdateSettings(packages_dir(config), Path(config.device.data_dir),
                              HealthWindow(section.health_window_s, section.stable_s, section.poll_s),
                              keep=section.keep_packages)
    return Updater(settings, SystemInstaller(SystemCommands(unit=section.unit)))
