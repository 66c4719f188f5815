"""The controller's settings from the appliance's own TOML file ([gate] section), stdlib only.

`gatectl config check` (ExecStartPre of both units) validates the whole file strictly; this reader
takes only what the controller needs, with the same defaults, and refuses what it cannot use.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from drivers.errors import SettingsError

from ..layout import Door, DoorPins, FailMode, GateLayout, LayoutKind

SAFETY_SCHEME = "safety://"
DEFAULT_SOCKET = Path("/run/border-gate/safety.sock")
_DOOR_DEFAULTS = {"entry": {"relay": 17, "closed_sensor": 27}, "exit": {"relay": 22, "closed_sensor": 23}}


@dataclass(frozen=True)
class ControllerSettings:
    layout: GateLayout
    pin_factory: str
    socket: Path
    silence_timeout_s: float = 1.0
    scan_s: float = 0.01        # outputs are recomputed at least this often

    @property
    def control_socket(self) -> Path:
        """Test-only control socket (simulated pins only)."""
        return self.socket.with_name(self.socket.name + ".sim")


def socket_of(url: str) -> Path | None:
    return Path(url[len(SAFETY_SCHEME):]) if url.startswith(SAFETY_SCHEME) else None


def load(path: Path, socket: Path | None = None) -> ControllerSettings:
    try:
        gate = tomllib.loads(Path(path).read_text()).get("gate", {})
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: {type(exc).__name__}: {exc}") from exc
    try:
        return _settings(gate, socket)
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"{path} [gate]: {exc}") from exc


def _settings(gate: dict, socket: Path | None) -> ControllerSettings:
    factory = gate.get("pin_factory", "mock")
    socket = socket or socket_of(gate.get("url", "")) or DEFAULT_SOCKET
    return ControllerSettings(_layout(gate, factory), factory, Path(socket),
                              float(gate.get("silence_timeout_s", 1.0)))


def _door(section: dict, name: str, real_pins: bool) -> DoorPins:
    values = {**_DOOR_DEFAULTS[name], **section}
    active_high = values.get("relay_active_high")
    if active_high is None and real_pins:
        raise ValueError(f"{name}.relay_active_high must be set for real pins")
    return DoorPins(int(values["relay"]), int(values["closed_sensor"]),
                    FailMode(values.get("fail_mode", "fail_secure")),
                    True if active_high is None else bool(active_high))


def _layout(gate: dict, factory: str) -> GateLayout:
    kind = LayoutKind(gate.get("layout", "mantrap"))
    real = factory != "mock"
    doors = {Door.ENTRY: _door(gate.get("entry", {}), "entry", real)}
    if kind is LayoutKind.MANTRAP:
        doors[Door.EXIT] = _door(gate.get("exit", {}), "exit", real)
    return GateLayout(kind, doors, tuple(int(p) for p in gate.get("presence", [24])), int(gate.get("emergency", 25)),
                      gate.get("tamper", 5), gate.get("light"), gate.get("buzzer"), gate.get("bounce_time_s", 0.02),
                      tuple(int(p) for p in gate.get("presence_nc", [])), float(gate.get("presence_grace_s", 0.3)))
