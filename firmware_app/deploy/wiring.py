"""The updater built from the config (gatectl update, the update-apply command's root half)."""
from __future__ import annotations

from pathlib import Path

from firmware_app.status.client import query
from firmware_app.status.service import socket_path

from .health import HealthWindow
from .system import SystemCommands, SystemInstaller
from .update import Updater, UpdateSettings

STATUS_TIMEOUT_S = 3.0


def packages_dir(config) -> Path:
    return Path(config.update.packages_dir or Path(config.device.data_dir) / "packages")


def updater_from_config(config) -> Updater:
    section = config.update
    settings = UpdateSettings(packages_dir(config), Path(config.device.data_dir),
                              HealthWindow(section.health_window_s, section.stable_s, section.poll_s),
                              keep=section.keep_packages)
    socket = socket_path(config)
    return Updater(settings, SystemInstaller(SystemCommands(unit=section.unit)),
                   status=lambda: query(socket, timeout_s=STATUS_TIMEOUT_S))
