"""One-stop scenarios (`gatesim onestop FILE`, issue 17): the scenario file of `gatesim scenario`,
walked through a one-stop lane, with each authority's part checked in its own BMIS.

A traveller table takes the keys of docs/scenarios.md except `alert`, `expect_reasons` and
`officer` (one authority's list, reasons and officers are not the other's), plus the keys in
ONESTOP_KEYS below. A file where any traveller has `exit_officer` or `entry_officer`, or puts an
authority in assisted mode (`exit_mode`, `entry_mode`), runs a staffed post: both authorities'
officer consoles, a simulated officer signed in on each, and every referral waiting for the
referring authority's officer (unanswered: `officer_no_answer` after lane.officer_s). Each
authority's mode is set by its own BMIS (a set-mode signed with its own command key): the lane runs
in the more restrictive of the two, and in assisted mode only the authorities that chose it review
a traveller they passed (firmware_app/onestop/control.py, reviews.py). Registration-only or closed,
set by either authority, is the lane's mode for both (onestop_modes.py checks what each implies).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from firmware_app.onestop.control import RESTRICTION
from firmware_app.policy import LaneMode
from firmware_app.policy.onestop import Role
from firmware_app.policy.reasons import ReasonCode
from simulator.officer_agent import OfficerAgentError
from simulator.onestop_bench import ENTRY_WATCH_LIST, EXIT_BAN_LIST, OFFICERS, OnestopBench
from simulator.onestop_modes import NO_REVIEW, check_lane_mode, closed_lane, mode_differences
from simulator.scenario import (
    KEYS,
    MAX_TRAVELLERS,
    Key,
    Kind,
    OfficerAnswer,
    ScenarioError,
    TravellerSpec,
    _check_value,
    _did_you_mean,
    _where,
    traveller_from,
)
from simulator.scenario_run import ScenarioRunner, TravellerOutcome
from simulator.scenario_traveller import given_name

_REASONS = tuple(r.value for r in ReasonCode)
_ANSWERS = tuple(a.value for a in OfficerAnswer if a is not OfficerAnswer.NONE)
_MODES = tuple(mode.value for mode in RESTRICTION)
ONESTOP_KEYS = (
    Key("nationality", Kind.TEXT, "UTO", "the holder's nationality (ICAO code) in the MRZ; XXA needs the entry "
        "country's visa, which the gate cannot check"),
    Key("exit_ban", Kind.BOOL, "false", "the exit country's BMIS lists the holder on its exit-ban list"),
    Key("entry_alert", Kind.BOOL, "false", "the entry country's BMIS lists the document on its watch list"),
    Key("exit_officer", Kind.CHOICE, "none (nobody answers)", "the exit country's officer, signed in on its own "
        "console, answers this traveller's review (the exit country referred them): accept (clears the exit "
        "country's referral: officer_cleared; the lane passes once every referring officer accepted), refer "
        "(officer_refused), reject (officer_rejected). Any officer key in a file staffs both consoles: every "
        "referral then waits for its officer (unanswered: officer_no_answer after lane.officer_s, 4 s)", _ANSWERS),
    Key("entry_officer", Kind.CHOICE, "none (nobody answers)", "the entry country's officer answers likewise, on "
        "the entry country's own console", _ANSWERS),
    Key("exit_mode", Kind.CHOICE, "normal", "the exit country's own lane mode for this traveller, set before they "
        "arrive by a set-mode from the exit country's BMIS, signed with its own command key (each authority sets "
        "only its own mode; the lane runs in the more restrictive of the two): assisted (the exit country's "
        "officer reviews every traveller, also one both countries passed, and answers with exit_officer; "
        "unanswered: officer_no_answer after lane.officer_s; the key staffs both consoles like the officer "
        "keys), registration_only (the lane reads and records the traveller for both countries and opens no "
        "door: referred to the desk, both records lane_manual_mode, the neutral see_officer screen; no officer "
        "is asked, so no officer key), closed (the lane is closed for both: the document brings back the "
        "neutral closed screen, no transaction starts and neither BMIS receives a record; the traveller takes "
        "no expect, expect_exit_reasons, expect_entry_reasons or officer key) or normal. A traveller without the "
        "key puts the exit country back to normal (only the country that closed the lane reopens it)", _MODES),
    Key("entry_mode", Kind.CHOICE, "normal", "the entry country's own lane mode likewise, set by the entry "
        "country's BMIS; its officer answers with entry_officer", _MODES),
    Key("expect_exit_reasons", Kind.CHOICE_LIST, "none (not checked)",
        "reason codes of the exit country's record, exactly", _REASONS),
    Key("expect_entry_reasons", Kind.CHOICE_LIST, "none (not checked)",
        "reason codes of the entry country's record, exactly", _REASONS),
)
_NOT_HERE = {"alert": "use exit_ban or entry_alert",
             "expect_reasons": "use expect_exit_reasons and expect_entry_reasons",
             "officer": "use exit_officer or entry_officer (each authority's own console), with exit_mode or "
                        "entry_mode = \"assisted\" (each authority's own mode)"}
# every key a one-stop traveller takes, for the "did you mean" of an unknown one
_KNOWN = tuple(dict.fromkeys([k.name for k in KEYS if k.name not in _NOT_HERE] + [k.name for k in ONESTOP_KEYS]))
# what each authority's BMIS must never receive of the other's (checked after the run)
SECRETS = {Role.EXIT: (EXIT_BAN_LIST, "uto-ban-"), Role.ENTRY: (ENTRY_WATCH_LIST, "arc-watch-", "visa_required")}


@dataclass(frozen=True)
class OnestopTraveller:
    spec: TravellerSpec
    exit_ban: bool = False
    entry_alert: bool = False
    expect_exit_reasons: tuple[str, ...] | None = None
    expect_entry_reasons: tuple[str, ...] | None = None
    exit_officer: OfficerAnswer | None = None
    entry_officer: OfficerAnswer | None = None
    exit_mode: LaneMode = LaneMode.NORMAL
    entry_mode: LaneMode = LaneMode.NORMAL

    def answers(self) -> dict[Role, OfficerAnswer]:
        """Role -> what that authority's officer answers, exit first (the order they answer in)."""
        found = {Role.EXIT: self.exit_officer, Role.ENTRY: self.entry_officer}
        return {role: answer for role, answer in found.items() if answer is not None}

    def modes(self) -> dict[Role, LaneMode]:
        """Role -> the mode that authority's BMIS sets for this traveller."""
        return {Role.EXIT: self.exit_mode, Role.ENTRY: self.entry_mode}

    def assisted(self) -> tuple[Role, ...]:
        return tuple(role for role, mode in self.modes().items() if mode is LaneMode.ASSISTED)

    def lane_mode(self) -> LaneMode:
        """The lane's mode for this traveller: the more restrictive of the two authorities'."""
        return max(self.modes().values(), key=RESTRICTION.index)

    def expected_officers(self) -> dict[Role, tuple[str | None, str | None]]:
        """Role -> (officer_id, officer_decision) its record must carry, for a traveller with an officer
        answer or an authority in assisted mode: the answering officer's, else none (that authority's
        officer was not asked, or did not answer). Not checked for other travellers."""
        if self.lane_mode() in NO_REVIEW:
            return dict.fromkeys(Role, (None, None))       # nobody is asked: the traveller goes to the desk
        if not (self.answers() or self.assisted()):
            return {}
        answers = self.answers()
        return {role: (OFFICERS[role], answers[role].value) if role in answers else (None, None) for role in Role}


