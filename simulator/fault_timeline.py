"""Play a scenario's [[fault]] timeline on the bench's real devices and services, watching what the
lane does meanwhile; each fault's result says what differs from what the tester expected.

    timeline = FaultTimeline(bench, scenario, document_number)
    runner.before_traveller = timeline.before_traveller
    timeline.start(); runner.run(...); timeline.finish()
    results = timeline.results(delivery.alarm_kinds)
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass, field

from firmware_app.appliance.timesync import ClockState
from simulator.fault_commands import released_doors, send_fault_command
from simulator.faults import BETWEEN_TRAVELLERS, COMMANDS, FaultKind, FaultSpec
from simulator.local_process import wait_until
from simulator.scenario_bench import Bench

log = logging.getLogger("gatesim.faults")
WATCH_S = 0.02
COMMAND_WATCH_S = 1.0
CLOCK_SETTLE_S = 0.6        # the bench config's [clock] recheck_s (0.5) and a margin
IDLE_TIMEOUT_S = 60.0


class FaultUnavailable(RuntimeError):
    """The bench cannot play this fault (e.g. pcscd_kill with a pcscd the bench did not start)."""


@dataclass
class FaultResult:
    spec: FaultSpec
    states: list[str] = field(default_factory=list)     # lane states seen while it lasted, in order
    command_result: str | None = None
    error: str = ""
    alarms: list[str] = field(default_factory=list)     # filled in at the end (the BMIS's alarms)
    released: tuple[str, ...] | None = None             # override: the doors released after the answer
    in_service_s: float | None = None                   # power_cut: restart to the lane in service again
    notes: list[str] = field(default_factory=list)

    def differences(self) -> list[str]:
        spec, found = self.spec, []
        if self.error:
            found.append(self.error)
        if spec.expect_state is not None and spec.expect_state not in self.states:
            found.append(f"lane state {spec.expect_state} not seen (saw {', '.join(self.states) or 'nothing'})")
        if spec.expect_alarm is not None and spec.expect_alarm not in self.alarms:
            found.append(f"alarm {spec.expect_alarm} not received (got {', '.join(self.alarms) or 'none'})")
        if spec.expect_result is not None and spec.expect_result != self.command_result:
            found.append(f"command answered {self.command_result}, wanted {spec.expect_result}")
        if spec.expect_released is not None and spec.expect_released != self.released:
            found.append(f"doors released {list(self.released or ())}, wanted {list(spec.expect_released)}")
        return found

    def line(self, number: int) -> str:
        seen = ">".join(self.states) or "-"
        extra = f" answer={self.command_result}" if self.command_result else ""
        extra += f" released={','.join(self.released) or 'none'}" if self.released is not None else ""
        extra += f" in_service_after={self.in_service_s:.1f}s" if self.in_service_s is not None else ""
        extra += "".join(f" [{note}]" for note in self.notes)
        check = "" if not self._expects() else ("  ok" if not self.differences()
                                                  else f"  UNEXPECTED ({'; '.join(self.differences())})")
        return f"  fault {number}. {self.spec.where:<48} lane={seen}{extra}{check}"

    def _expects(self) -> bool:
        spec = self.spec
        return bool(self.error) or any(v is not None for v in (spec.expect_state, spec.expect_alarm,
                                                                spec.expect_result, spec.expect_released))


class FaultTimeline:
    def __init__(self, bench: Bench, faults: tuple[FaultSpec, ...], document_number=lambda traveller: "",
                 next_alert_version=None):
        self.bench, self.faults = bench, faults
        self._document_number = document_number
        self._next_version = next_alert_version or self._own_version
        self._results = {id(spec): FaultResult(spec) for spec in faults}
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._alert_version = 0
        self._lock = threading.Lock()

    # --- when ------------------------------------------------------------------------------------
    def start(self) -> None:
        timed = sorted((s for s in self.faults if s.at is not None), key=lambda s: s.at)
        if timed:
            self._spawn(self._timed, timed)

    def before_traveller(self, number: int) -> None:
        for spec in self.faults:
            if spec.before_traveller != number:
                continue
            if spec.in_state is not None:
                self._spawn(self._play, spec)       # cuts, or commands, when the traveller's lane reaches in_state
            elif spec.kind in BETWEEN_TRAVELLERS or spec.kind is FaultKind.POWER_CUT:
                self._play(spec)
                self._await_idle(spec)
            else:
                self._spawn(self._play, spec)
                self._await_begun(spec)
                if spec.kind is FaultKind.CLOCK_STEP:
                    time.sleep(CLOCK_SETTLE_S)      # the appliance re-reads its clock state this often

    def finish(self) -> None:
        for thread in self._threads:
            thread.join(MAX_JOIN_S)
        self._stop.set()

    def results(self, alarms: list[str]) -> list[FaultResult]:
        ordered = [self._results[id(spec)] for spec in self.faults]
        for result in ordered:
            result.alarms = list(alarms)
        return ordered

    def _timed(self, timed: list[FaultSpec]) -> None:
        started = time.monotonic()
        for spec in timed:
            if self._stop.wait(max(0.0, started + spec.at - time.monotonic())):
                return
            self._spawn(self._play, spec)

    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, name="fault", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _await_begun(self, spec: FaultSpec) -> None:
        """A fault into the traveller has begun; a command has been answered and watched."""
        result = self._results[id(spec)]
        if spec.kind in COMMANDS:
            def answered() -> bool:     # and watched: its states, and the doors once they have moved
                watched = (result.states or not spec.expect_state) and \
                    (result.released is not None or spec.expect_released is None)
                return bool(result.command_result and watched) or bool(result.error)
            wait_until(answered, 15.0, WATCH_S)
            return
        wait_until(lambda: result.states or result.error, 10.0, WATCH_S)

    def _await_idle(self, spec: FaultSpec) -> None:
        if not wait_until(lambda: self.bench.appliance.lane_state() == "idle", IDLE_TIMEOUT_S, WATCH_S):
            self._results[id(spec)].error = (f"the lane did not come back to idle after the fault "
                                             f"(state {self.bench.appliance.lane_state()})")

    # --- what ------------------------------------------------------------------------------------
    def _play(self, spec: FaultSpec) -> None:
        result = self._results[id(spec)]
        try:
            if spec.kind in COMMANDS:
                self._await_state(spec)
                result.command_result = send_fault_command(self.bench, spec, self._document_number,
                                                           self._next_version)
                self._watch(result, COMMAND_WATCH_S if spec.expect_state else 0.0)
                self._doors_after(spec, result)
                return
            if spec.kind is FaultKind.POWER_CUT:
                self._power_cut(spec, result)
                return
            begin, end = self._actions(spec)
            begin()
            try:
                self._watch(result, spec.for_s)
            finally:
                end()
        except FaultUnavailable as exc:
            result.error = str(exc)
        except Exception as exc:  # a fault that breaks the bench is a failed fault, never a hang
            log.warning("fault %s failed: %s", spec.where, exc)
            result.error = f"{type(exc).__name__}: {exc}"

    def _doors_after(self, spec: FaultSpec, result: FaultResult) -> None:
        """Doors move after the answer: wait (a door's swing, bounded) for what the tester expects."""
        if spec.expect_released is None:
            return
        wait_until(lambda: released_doors(self.bench.gate) == spec.expect_released, COMMAND_WATCH_S, WATCH_S)
        result.released = released_doors(self.bench.gate)

    def _await_state(self, spec: FaultSpec) -> None:
        """Until the traveller's lane is in the fault's in_state (none: at once)."""
        if spec.in_state is not None and not wait_until(
                lambda: self.bench.appliance.lane_state() == spec.in_state, IDLE_TIMEOUT_S, WATCH_S / 4):
            raise FaultUnavailable(f"the lane never reached {spec.in_state} for {spec.kind.value}")

    def _power_cut(self, spec: FaultSpec, result: FaultResult) -> None:
        self._await_state(spec)
        self.bench.power_cut(spec, result, lambda seconds: self._watch(result, seconds))

    def _watch(self, result: FaultResult, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while True:
            state = self.bench.appliance.lane_state()
            if not result.states or result.states[-1] != state:
                result.states.append(state)
            if time.monotonic() >= deadline:
                return
            time.sleep(WATCH_S)

    def _actions(self, spec: FaultSpec):
        """(begin, end) of the fault, on the bench's devices; looked up only when played."""
        b = self.bench
        actions = {
            FaultKind.READER_UNPLUG: (lambda: b.reader.unplug(), lambda: b.reader.open()),
            FaultKind.CAMERA_STALL: (lambda: b.camera.stall(True), lambda: b.camera.stall(False)),
            FaultKind.BROKER_DOWN: (lambda: b.broker.stop(), lambda: b.broker.start()),
            FaultKind.CONSUMER_OFFLINE: (lambda: b.consumer.stop(), lambda: b.consumer.start()),
            FaultKind.EMERGENCY: (lambda: b.gate.emergency(True), lambda: b.gate.emergency(False)),
            FaultKind.TAMPER: (lambda: b.gate.tamper(True), lambda: b.gate.tamper(False)),
            FaultKind.PCSCD_KILL: (self._kill_pcscd, self._start_pcscd),
            FaultKind.CLOCK_STEP: (lambda: self._step_clock(spec, 1), lambda: self._step_clock(spec, -1)),
            FaultKind.POLICY_HANG: (lambda: b.hang_policy(True), lambda: b.hang_policy(False)),
        }
        return actions[spec.kind]

    def _own_version(self) -> int:
        self._alert_version += 1
        return self._alert_version

    def _pcscd(self):
        return self.bench.pcscd or self.bench.lent_pcscd

    def _kill_pcscd(self) -> None:
        pcscd = self._pcscd()
        if pcscd is None or pcscd.process is None:
            raise FaultUnavailable("pcscd_kill needs the bench's own pcscd (not --vpcd-port or the system's)")
        pcscd.process.kill()        # SIGKILL of our own child, by its handle: never another pcscd
        pcscd.process.wait()
        pcscd.process = None

    def _start_pcscd(self) -> None:
        self._pcscd().start()

    def _step_clock(self, spec: FaultSpec, sign: int) -> None:
        with self._lock:
            self.bench.clock_offset += sign * dt.timedelta(seconds=spec.step_s)
            if spec.ntp_lost:
                self.bench.clock_state = ClockState.NOT_SYNCHRONISED if sign > 0 else ClockState.SYNCHRONISED


MAX_JOIN_S = 2 * 120.0 + 10.0
