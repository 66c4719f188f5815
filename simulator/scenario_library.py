"""The scenario library (simulator/scenarios/*.toml) and what it covers: every policy reason code,
every fault kind, every lane mode and the hostile documents must each appear in at least one file,
or be listed in NOT_COVERED (not yet) or UNREACHABLE (a guard no real input reaches) with the
reason. tests/test_sim_library.py keeps this true, so the library cannot rot when a reason code or
a fault kind is added.

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

# Reason codes a scenario could produce but none does yet, each with why (none today).
NOT_COVERED: dict[str, str] = {}

# Reason codes no real input can produce: defensive guards, each with why. tests/test_sim_library.py
# checks that each is still unreachable (its producers are still the ones named) and that no
# scenario produces it; docs/scenarios.md ("The scenario library") says the same.
UNREACHABLE = {
    "officer_unidentified": "an officer answer without an officer id: every console answer names its signed-in "
                            "officer (officer/review.py; officer/credentials.py NAME is never empty), a one-stop "
                            "answer its reviewing roles; only a one-stop review with no joint decision answers "
                            "with none, and the joint decider remembers its decision before the lane can ask",
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
