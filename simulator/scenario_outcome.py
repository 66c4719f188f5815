"""What became of a scenario traveller: their crossing record as the BMIS received it, compared with
what the scenario file expects (outcome, reason codes, the officer's answer), and the result line the
run prints. `Started` is a traveller the runner has served whose record may still be on its way."""
from __future__ import annotations

from dataclasses import dataclass, field

from simulator.scenario_bench import OFFICER
from simulator.scenario_model import OfficerAnswer, TravellerSpec
from simulator.scenario_walk import Tail


@dataclass
class Started:
    """A traveller the runner has served (start()); their record may still be on its way (tail)."""
    spec: TravellerSpec
    started: float                      # the MRZ sent by the reader (monotonic)
    screen: str
    message: dict | None                # their crossing record (None: walking out behind the lane)
    tail: Tail | None = None
    done_at: float | None = None        # the record seen at the BMIS
    machine_s: float | None = None
    cycle_s: float | None = None
    marks: dict[str, float] = field(default_factory=dict)


@dataclass
class TravellerOutcome:
    label: str
    outcome: str
    reasons: tuple[str, ...]
    screen: str
    timings_ms: dict[str, float]
    seconds: float
    expected: str | None
    msg_id: str = ""
    notes: list[str] = field(default_factory=list)
    expected_reasons: tuple[str, ...] | None = None
    access: str = "-"                      # how the chip was opened (BAC, PACE), from the record
    chip_auth: dict | None = None          # the record's chip authentication result (CA or CAM)
    officer: tuple[str | None, str | None] = (None, None)       # the record's officer id and decision
    expected_officer: tuple[str | None, str | None] | None = None
    machine_s: float | None = None         # timing model: document on the reader to the decision
    cycle_s: float | None = None           # timing model: this traveller in to the next traveller in
    marks: dict[str, float] = field(default_factory=dict)   # timing model: moments on the lane clock (s)

    @property
    def as_expected(self) -> bool:
        return not self.differences()

    @property
    def chip(self) -> str:
        """How the chip was opened and proved genuine, e.g. PACE+CAM, BAC+CA ("-": not read)."""
        auth = self.chip_auth or {}
        return self.access + (f"+{auth.get('check')}" if auth.get("performed") else "")

    def differences(self) -> list[str]:
        """What differs from the scenario's expectations (empty: as expected or nothing expected)."""
        found = []
        if self.expected is not None and self.expected != self.outcome:
            found.append(f"outcome {self.outcome}, wanted {self.expected}")
        if self.expected_reasons is not None and set(self.expected_reasons) != set(self.reasons):
            found.append(f"reasons {','.join(self.reasons) or 'none'}, wanted "
                         f"{','.join(sorted(self.expected_reasons)) or 'none'}")
        if self.expected_officer is not None and self.expected_officer != self.officer:
            found.append(f"officer {self.officer[1] or 'none'} by {self.officer[0] or 'nobody'} in the record, "
                         f"wanted {self.expected_officer[1] or 'none'} by {self.expected_officer[0] or 'nobody'}")
        return found

    def _check(self) -> str:
        if self.expected is None and self.expected_reasons is None:
            return ""
        return "  ok" if self.as_expected else f"  UNEXPECTED ({'; '.join(self.differences())})"

    def line(self, number: int) -> str:
        reasons = ",".join(self.reasons) or "-"
        steps = " ".join(f"{k}={v:.0f}" for k, v in self.timings_ms.items() if k != "total")
        check = self._check()
        timed = "" if self.machine_s is None else f"machine={self.machine_s:.2f}s cycle={self.cycle_s:.1f}s "
        return (f"  {number}. {self.label:<40} {self.outcome:<10} reasons={reasons:<34} chip={self.chip:<8} "
                f"screen={self.screen:<16} {timed}"
                f"{self.seconds:4.1f}s [{steps} ms]{check}")


def crossing_outcome(spec: TravellerSpec, message: dict, screen: str, seconds: float) -> TravellerOutcome:
    data = message["data"]
    decision = data.get("decision") or {}
    reasons = tuple(dict.fromkeys(decision.get("reasons", ())))    # AA and CA may both say clone
    return TravellerOutcome(spec.label, data["outcome"], reasons, screen,
                            dict(data.get("timings_ms", {})), seconds, spec.expect, message["msg_id"],
                            expected_reasons=spec.expect_reasons, access=data.get("access_protocol") or "-",
                            chip_auth=(data.get("chip") or {}).get("chip_auth"),
                            officer=(data.get("officer_id"), data.get("officer_decision")),
                            expected_officer=expected_officer(spec))


def expected_officer(spec: TravellerSpec) -> tuple[str | None, str | None] | None:
    """Who must be named in the crossing record as having decided what (None: not checked)."""
    if spec.officer is None:
        return None
    if spec.officer is OfficerAnswer.NONE:
        return (None, None)
    return (OFFICER, spec.officer.value)
