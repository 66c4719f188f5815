"""The appliance's document presence (PresenceWatch over the real `card_present` probe) across a
real pcscd crash and restart, as systemd restarts it on a device or a USB reader replug causes:
while pcscd is down every poll fails (a chip-reader fault, never a stale "present"), and after the
restart presence works again without restarting the watch. Run under `flock /tmp/pcscd.lock`."""
from __future__ import annotations

import threading
from types import SimpleNamespace

from firmware_app.appliance.devices import PresenceWatch, card_presence
from firmware_app.lane import events as ev
from firmware_app.lane.state import Fault
from simulator.local_process import wait_until
from tests.chip_fixtures import make_chip
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, remove_card, restartable_pcscd  # noqa: F401

URL = "pcsc://Virtual PCD 00 00"
BOUND_S = 5.0       # safety bound for each step; the watch polls every 0.05 s
FAULT = ev.DeviceFault(Fault.CHIP_READER, "chip reader not answering: ReaderNotFound")


class NotedProbe:
    """The real presence probe; each answer (or error type) is noted under the phase it was asked in."""

    def __init__(self, probe):
        self._probe, self.phase, self.answers = probe, "before", []
        self._lock = threading.Lock()

    def __call__(self) -> bool:
        phase = self.phase
        try:
            present = self._probe()
        except Exception as exc:
            self._note(phase, type(exc).__name__)
            raise
        self._note(phase, present)
        return present

    def _note(self, phase: str, answer: object) -> None:
        with self._lock:
            self.answers.append((phase, answer))

    def said(self, phase: str) -> list[object]:
        with self._lock:
            return [answer for asked, answer in self.answers if asked == phase]


def test_presence_through_a_pcscd_crash_and_restart(restartable_pcscd):
    probe = NotedProbe(card_presence(SimpleNamespace(smartcard=SimpleNamespace(reader=URL))))
    events: list[object] = []
    cards = [insert_card(make_chip(dg2_size=100), restartable_pcscd.port)]
    watch = PresenceWatch(probe, events.append, interval_s=0.05, fault_after=3).start()
    try:
        assert wait_until(lambda: True in probe.said("before"), BOUND_S)
        restartable_pcscd.kill()
        probe.phase = "outage"
        assert wait_until(lambda: len(events) >= 1, BOUND_S), "no chip-reader fault while pcscd was down"
        assert events == [FAULT], "pcscd is down: a fault, and no removal guessed from a failed poll"
        probe.phase = "restarting"
        restartable_pcscd.start()
        assert wait_until(lambda: len(events) >= 3, BOUND_S), f"not restored after the restart: {events}"
        cards.append(insert_card(make_chip(dg2_size=100), restartable_pcscd.port))
        probe.phase = "second card"
        assert wait_until(lambda: True in probe.said("second card"), BOUND_S)
        remove_card(cards[1])
        assert wait_until(lambda: len(events) >= 4, BOUND_S), f"second card's removal not seen: {events}"
    finally:
        watch.stop()
        for card in cards:
            card.remove()
    outage = probe.said("outage")
    assert outage and set(outage) == {"ReaderNotFound"}      # a typed failure, never present/absent
    assert events == [FAULT, ev.DeviceRestored(Fault.CHIP_READER),
                      ev.DocumentRemoved(),     # the crash took the card's link: the restarted slot is empty
                      ev.DocumentRemoved()]     # the card inserted after the restart, then taken away