def staffed(travellers: tuple[OnestopTraveller, ...]) -> bool:
    """Whether the post runs its officer consoles: any traveller has an officer answer or puts an
    authority in assisted mode."""
    return any(traveller.answers() or traveller.assisted() for traveller in travellers)


def onestop_traveller(entry: object, number: int) -> OnestopTraveller:
    if not isinstance(entry, dict):
        raise ScenarioError(f"traveller {number}: must be a table/object")
    where, own, rest = _where(number, entry), {}, dict(entry)
    for name, hint in _NOT_HERE.items():
        if name in rest:
            raise ScenarioError(f"{where}: {name} is not a one-stop key ({hint})")
    for name in rest:
        if name not in _KNOWN:
            raise ScenarioError(f"{where}: unknown key {name!r}{_did_you_mean(name, _KNOWN)} "
                                f"(keys: {', '.join(_KNOWN)})")
    for key in ONESTOP_KEYS:
        if key.name in rest:
            try:
                own[key.name] = _check_value(key, rest.pop(key.name))
            except ValueError as exc:
                raise ScenarioError(f"{where}: {key.name} {exc}") from None
    for name in ("exit_officer", "entry_officer"):
        if name in own:
            own[name] = OfficerAnswer(own[name])
    for name in ("exit_mode", "entry_mode"):
        if name in own:
            own[name] = LaneMode(own[name])
    nationality = own.pop("nationality", "UTO")
    if not (len(nationality) == 3 and nationality.isalpha() and nationality.isupper()):
        raise ScenarioError(f"{where}: nationality must be an ICAO code of 3 capital letters")
    spec = dataclasses.replace(traveller_from(rest, number), nationality=nationality)
    traveller = OnestopTraveller(spec, **own)
    check_lane_mode(traveller, where)
    return traveller


