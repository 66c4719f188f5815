"""Travellers through the appliance when it runs as its own gate-app process (gate_app_bench.py).

What differs from the in-process runner: the lane's transaction is not visible, so a traveller's
crossing record is the first new one the BMIS receives after they present their document, and the
traveller walks by the doors (in when the entry is released and open, out when the exit is); the
screens are not watched ("-"). Only walking travellers in normal mode (assisted mode's officer
works too): tailgaters and the emergency behaviour need the lane's phases, and are refused.

A traveller caught by a power cut: gate-app restarts with the doors secured, voids their unfinished
transaction and reports it to the BMIS (an exception event, no crossing); once the lane is back in
service the traveller presents the document again and is decided afresh. That is what a border
agency expects of a gate: nobody passes because of the restart, nobody is decided twice, and the
traveller is not lost (their outcome line shows `power_cut>presented again`).
"""
from __future__ import annotations

import time

from drivers.gate.layout import Door
from simulator.gate_link import GateLinkDown
from simulator.scenario import Behaviour, ScenarioError, TravellerSpec
from simulator.scenario_bench import DEVICE_ID
from simulator.scenario_run import (
    DECIDED_STATES,
    POLL_S,
    TRAVELLER_TIMEOUT_S,
    ScenarioRunner,
    TravellerOutcome,
    TravellerStuck,
    mrz_lines,
)

CUT_ALLOWANCE_S = 120.0     # a traveller caught by a power cut waits for the boot too
IN_PROCESS_ONLY = {"camera_stall": "the camera is a dir:// folder gate-app reads",
                   "clock_step": "gate-app reads the machine's own clock",
                   "policy_hang": "the hang is a hook on the decision worker of an in-process appliance"}


def check_scenario(scenario) -> None:
    """Refuse, before any service starts, what this bench cannot play (named, with the reason)."""
    for number, spec in enumerate(scenario.travellers, start=1):
        if spec.behaviour is not Behaviour.WALK:
            raise ScenarioError(f"traveller {number} ({spec.label!r}): behaviour {spec.behaviour.value} needs the "
                                f"in-process bench (the lane's passage phases are not visible from outside gate-app)")
    for number, fault in enumerate(scenario.faults, start=1):
        if fault.kind.value in IN_PROCESS_ONLY:
            raise ScenarioError(f"fault {number} ({fault.where}): not with gate-app as its own process: "
                                f"{IN_PROCESS_ONLY[fault.kind.value]}")


class GateAppRunner(ScenarioRunner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._known: set[str] = set()      # the transactions whose crossing the BMIS already has

    def run_traveller(self, number: int, spec: TravellerSpec) -> TravellerOutcome:
        self._lines = mrz_lines(number, spec, self.bench.now.date())
        self._fresh_crossings()
        return super().run_traveller(number, spec)

    def _fresh_crossings(self) -> list[dict]:
        """The crossing records the BMIS stored since the last look, of transactions not seen before;
        reads only the new rows (a soak must not parse the whole store on every poll)."""
        messages, self._seen = self.bench.consumer.messages_after(self._seen, kind="events/crossing",
                                                                  device_id=DEVICE_ID)
        fresh = [m for m in messages if m["data"].get("transaction_id") not in self._known]
        self._known.update(m["data"].get("transaction_id") for m in messages)
        return fresh

    def _drive(self, spec: TravellerSpec, pace=None) -> tuple[dict, str, float]:
        bench, walker = self.bench, _DoorWalker(self.bench.gate)
        cuts, screen, decided = bench.power_cuts, "-", None
        deadline = time.monotonic() + TRAVELLER_TIMEOUT_S
        while time.monotonic() < deadline:
            state = bench.appliance.lane_state()
            if decided is None and state in DECIDED_STATES:
                decided = time.monotonic()
            walker.step()
            if bench.power_cuts != cuts and bench.powered:
                walker.step_back()                      # somebody inside leaves through the released entry
                if state == "idle" and not bench.gate.inside:
                    cuts, screen, decided = bench.power_cuts, "power_cut>presented again", None
                    walker = _DoorWalker(bench.gate)
                    bench.reader.send(self._lines)      # the document lifted and placed again
                    deadline = time.monotonic() + TRAVELLER_TIMEOUT_S
            elif not bench.powered:
                deadline = max(deadline, time.monotonic() + CUT_ALLOWANCE_S)
            message = self._new_crossing()
            if message is not None:
                walker.finish()
                return message, screen, decided or time.monotonic()
            time.sleep(POLL_S)
        walker.finish()
        raise TravellerStuck(f"no crossing record at the BMIS within {TRAVELLER_TIMEOUT_S:.0f} s "
                             f"(lane state {bench.appliance.lane_state()})")

    def _new_crossing(self) -> dict | None:
        fresh = self._fresh_crossings()
        return fresh[0] if fresh else None


class _DoorWalker:
    """A traveller who steps in when the entry opens and out when the exit opens."""

    def __init__(self, gate):
        self.gate = gate
        self.entered = self.left = False

    def step(self) -> None:
        try:
            outputs = self.gate.outputs()
        except GateLinkDown:
            return                      # the power is off: nobody moves through a dead gate
        open_ = set(outputs["released"]) & set(outputs["doors_open"])
        if not self.entered and Door.ENTRY.value in open_:
            self.entered = True
            self.gate.set_inside(1)
        elif self.entered and not self.left and self._exit() in open_:
            self.left = True
            self.gate.set_inside(0)

    def step_back(self) -> None:
        """After a restart with the traveller inside: out through the entry once it is released."""
        try:
            outputs = self.gate.outputs()
        except GateLinkDown:
            return
        if self.gate.inside and Door.ENTRY.value in set(outputs["released"]) & set(outputs["doors_open"]):
            self.gate.set_inside(0)

    def _exit(self) -> str:
        return Door.EXIT.value if Door.EXIT in self.gate.layout.doors else Door.ENTRY.value

    def finish(self) -> None:
        if self.entered and not self.left:
            try:
                self.gate.set_inside(0)
            except GateLinkDown:
                pass
