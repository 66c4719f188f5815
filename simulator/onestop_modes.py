"""Registration-only and closed at a one-stop post in `gatesim onestop` (issue 17): either country
may set them (its own set-mode), and then they are the lane's mode for both, as the lane runs in the
more restrictive of the two modes (firmware_app/onestop/control.py).

- registration_only: the lane reads the traveller and each country decides and records as usual,
  but no door opens and no officer is asked: the traveller goes to the desk. The run checks that the
  lane did not pass them, that the screen was the neutral referral (`see_officer`, whichever country
  chose the mode), that BOTH records carry `lane_manual_mode` (the lane's mode, naming no country)
  and that neither record names an officer.
- closed: the document on the reader brings back the lane's own closed screen; no transaction
  starts, so neither BMIS receives a record. The run checks exactly that; such a traveller has no
  outcome or reasons to expect and no officer to answer, and the file is refused when it says one.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from firmware_app.policy import LaneMode
from firmware_app.policy.onestop import Role
from firmware_app.policy.reasons import ReasonCode
from simulator.local_process import wait_until
from simulator.scenario import ScenarioError
from simulator.scenario_outcome import TravellerOutcome
from simulator.scenario_traveller import mrz_lines, printed_lines
from simulator.scenario_walk import SCREEN_SETTLE_S, Screens

if TYPE_CHECKING:
    from simulator.onestop_scenario import OnestopTraveller
    from simulator.scenario_model import TravellerSpec

NO_REVIEW = (LaneMode.REGISTRATION_ONLY, LaneMode.CLOSED)     # lane modes in which no officer is asked
NO_RECORD = "no_record"          # a closed lane's "outcome": nobody served, nothing recorded
CLOSED_WATCH_S = 0.6             # how long the run watches that no transaction starts after the document
MODE_WAIT_S = 5.0                # the set-mode reaching the lane (acknowledged before)
POLL_S = 0.01


def check_lane_mode(traveller: OnestopTraveller, where: str) -> None:
    """Refuse what a registration-only or closed lane cannot give (ScenarioError naming the key)."""
    mode = traveller.lane_mode()
    if mode not in NO_REVIEW:
        return
    chosen = " and ".join(f'{role.value}_mode = "{m.value}"' for role, m in traveller.modes().items() if m is mode)
    answered = [role.value for role in traveller.answers()]
    if answered:
        raise ScenarioError(f"{where}: {answered[0]}_officer cannot be answered: with {chosen} the lane is "
                            f"{mode.value} and asks no officer (the traveller goes to the desk)")
    expected = {"expect": traveller.spec.expect, "expect_exit_reasons": traveller.expect_exit_reasons,
                "expect_entry_reasons": traveller.expect_entry_reasons}
    given = [name for name, value in expected.items() if value is not None]
    if mode is LaneMode.CLOSED and given:
        raise ScenarioError(f"{where}: {given[0]} does not apply: with {chosen} the lane is closed, no "
                            "transaction starts and neither country records one (the run checks the closed "
                            "screen and that neither BMIS receives a record)")


def mode_differences(traveller: OnestopTraveller, lane, reasons: dict) -> list[str]:
    """What a registration-only or closed lane must show, whatever the file expects."""
    mode = traveller.lane_mode()
    if mode is LaneMode.CLOSED:
        return [] if lane.screen == "closed" else [f"screen {lane.screen}, wanted closed (the lane is closed)"]
    if mode is not LaneMode.REGISTRATION_ONLY:
        return []
    found = [f"outcome {lane.outcome} in a registration_only lane"] if lane.outcome == "passed" else []
    if lane.screen.split(">")[-1] != "see_officer" or "please_proceed" in lane.screen:
        found.append(f"screen {lane.screen}, wanted see_officer (registration_only: to the desk)")
    found += [f"{role.value} reasons lack {ReasonCode.LANE_MANUAL_MODE.value}" for role in Role
              if ReasonCode.LANE_MANUAL_MODE.value not in reasons.get(role, ())]
    return found


def closed_lane(bench, number: int, spec: TravellerSpec, errors: list[str]) -> TravellerOutcome:
    """The traveller puts the document on the reader of the closed lane: what they see, and that no
    transaction starts and no crossing record reaches either BMIS (each found otherwise is appended
    to `errors`)."""
    if not wait_until(lambda: bench.appliance.lane_state() == "closed", MODE_WAIT_S, POLL_S):
        errors.append(f"the lane is {bench.appliance.lane_state()}, not closed")
    time.sleep(SCREEN_SETTLE_S)         # the mode's own closed screen is not the traveller's
    records = _crossings(bench)
    screens = Screens(bench.appliance.views)
    started = time.monotonic()
    try:
        bench.reader.faults = spec.fault_plan
        bench.reader.send(printed_lines(spec, mrz_lines(number, spec, bench.now.date())))
        if not wait_until(lambda: bool(screens.seen), MODE_WAIT_S, POLL_S):
            errors.append("the lane showed nothing when the document was put on the reader")
        if wait_until(lambda: bench.appliance.runner.data.txn is not None, CLOSED_WATCH_S, POLL_S):
            errors.append("a transaction started in the closed lane")
    finally:
        screens.close()
    errors += [f"the {role.value} BMIS received a crossing record from the closed lane"
               for role, count in _crossings(bench).items() if count != records[role]]
    screen = ">".join(dict.fromkeys(screens.seen)) or "-"
    return TravellerOutcome(spec.label, NO_RECORD, (), screen, {}, time.monotonic() - started, None)


def _crossings(bench) -> dict[Role, int]:
    return {role: len(consumer.messages(kind="events/crossing")) for role, consumer in bench.consumers.items()}
