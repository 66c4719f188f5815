"""A hung pcscd (SIGSTOP: alive, silent) under the lane: real pcscd + vpcd + virtual chip, the
appliance's own chip opener and ChipReadStage, the lane runner with the real gate driver on gpiozero
mock pins. libpcsclite waits for pcscd without a timeout, so every PC/SC call made while it is
stopped blocks until it is resumed; the lane must not wait with it.

- hung in the middle of a chip read: the presence watch (bounded probe) takes the lane out of
  service, the transaction is voided with the doors secured while the chip worker is still stuck;
  the emergency input still releases the doors; pcscd resumed, the lane comes back by itself.
- hung before the read, no presence watch at all: the lane's own chip timer refers the traveller,
  the watchdog declares the stuck worker hung (out of service) and restores it once it returns.

pcscd is always resumed in a `finally`, so the suite's other pcscd users find it working.
Run under `flock /tmp/pcscd.lock`."""
from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

from firmware_app.appliance.devices import PresenceWatch, card_presence, chip_opener
from firmware_app.emrtd.budget import ReadBudget
from firmware_app.emrtd.keys import mrz_key_from_lines
from firmware_app.emrtd.pa import TrustStore
from firmware_app.lane import events as ev
from firmware_app.lane.stages import ChipReadStage, PortraitVault
from firmware_app.lane.state import Fault, LaneTimeouts, State
from firmware_app.lane.supervision import Supervision
from firmware_app.mrz import parse
from simulator.vchip.applet import ChipConfig, VirtualIcaoChip
from simulator.vchip.documents import synthetic_lds
from tests.chip_fixtures import counter_rng
from tests.lane_helpers import TODAY
from tests.lane_rig import EMERGENCY, ENTRY_RELAY, EXIT_RELAY, Rig
from tests.mrz_helpers import specimen
from tests.pcsc_fixtures import insert_card, pcscd_vpcd, restartable_pcscd  # noqa: F401  (fixtures)
from tests.polling import wait_until

URL = "pcsc://Virtual PCD 00 00"
BOUND_S = 10.0      # safety bound for each wait; the bounds under test are seconds below it
SMARTCARD = SimpleNamespace(smartcard=SimpleNamespace(reader=URL, read_timeout_s=5.0))


@contextmanager
def stopped(pcscd) -> Iterator[None]:
    """pcscd stopped (not dead) for the block; always resumed, whatever the block does."""
    pid = pcscd.process.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


class HoldFirstSecureRead:
    """The card's latency hook: its answer to the first READ BINARY under secure messaging (the
    read is under way: BAC done) waits until the test has stopped pcscd, then goes out."""

    def __init__(self):
        self.reached, self.go = threading.Event(), threading.Event()

    def __call__(self, command: bytes, response: bytes) -> float:
        if len(command) > 1 and command[0] & 0x0C and command[1] == 0xB0 and not self.reached.is_set():
            self.reached.set()
            self.go.wait(BOUND_S)
        return 0.0


class CountedProbe:
    """The real presence probe, noting how many calls are inside it at once."""

    def __init__(self, probe):
        self._probe, self._lock = probe, threading.Lock()
        self.inside = self.most_inside = self.calls = 0

    def __call__(self) -> bool:
        with self._lock:
            self.calls += 1
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        try:
            return self._probe()
        finally:
            with self._lock:
                self.inside -= 1


PASSPORT = specimen("TD3")       # valid on TODAY: only the chip can make the lane refer


def passport_chip() -> VirtualIcaoChip:
    config = ChipConfig(files=synthetic_lds("\n".join(PASSPORT), 2000), mrz=mrz_key_from_lines(list(PASSPORT)))
    return VirtualIcaoChip(config, counter_rng("chip"))


def chip_stage() -> ChipReadStage:
    """As the appliance builds it (core._build_chip), on the appliance's own opener."""
    return ChipReadStage(chip_opener(SMARTCARD), TrustStore(), counter_rng("terminal"), time.monotonic,
                         lambda: TODAY, PortraitVault(), budget=ReadBudget(time_s=SMARTCARD.smartcard.read_timeout_s))


def chip_workers() -> int:
    return sum(thread.name == "lane-chip" for thread in threading.enumerate())


def doors_secured(rig: Rig) -> bool:
    return rig.pin(ENTRY_RELAY).state is False and rig.pin(EXIT_RELAY).state is False


def doors_released(rig: Rig) -> bool:
    return rig.pin(ENTRY_RELAY).state is True and rig.pin(EXIT_RELAY).state is True


