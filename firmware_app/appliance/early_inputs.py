"""The gate's inputs before the lane runs: from the first door command in Appliance.build() until the
lane runner exists (and on until it starts, since the runner queues what it is handed).

The emergency input is obeyed at once even then (its loop open at boot releases the doors; one that
opens while the appliance is still being built releases them; one that closes again puts the doors
back to the safe stance). Emergency and tamper edges are also kept, bounded, and handed to the
runner, so one that came (and went) before start() is still reported and acted on. Doors and
presence are levels the runner reads from the gate when it starts: their edges are not kept.
"""
from __future__ import annotations

import logging
import threading
from collections import deque

from drivers.errors import DriverError
from drivers.gate.events import GateEventKind
from drivers.gate.layout import LayoutKind
from firmware_app.lane.errors import LaneNotRunning
from firmware_app.lane.supervision import safe_stance

log = logging.getLogger(__name__)
MAX_KEPT = 64   # a flapping loop during a slow build must not grow memory
KEPT_KINDS = frozenset({GateEventKind.EMERGENCY_ON, GateEventKind.EMERGENCY_OFF,
                        GateEventKind.TAMPER_ON, GateEventKind.TAMPER_OFF})


def hold_at_boot(gate) -> None:
    """The doors' first command: every door secured, unless the emergency input is active (an
    unreadable input counts as not: the fire-alarm contact cuts lock power in hardware anyway)."""
    try:
        emergency = gate.snapshot().emergency
    except DriverError as exc:
        log.error("gate inputs unreadable at boot: %s", type(exc).__name__)
        emergency = False
    if emergency:
        log.warning("emergency input active at boot: doors released")
        gate.release_all()
        return
    gate.secure_all()


class EarlyInputs:
    """Stands in for the lane runner until `hand_over(runner)`; then forwards to it."""
    data = None

    def __init__(self, layout: LayoutKind):
        self.layout, self.gate = layout, None
        self._kept: deque = deque(maxlen=MAX_KEPT)
        self._lock = threading.Lock()
        self._runner = None

    def attach(self, gate) -> None:
        """The in-process driver, whose edges come on gpiozero's thread (never the safety
        controller's client: the controller obeys the emergency itself)."""
        self.gate = gate

    def on_gate_event(self, event) -> None:
        with self._lock:        # ordered with hand_over: nothing overtakes the kept events
            runner = self._runner
            if runner is None and event.kind in KEPT_KINDS:
                self._kept.append(event)
        if runner is not None:
            runner.on_gate_event(event)
        else:
            self._obey(event.kind)

    def _obey(self, kind: GateEventKind) -> None:
        """Outside the lock: a gate command may wait on the thread that delivers our events."""
        if self.gate is None or kind not in (GateEventKind.EMERGENCY_ON, GateEventKind.EMERGENCY_OFF):
            return
        if kind is GateEventKind.EMERGENCY_OFF:
            safe_stance(self.gate, self.layout)     # re-reads the input: released again if still on
            return
        try:
            self.gate.release_all()
        except DriverError as exc:
            log.error("emergency release before the lane runs failed: %s", type(exc).__name__)

    def forget_kept(self) -> int:
        """Drop the edges kept so far (mock pins put at rest make edges a real loop never makes);
        returns how many."""
        with self._lock:
            count = len(self._kept)
            self._kept.clear()
        return count

    def hand_over(self, runner) -> None:
        """Queue the kept edges on the runner (it steps them after its start-up reading of the gate),
        then forward everything to it. The doors already obeyed them: only queued, not re-commanded."""
        with self._lock:
            for event in self._kept:
                runner.queue_gate_event(event)
            if self._kept:
                log.warning("%d emergency/tamper edge(s) before the lane ran: handed to it", len(self._kept))
            self._kept.clear()
            self._runner = runner

    # --- the rest of the runner's face, before it exists ---
    def submit(self, event) -> None:
        raise LaneNotRunning("the lane is not built yet")

    def on_traveller_input(self, traveller_input) -> None:
        pass

    def healthy(self) -> bool:
        return False

    def stop(self) -> None:
        pass
