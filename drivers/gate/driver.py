"""The gate on gpiozero devices: door relays, door-closed sensors, presence, emergency, tamper.

Relays are `DigitalOutputDevice`s whose "on" always means *released*: a fail-secure door energises
its relay to unlock, a fail-safe door (maglock) de-energises it; the relay board's own polarity
(`relay_active_high`, explicit per door) decides which pin level energises. So `initial_value=False`
is locked for both, and `off()` is always the lock command.

Exit: GPIO outputs keep their level after the process ends on Raspberry Pi kernels (without
`dtparam=strict_gpiod`), and gpiozero's own exit cleanup covers only its default factory. So
`close()`, and an atexit hook for a driver nobody closed, drive every relay to its de-energised
level first: each door then rests in its fail mode, as on a power loss, whatever the kernel does.

Inputs are switches to ground with pull-ups, "active" when the contact is closed:
door-closed contacts are active when shut; the emergency and tamper inputs are normally-closed
loops, so an open loop or a cut wire reads inactive and means emergency / tamper.

Input callbacks run on gpiozero's threads; `on_event` must only hand the event on (e.g. queue it).
"""
from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable, Collection

from drivers.errors import DriverIOError, DriverUnavailable

from .events import GateEvent, GateEventKind, GateSnapshot
from .layout import Door, GateLayout
from .supervised import PresenceSupervision

log = logging.getLogger(__name__)
EventSink = Callable[[GateEvent], None]


