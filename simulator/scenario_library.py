"""The scenario library (simulator/scenarios/*.toml) and what it covers: every policy reason code,
every fault kind, every lane mode and the hostile documents must each appear in at least one file,
or be listed in NOT_COVERED with the reason. tests/test_sim_library.py keeps this true, so the
library cannot rot when a reason code or a fault kind is added.

    fast (in `make test`):  FAST files
    all (slow):             flock /tmp/pcscd.lock .venv/bin/python -m pytest -m slow tests/test_sim_library.py
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from simulator.faults import FaultKind
from simulator.scenario import Scenario, load_scenario

LIBRARY = Path(__file__).resolve().parent / "scenarios"
FAST = ("faults.toml", "hostile.toml")

# Reason codes no scenario can produce, and why: each is a guard that no simulated input reaches.
NOT_COVERED = {
    "lane_closed": "a lane closed while a PASS is being decided refers it (lane/flow.py apply_decision, "
                   "tests/test_lane_scenarios.py); a scenario would need a set_mode fault timed inside one "
                   "traveller's decision, which the timeline cannot aim at yet",
    "officer_unidentified": "every officer-console answer names the signed-in officer (officer/review.py; names "
                            "match officer/credentials.py NAME, never empty): no console input gives an answer "
                            "without an officer id",
    "officer_cleared": "one-stop officers (gatesim onestop scripts none): tests/test_onestop_officers.py",
    "pace_downgrade_suspected": "no scenario key rewrites EF.CardAccess between the chip and the reader yet "
                                "(tests/test_pace_downgrade.py does, through real pcscd)",
}


@dataclass
class Coverage:
    reasons: set[str] = field(default_factory=set)
    fault_kinds: set[str] = field(default_factory=set)
    lane_modes: set[str] = field(default_factory=set)
    hostile: set[str] = field(default_factory=set)
    timed: bool = False

    def add(self, scenario: Scenario) -> None:
        for traveller in scenario.travellers:
            self.reasons.update(traveller.expect_reasons or ())
            if traveller.hostile is not None:
                self.hostile.add(traveller.hostile.value)
        for fault in scenario.faults:
            self.fault_kinds.add(fault.kind.value)
            if fault.kind is FaultKind.SET_MODE:
                self.lane_modes.add(fault.mode)
        self.timed = self.timed or scenario.timing is not None


def library_files() -> list[Path]:
    return sorted(LIBRARY.glob("*.toml"))


def coverage(paths: list[Path] | None = None) -> Coverage:
    """What the library covers; the one-stop scenarios (scenarios/onestop/, their own format, run by
    `gatesim onestop`) count for the reason codes their authorities give."""
    found = Coverage()
    for path in paths or library_files():
        found.add(load_scenario(path))
    if paths is None:
        found.reasons.update(onestop_reasons())
    return found


def onestop_reasons() -> set[str]:
    import tomllib

    from simulator.onestop_scenario import parse_onestop
    reasons: set[str] = set()
    for path in sorted((LIBRARY / "onestop").glob("*.toml")):
        for traveller in parse_onestop(tomllib.loads(path.read_text(encoding="utf-8"))):
            reasons.update(traveller.expect_exit_reasons or ())
            reasons.update(traveller.expect_entry_reasons or ())
    return reasons