def emergency_releases_the_doors(rig: Rig) -> None:
    rig.pin(EMERGENCY).drive_high()             # the fire loop opens
    assert wait_until(lambda: doors_released(rig), BOUND_S), "the emergency waited for the hung chip reader"
    rig.pin(EMERGENCY).drive_low()
    assert wait_until(lambda: doors_secured(rig), BOUND_S)


def test_pcscd_hung_mid_read_takes_the_lane_out_of_service_with_the_doors_secured(restartable_pcscd):
    hold = HoldFirstSecureRead()
    card = insert_card(passport_chip(), restartable_pcscd.port, latency=hold)
    probe = CountedProbe(card_presence(SMARTCARD))
    # the chip timer far away: only the presence watch can end the transaction within the bound
    rig = Rig(chip=chip_stage(), timeouts=LaneTimeouts(chip_s=60.0, refer_s=0.3))
    rig.runner.start()
    # the appliance's poll (0.2 s, 3 failures); half its deadline keeps the test short (the bench
    # presence_probe measures the default); a false fault would need one poll stuck for 1.9 s
    watch = PresenceWatch(probe, rig.runner.submit, deadline_s=0.5).start()
    try:
        rig.runner.submit(ev.DocumentPresented(parse(PASSPORT, today=TODAY)))
        assert hold.reached.wait(BOUND_S), "the chip read never got under way"
        with stopped(restartable_pcscd):
            hold.go.set()
            calls_at_stop = probe.calls
            assert wait_until(lambda: Fault.CHIP_READER in rig.runner.data.faults, BOUND_S), "hung pcscd unnoticed"
            assert wait_until(lambda: rig.outbox.crossings, BOUND_S)
            assert rig.state() is State.OUT_OF_SERVICE and doors_secured(rig)
            assert [c.outcome for c in rig.outbox.crossings] == ["voided"]
            assert chip_workers() == 1                  # the lane did not wait for the stuck read
            emergency_releases_the_doors(rig)
            assert rig.runner.healthy()                 # the loop and the watchdog never waited either
            assert probe.most_inside == 1 and probe.calls - calls_at_stop <= 1    # one stuck probe, not a pile
        assert wait_until(lambda: Fault.CHIP_READER not in rig.runner.data.faults, BOUND_S)
        assert wait_until(lambda: rig.state() is State.IDLE, BOUND_S)
        assert wait_until(lambda: chip_workers() == 0, BOUND_S), "the chip worker never ended"
    finally:
        hold.go.set()
        watch.stop()
        rig.close()
        card.remove()
    assert [c.outcome for c in rig.outbox.crossings] == ["voided"]      # the late read changed nothing
    assert wait_until(lambda: card_presence(SMARTCARD)() is False, BOUND_S)   # pcscd answers again


def test_pcscd_hung_before_the_read_refers_at_the_chip_timer_even_without_the_presence_watch(restartable_pcscd):
    card = insert_card(passport_chip(), restartable_pcscd.port)
    rig = Rig(chip=chip_stage(), timeouts=LaneTimeouts(chip_s=1.0, refer_s=0.3),
              supervision=Supervision(stage_grace_s=1.5, tick_s=0.05))   # the timer refers 1.5 s before
    rig.runner.start()
    try:
        with stopped(restartable_pcscd):
            rig.runner.submit(ev.DocumentPresented(parse(PASSPORT, today=TODAY)))
            assert wait_until(lambda: rig.outbox.crossings, BOUND_S), "the lane waited for the hung read"
            crossing = rig.outbox.crossings[0]
            assert crossing.outcome == "referred" and crossing.chip.status.value == "timeout"
            assert doors_secured(rig) and chip_workers() == 1
            # the watchdog: a worker stuck past chip_s + stage_grace_s is a chip-reader fault
            assert wait_until(lambda: Fault.CHIP_READER in rig.runner.data.faults, BOUND_S)
            assert rig.state() is State.OUT_OF_SERVICE and doors_secured(rig)
            emergency_releases_the_doors(rig)
            assert rig.runner.healthy()
        assert wait_until(lambda: chip_workers() == 0, BOUND_S), "the chip worker never ended"
        assert wait_until(lambda: rig.state() is State.IDLE, BOUND_S)     # restored once it returned
    finally:
        rig.close()
        card.remove()
    assert [c.outcome for c in rig.outbox.crossings] == ["referred"]
    assert wait_until(lambda: card_presence(SMARTCARD)() is False, BOUND_S)   # pcscd answers again