def parse_onestop(document: object) -> tuple[OnestopTraveller, ...]:
    entries = document.get("traveller") if isinstance(document, dict) else None
    if not isinstance(document, dict) or set(document) != {"traveller"} or not isinstance(entries, list) or not entries:
        raise ScenarioError("a scenario has one key, 'traveller' (a list of at least one traveller)")
    if len(entries) > MAX_TRAVELLERS:
        raise ScenarioError(f"at most {MAX_TRAVELLERS} travellers in one scenario")
    return tuple(onestop_traveller(entry, n) for n, entry in enumerate(entries, start=1))


@dataclass
class OnestopOutcome:
    lane: TravellerOutcome              # the exit country's record drives the lane's view
    traveller: OnestopTraveller
    reasons: dict                       # Role -> reason codes in that authority's record
    officers: dict = dataclasses.field(default_factory=dict)   # Role -> (officer_id, officer_decision) of its record
    errors: list[str] = dataclasses.field(default_factory=list)     # answers the officers could not give

    def differences(self) -> list[str]:
        found = self.lane.differences() + list(self.errors) + mode_differences(self.traveller, self.lane,
                                                                                 self.reasons)
        for role, wanted in self.traveller.expected_officers().items():
            if self.officers.get(role) != wanted:
                found.append(f"{role.value} record's officer {self.officers.get(role)}, wanted {wanted}")
        for role, wanted in ((Role.EXIT, self.traveller.expect_exit_reasons),
                             (Role.ENTRY, self.traveller.expect_entry_reasons)):
            if wanted is not None and set(wanted) != set(self.reasons[role]):
                found.append(f"{role.value} reasons {','.join(self.reasons[role]) or 'none'}, wanted "
                             f"{','.join(sorted(wanted)) or 'none'}")
        return found

    def line(self, number: int) -> str:
        check = "" if not self._checked() else ("  ok" if not self.differences()
                                                else f"  UNEXPECTED ({'; '.join(self.differences())})")
        exit_, entry = (",".join(self.reasons[r]) or "-" for r in Role)
        return (f"  {number}. {self.lane.label:<40} {self.lane.outcome:<10} exit={exit_:<24} entry={entry:<24} "
                f"screen={self.lane.screen:<16} {self.lane.seconds:4.1f}s{check}")

    def _checked(self) -> bool:
        t = self.traveller
        return bool(t.expected_officers()) or any(v is not None for v in (t.spec.expect, t.expect_exit_reasons,
                                                                          t.expect_entry_reasons))


