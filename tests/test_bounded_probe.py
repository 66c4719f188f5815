"""The bounded presence probe (one layer, a fake probe that blocks until the test lets it go): a
probe that hangs is a failed poll at its deadline, never a silent poller; while it hangs nobody asks
again (one stuck thread at most) and its answer, when it comes, goes to the poll then waiting. The
same through PresenceWatch: a hung probe is a chip-reader fault, restored when it answers.
The real pcscd SIGSTOP runs are in test_presence_pcscd_hang.py."""
from __future__ import annotations

import threading

import pytest

from firmware_app.appliance.bounded_probe import BoundedProbe, ProbeTimeout
from firmware_app.appliance.devices import PresenceWatch
from firmware_app.lane import events as ev
from firmware_app.lane.state import Fault
from tests.polling import wait_until

DEADLINE_S = 0.05   # for polls that must time out (the fake blocks): short keeps the test quick
WATCH_DEADLINE_S = 0.2  # a false fault would need one answer delayed across three of these
BOUND_S = 5.0       # safety bound for every wait on another thread


class HangingProbe:
    """Answers `answer` at once, or, while `hang` is set, blocks until the test releases it."""

    def __init__(self, answer: object = False):
        self.answer, self.calls, self.stuck_calls = answer, 0, 0
        self.woken: object = "woken"
        self.hang, self.entered = threading.Event(), threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()

    def __call__(self) -> object:
        with self._lock:
            self.calls += 1
            stuck = self.hang.is_set()
            self.stuck_calls += stuck
        if stuck:
            self.entered.set()
            assert self._release.wait(BOUND_S)
            return self.woken   # what the daemon says once it is resumed
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer

    def release(self) -> None:
        self.hang.clear()
        self._release.set()

    def asked(self) -> int:
        with self._lock:
            return self.calls


def probe_threads() -> int:
    return sum(thread.name == "probe-under-test" for thread in threading.enumerate())


def first_answer(bounded: BoundedProbe) -> object:
    """Poll until an answer comes (a loaded machine may take more than one deadline to hand it over)."""
    for _ in range(int(BOUND_S / DEADLINE_S)):
        try:
            return bounded()
        except ProbeTimeout:
            continue
    raise AssertionError("no answer within the safety bound")


def test_answers_and_errors_pass_through_unchanged():
    fake = HangingProbe(answer=True)
    bounded = BoundedProbe(fake, BOUND_S, name="probe-under-test").start()
    try:
        assert bounded() is True
        fake.answer = RuntimeError("reader gone")
        with pytest.raises(RuntimeError, match="reader gone"):
            bounded()
        assert not bounded.outstanding
    finally:
        bounded.close()


def test_a_hung_probe_fails_at_its_deadline_and_is_not_asked_again_until_it_returns():
    fake = HangingProbe(answer=False)
    bounded = BoundedProbe(fake, DEADLINE_S, name="probe-under-test").start()
    try:
        fake.hang.set()
        for _ in range(4):      # each poll waits up to the deadline for the one stuck probe
            with pytest.raises(ProbeTimeout, match="no answer within"):
                bounded()
            assert bounded.outstanding
        assert fake.asked() == 1 and probe_threads() == 1
        fake.release()
        assert first_answer(bounded) == "woken"     # the stuck probe's answer, to the poll then waiting
        assert fake.asked() == 1 and not bounded.outstanding
        assert first_answer(bounded) is False and fake.asked() == 2     # then asked afresh
    finally:
        fake.release()
        bounded.close()
    assert wait_until(lambda: probe_threads() == 0, BOUND_S)


def test_presence_watch_faults_on_a_hung_probe_and_restores_without_guessing_a_removal():
    fake = HangingProbe(answer=True)
    fake.woken = True
    events: list[object] = []
    watch = PresenceWatch(fake, events.append, interval_s=0.01, fault_after=3,
                          deadline_s=WATCH_DEADLINE_S).start()
    try:
        assert wait_until(lambda: fake.asked() >= 2, BOUND_S)
        fake.hang.set()
        assert fake.entered.wait(BOUND_S)
        assert wait_until(lambda: len(events) >= 1, BOUND_S), "a hung probe left the watch silent"
        assert fake.stuck_calls == 1
        fake.release()
        assert wait_until(lambda: len(events) >= 2, BOUND_S), f"not restored: {events}"
        asked = fake.asked()
        assert wait_until(lambda: fake.asked() >= asked + 3, BOUND_S)     # polling goes on
    finally:
        fake.release()
        watch.stop()
    # a document on the reader throughout: no removal guessed from the failed polls or the woken answer
    assert events == [ev.DeviceFault(Fault.CHIP_READER, "chip reader not answering: ProbeTimeout"),
                      ev.DeviceRestored(Fault.CHIP_READER)]
