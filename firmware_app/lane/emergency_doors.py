"""The emergency input's door commands, made off the thread that delivered the input.

The runner hears the gate's inputs on the gate's own event thread: gpiozero's pin thread for the
in-process driver, the safety client's reader thread for the door safety controller. A gate call
made there may wait for an answer that only that very thread can read: the safety client's reader
stalled for its whole answer timeout, the release was logged as failed, and every later input
(tamper, the emergency's end) waited behind it. So the emergency release, and the safe stance when
an emergency ends with the loop stuck, are handed to one short-lived worker thread:

- in order: a release never lands after the stance that followed it (one worker, one queue);
- at once: nothing else runs on that worker, and the event thread returns without waiting;
- bounded: a flapping input while the gate hangs keeps only the last MAX_PENDING commands.

The worker exists only while commands are pending (nothing is left running after the lane stops).
The door safety controller releases on its own anyway; this is the appliance's side of the rule.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable

from drivers.errors import DriverError
from drivers.gate.layout import LayoutKind

from .supervision import safe_stance

log = logging.getLogger(__name__)
MAX_PENDING = 8
THREAD_NAME = "lane-emergency"


class EmergencyDoors:
    """`release()` and `stance()` return at once; the gate is commanded on the worker, in order."""

    def __init__(self, gate, layout: LayoutKind):
        self.gate, self.layout = gate, layout
        self._pending: deque[Callable[[], object]] = deque(maxlen=MAX_PENDING)
        self._lock = threading.Lock()
        self._running = False

    def release(self) -> None:
        self._hand(self._release)

    def stance(self) -> None:
        self._hand(lambda: safe_stance(self.gate, self.layout))

    def _release(self) -> None:
        try:
            self.gate.release_all()
        except DriverError as exc:
            log.error("emergency release failed: %s", type(exc).__name__)

    def _hand(self, command: Callable[[], object]) -> None:
        with self._lock:
            if len(self._pending) == MAX_PENDING:
                log.error("emergency door commands pile up (the gate hangs): the oldest is dropped")
            self._pending.append(command)
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._work, name=THREAD_NAME, daemon=True).start()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._running = False
                    return
                command = self._pending.popleft()
            try:
                command()
            except Exception as exc:  # a bug must not end the worker with commands still pending
                log.error("emergency door command: %s", type(exc).__name__)