class OnestopRunner(ScenarioRunner):
    def __init__(self, bench: OnestopBench):
        super().__init__(bench)
        self._versions = {Role.EXIT: 0, Role.ENTRY: 0}
        self._modes = {Role.EXIT: LaneMode.NORMAL, Role.ENTRY: LaneMode.NORMAL}   # as each authority set it
        self._records: dict[Role, dict] = {}
        self._traveller: OnestopTraveller | None = None
        self._errors: list[str] = []

    def run_onestop(self, travellers, report=lambda outcome, number: None) -> list[OnestopOutcome]:
        outcomes = []
        for number, traveller in enumerate(travellers, start=1):
            self._lists(number, traveller)
            self._set_modes(traveller)
            self._traveller, self._errors = traveller, []
            if traveller.lane_mode() is LaneMode.CLOSED:
                lane = closed_lane(self.bench, number, traveller.spec, self._errors)
                self._records = {role: {} for role in Role}         # nobody served: no record
            else:
                lane = self.run_traveller(number, traveller.spec)
            reasons = {role: tuple(dict.fromkeys((self._records[role].get("decision") or {}).get("reasons", ())))
                       for role in Role}
            officers = {role: (self._records[role].get("officer_id"), self._records[role].get("officer_decision"))
                        for role in Role}
            outcomes.append(OnestopOutcome(lane, traveller, reasons, officers, self._errors))
            report(outcomes[-1], number)
        return outcomes

    def _to_answer(self, spec: TravellerSpec) -> bool:
        return self._traveller is not None and bool(self._traveller.answers())

    def _officer_answers(self, txn_id: str, spec: TravellerSpec) -> None:
        """Each authority's officer answers on its own console, exit first; an answer that cannot be
        given (that authority was not asked, or its case was withdrawn) is a difference of the run."""
        assert self._traveller is not None and isinstance(self.bench, OnestopBench)
        for role, answer in self._traveller.answers().items():
            try:
                self.bench.officers[role].answer(txn_id, answer.value)
            except (OfficerAgentError, OSError) as exc:
                self._errors.append(f"the {role.value} officer could not answer {answer.value}: {exc}")

    def _set_mode(self, mode: str) -> None:
        """Not the lane's single mode: each authority sets its own (`_set_modes`, before the traveller)."""

    def _set_modes(self, traveller: OnestopTraveller) -> None:
        """Each authority's BMIS sets its own mode for this traveller (exit first), only when it changes."""
        for role, mode in traveller.modes().items():
            if mode is self._modes[role]:
                continue
            result = self.bench.command(role, "set-mode", {"mode": mode.value})
            if not result or result.get("status") != "ack":
                raise ScenarioError(f"the {role.value} BMIS set-mode {mode.value} was not accepted: {result}")
            self._modes[role] = mode

    def _lists(self, number: int, traveller: OnestopTraveller) -> None:
        """Each authority's BMIS lists this traveller (a signed alerts-replace) before they arrive."""
        if traveller.exit_ban:
            entry = {"id": f"uto-ban-{number}", "primary": "TRAVELLER", "secondary": given_name(number),
                     "birth_date": "1985-03-15", "category": "exit-ban"}
            self._replace(Role.EXIT, EXIT_BAN_LIST, "person", entry)
        if traveller.entry_alert:
            entry = {"id": f"arc-watch-{number}", "issuing_state": "UTO", "number": f"GS{number:07d}",
                     "category": "wanted"}
            self._replace(Role.ENTRY, ENTRY_WATCH_LIST, "document", entry)

    def _replace(self, role: Role, list_id: str, kind: str, entry: dict) -> None:
        self._versions[role] += 1
        params = {"list_id": list_id, "kind": kind, "version": self._versions[role], "entries": [entry]}
        result = self.bench.command(role, "alerts-replace", params)
        if not result or result.get("status") != "ack":
            raise ScenarioError(f"the {role.value} BMIS alert list was not accepted: {result}")

    def _crossing(self, txn_id: str) -> dict | None:
        """Done when both authorities' BMIS have their record of the transaction."""
        found = {}
        for role, consumer in self.bench.consumers.items():
            for message in consumer.messages(kind="events/crossing"):
                if message["data"].get("transaction_id") == txn_id:
                    found[role] = message
        if len(found) < len(Role):
            return None
        self._records = {role: message["data"] for role, message in found.items()}
        return found[Role.EXIT]