class GateDriver:
    def __init__(self, layout: GateLayout, pin_factory, on_event: EventSink):
        from gpiozero import DigitalInputDevice, DigitalOutputDevice  # only the gate driver touches gpiozero
        from gpiozero.exc import GPIOZeroError
        self._gpio_error = GPIOZeroError
        self.layout = layout
        self._on_event = on_event
        self._devices: list = []
        try:
            self._build(DigitalInputDevice, DigitalOutputDevice, pin_factory)
        except GPIOZeroError as exc:
            self._close_devices()
            raise DriverUnavailable(f"gate pins unavailable: {type(exc).__name__}: {exc}") from exc
        atexit.register(self.rest_relays)     # an exit path that never reaches close()

    # --- construction -----------------------------------------------------------------------
    def _build(self, Input, Output, factory) -> None:
        layout, bounce = self.layout, self.layout.bounce_time_s

        def output(pin: int, active_high: bool = True):
            return self._keep(Output(pin, active_high=active_high, initial_value=False, pin_factory=factory))

        def contact(pin: int):
            return self._keep(Input(pin, pull_up=True, bounce_time=bounce, pin_factory=factory))

        self._relays = {door: output(p.relay, p.release_level_high()) for door, p in layout.doors.items()}
        self._closed = {door: contact(p.closed_sensor) for door, p in layout.doors.items()}
        self._presence = [contact(pin) for pin in layout.presence]
        self._supervision = PresenceSupervision(self._presence, [contact(pin) for pin in layout.presence_nc],
                                                layout.presence_grace_s, self._emit_tamper_state)
        self._tampered_last = False
        self._tamper_lock = threading.Lock()
        self._emergency = contact(layout.emergency)
        self._tamper = contact(layout.tamper) if layout.tamper is not None else None
        self._light = output(layout.light) if layout.light is not None else None
        self._buzzer = output(layout.buzzer) if layout.buzzer is not None else None
        self._wire_callbacks()

    def _keep(self, device):
        self._devices.append(device)
        return device

    def _wire_callbacks(self) -> None:
        for door, sensor in self._closed.items():
            sensor.when_activated = lambda _d, door=door: self._emit(GateEventKind.DOOR_CLOSED, door)
            sensor.when_deactivated = lambda _d, door=door: self._emit(GateEventKind.DOOR_OPENED, door)
        for sensor in self._presence + self._supervision.nc_contacts:
            sensor.when_activated = sensor.when_deactivated = lambda _d: self._presence_edge()
        self._emergency.when_activated = lambda _d: self._emit(GateEventKind.EMERGENCY_OFF)
        self._emergency.when_deactivated = lambda _d: self._emit(GateEventKind.EMERGENCY_ON)
        if self._tamper is not None:
            self._tamper.when_activated = self._tamper.when_deactivated = lambda _d: self._emit_tamper_state()
        self._tampered_last = self._tampered()

    # --- events -----------------------------------------------------------------------------
    def _emit(self, kind: GateEventKind, door: Door | None = None) -> None:
        self._on_event(GateEvent(kind, door=door))

    def _presence_edge(self) -> None:
        self._on_event(GateEvent(GateEventKind.PRESENCE, count=self._presence_count()))
        self._emit_tamper_state()

    def _presence_count(self) -> int:
        return self._supervision.occupied()

    def _tampered(self) -> bool:
        """The tamper loop open, or a supervised presence zone faulted (cut or stuck)."""
        loop_open = self._tamper is not None and not self._tamper.is_active
        return loop_open or bool(self._supervision.faulted())

    def _emit_tamper_state(self) -> None:
        """TAMPER_ON / TAMPER_OFF on a change of the combined state only (either source may clear)."""
        with self._tamper_lock:
            try:
                now = self._tampered()
            except self._gpio_error:
                return
            if now == self._tampered_last:
                return
            self._tampered_last = now
        for zone in self._supervision.faulted() if now else ():
            log.warning("supervised input fault: %s", self._supervision.describe(zone))
        self._emit(GateEventKind.TAMPER_ON if now else GateEventKind.TAMPER_OFF)

    def snapshot(self) -> GateSnapshot:
        try:
            return GateSnapshot(
                doors_open=frozenset(door for door, sensor in self._closed.items() if not sensor.is_active),
                presence=self._presence_count(), emergency=not self._emergency.is_active,
                tamper=self._tampered())
        except self._gpio_error as exc:
            raise DriverIOError(f"gate inputs unreadable: {type(exc).__name__}") from exc

    # --- commands ---------------------------------------------------------------------------
    def open_door(self, door: Door, passage: str | None = None) -> None:
        """`passage` names a PASS passage; only the safety controller's interlock uses it."""
        self._drive(self._relay(door).on, f"release {door.value}")

    def close_door(self, door: Door) -> None:
        self._drive(self._relay(door).off, f"lock {door.value}")

    def secure_all(self) -> None:
        """Lock every door; tries them all even if one fails, then reports the failure."""
        self._every_relay("off", "lock")

    def release_all(self) -> None:
        """Emergency: release every door; one failed relay must not keep the others locked."""
        self._every_relay("on", "release")

    def _every_relay(self, command: str, what: str) -> None:
        failures = []
        for door, relay in self._relays.items():
            try:
                getattr(relay, command)()
            except self._gpio_error as exc:
                failures.append(f"{door.value}: {type(exc).__name__}")
        if failures:
            raise DriverIOError(f"could not {what} " + ", ".join(failures))

    def apply(self, released: frozenset[Door]) -> None:
        """Every door at once: those in `released` released, the others locked (the safety
        controller's scan output). Tries every relay, then reports the failures."""
        failures = []
        for door, relay in self._relays.items():
            try:
                relay.on() if door in released else relay.off()
            except self._gpio_error as exc:
                failures.append(f"{door.value}: {type(exc).__name__}")
        if failures:
            raise DriverIOError("could not drive " + ", ".join(failures))

    def released_doors(self) -> frozenset[Door]:
        """What the relays command now (not what the door sensors say)."""
        return frozenset(door for door, relay in self._relays.items() if relay.value)

    def outputs(self) -> dict[str, bool]:
        """Light and buzzer as driven now (absent ones read False)."""
        return {"light": bool(self._light is not None and self._light.value),
                "buzzer": bool(self._buzzer is not None and self._buzzer.value)}

    def set_light(self, on: bool) -> None:
        if self._light is not None:
            self._drive(self._light.on if on else self._light.off, "light")

    def set_buzzer(self, on: bool) -> None:
        if self._buzzer is not None:
            self._drive(self._buzzer.on if on else self._buzzer.off, "buzzer")

    def _relay(self, door: Door):
        try:
            return self._relays[door]
        except KeyError:
            raise DriverIOError(f"this {self.layout.kind.value} layout has no {door.value} door") from None

    def _drive(self, command, what: str) -> None:
        try:
            command()
        except self._gpio_error as exc:
            raise DriverIOError(f"{what} failed: {type(exc).__name__}") from exc

    # --- shutdown ---------------------------------------------------------------------------
    def close(self, keep_released: frozenset[Door] = frozenset()) -> None:
        """Lock the doors and leave every relay de-energised, then release the pins: from here each
        door rests in its fail mode (fail-secure locked, fail-safe released), as it will once the
        process has ended. `keep_released` (the never-trapped rule at shutdown: the entry of a
        mantrap with somebody inside) stay released until the interpreter exits; the atexit hook
        then de-energises them too."""
        for door in self._relays:
            if door not in keep_released:
                try:
                    self.close_door(door)
                except DriverIOError:
                    log.error("gate close: the %s door could not be locked", door.value)
        self.rest_relays(except_doors=keep_released)
        kept = {id(self._relays[door]) for door in keep_released if door in self._relays}
        if not kept:
            atexit.unregister(self.rest_relays)
        self._close_devices(kept)

    def rest_relays(self, except_doors: frozenset[Door] = frozenset()) -> None:
        """Drive each relay (and the light and buzzer) to its de-energised level, pin by pin."""
        for door, relay in self._relays.items():
            if door not in except_doors:
                self._rest(relay, self.layout.doors[door].rest_level_high())
        for output in (self._light, self._buzzer):
            if output is not None:
                self._rest(output, False)

    def _rest(self, device, level_high: bool) -> None:
        try:
            if not device.closed:
                device.value = level_high == device.active_high   # the device's value is logical
        except self._gpio_error as exc:
            log.error("gate rest: an output could not be de-energised: %s", type(exc).__name__)

    def _close_devices(self, keep: Collection[int] = frozenset()) -> None:
        for device in self._devices:
            if id(device) not in keep:
                device.close()

    def __enter__(self) -> GateDriver:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
