"""A simulated gate for the test bench: doors that follow their relays, people who walk through.

Works on gpiozero's MockFactory pins (the same pins a GateDriver built on that factory uses):
a door whose relay is released swings open after `swing_s`, and shuts again after `swing_s` once
its relay locks. People are presence zones driven active/inactive. Loops start closed (quiet).

    sim = GateSimulator(factory, layout); sim.start()
    sim.enter(); sim.leave(); sim.emergency(True); sim.stop()
"""
from __future__ import annotations

import threading
import time

from .layout import Door, GateLayout


class GateSimulator:
    def __init__(self, factory, layout: GateLayout, swing_s: float = 0.05, poll_s: float = 0.005):
        self.factory, self.layout, self.swing_s, self.poll_s = factory, layout, swing_s, poll_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._since: dict[Door, float] = {}
        self.inside = 0

    def quiet(self) -> None:
        """Doors shut, emergency and tamper loops closed, nobody inside."""
        for pins in self.layout.doors.values():
            self.factory.pin(pins.closed_sensor).drive_low()
        for pin in [self.layout.emergency] + ([self.layout.tamper] if self.layout.tamper is not None else []):
            self.factory.pin(pin).drive_low()
        self.set_inside(0)

    def start(self) -> None:
        self.quiet()
        self._thread = threading.Thread(target=self._run, name="gate-sim", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(1.0)

    # --- doors ------------------------------------------------------------------------------
    def released(self, door: Door) -> bool:
        pins = self.layout.doors[door]
        return bool(self.factory.pin(pins.relay).state) == pins.release_level_high()

    def is_open(self, door: Door) -> bool:
        return bool(self.factory.pin(self.layout.doors[door].closed_sensor).state)

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            now = time.monotonic()
            for door in self.layout.doors:
                self._follow(door, now)

    def _follow(self, door: Door, now: float) -> None:
        wanted_open = self.released(door)
        if wanted_open == self.is_open(door):
            self._since.pop(door, None)
            return
        started = self._since.setdefault(door, now)
        if now - started >= self.swing_s:
            sensor = self.factory.pin(self.layout.doors[door].closed_sensor)
            sensor.drive_high() if wanted_open else sensor.drive_low()
            self._since.pop(door, None)

    def force_open(self, door: Door) -> None:
        """Somebody pushes a locked door open (the sensor opens without a command)."""
        self.factory.pin(self.layout.doors[door].closed_sensor).drive_high()

    # --- people and loops -------------------------------------------------------------------
    def set_inside(self, count: int) -> None:
        """Occupy the first `count` presence zones."""
        for index, _pin in enumerate(self.layout.presence):
            self._zone(index, index < count)
        self.inside = count

    def _zone(self, index: int, occupied: bool) -> None:
        """A beam's NO contact closes (low) when occupied; its supervised NC contact the other way."""
        self.factory.pin(self.layout.presence[index]).drive_low() if occupied else \
            self.factory.pin(self.layout.presence[index]).drive_high()
        if self.layout.presence_nc:
            nc = self.factory.pin(self.layout.presence_nc[index])
            nc.drive_high() if occupied else nc.drive_low()

    def cut_presence(self, index: int = 0) -> None:
        """The sensor's cable cut: both contacts of the zone read open."""
        self.factory.pin(self.layout.presence[index]).drive_high()
        if self.layout.presence_nc:
            self.factory.pin(self.layout.presence_nc[index]).drive_high()

    def enter(self) -> None:
        self.set_inside(min(self.inside + 1, len(self.layout.presence)))

    def leave(self) -> None:
        self.set_inside(max(self.inside - 1, 0))

    def emergency(self, on: bool) -> None:
        pin = self.factory.pin(self.layout.emergency)
        pin.drive_high() if on else pin.drive_low()

    def tamper(self, on: bool) -> None:
        if self.layout.tamper is not None:
            pin = self.factory.pin(self.layout.tamper)
            pin.drive_high() if on else pin.drive_low()
