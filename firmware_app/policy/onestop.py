"""One-stop border post (issue 17): two authorities decide on the same evidence.

    exit_decision = decide_for(exit_rules, evidence, context, exit_alerts)
    entry_decision = decide_for(entry_rules, evidence, context, entry_alerts)
    joint = JointDecision(exit_decision, entry_decision)
    joint.lane_decision()      # what the lane acts on: PASS only when both pass, else REFER

Each authority's decision is its own: its alert lists, exit bans, visa and minors rules, and its
view of its own BMIS link. The lane decision refers when either does not pass, whatever the
reason: the traveller sees the same neutral screen, and `own_decision` gives each authority only
its own findings and hits (plus what the lane itself added), never the other's.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace

from firmware_app.mrz import MrzResult

from .alerts import AlertListChecker
from .decide import Evidence, PolicyContext, decide, nationality_in
from .reasons import Decision, Finding, Outcome, ReasonCode


class Role(str, enum.Enum):
    EXIT = "exit"
    ENTRY = "entry"


@dataclass(frozen=True)
class AuthorityRules:
    """One authority's rules (built from config's [[authority]] policy by the wiring)."""
    role: Role
    country: str
    document_types: frozenset[str] = frozenset({"P"})     # exact codes, or one letter = its family
    visa_required: frozenset[str] = frozenset()           # entry only
    minor_age: int = 18
    eligible_nationalities: frozenset[str] = frozenset()
    exit_ban_lists: frozenset[str] = frozenset()          # exit only: alert list ids
    allow_offline: bool = True


def decide_for(rules: AuthorityRules, evidence: Evidence, context: PolicyContext,
               alerts: AlertListChecker) -> Decision:
    """`context` carries the lane's facts (date, mode, presence, this authority's link state)."""
    own = replace(context, minor_age=rules.minor_age, eligible_nationalities=rules.eligible_nationalities,
                  allow_offline=rules.allow_offline)
    base = decide(evidence, own, alerts)
    findings = _exit_bans(base, rules) + _own_rules(evidence.mrz, rules)
    if not context.clock_synchronised:
        return Decision(Outcome.REFER, findings, base.alert_hits)    # never pass or reject on a wrong date
    return Decision.from_findings(findings, base.alert_hits)


def _exit_bans(base: Decision, rules: AuthorityRules) -> tuple[Finding, ...]:
    """Hits in an exit-ban list become an EXIT_BAN finding; the others stay ALERT_LIST_HIT."""
    bans = [h for h in base.alert_hits if h.list_id in rules.exit_ban_lists]
    if not bans:
        return base.findings
    others = len(bans) < len(base.alert_hits)
    kept = tuple(f for f in base.findings if others or f.code is not ReasonCode.ALERT_LIST_HIT)
    kinds = ",".join(sorted({h.kind.value for h in bans}))
    return kept + (Finding(ReasonCode.EXIT_BAN, Outcome.REFER, kinds),)


def _own_rules(mrz: MrzResult | None, rules: AuthorityRules) -> tuple[Finding, ...]:
    if mrz is None or not mrz.valid:
        return ()       # decide() already refers an unreadable MRZ
    found = []
    if not document_type_accepted(mrz.document_code, rules.document_types):
        found.append(Finding(ReasonCode.DOCUMENT_TYPE_NOT_ACCEPTED, Outcome.REFER))
    if rules.role is Role.ENTRY and nationality_in(mrz.nationality, rules.visa_required):
        found.append(Finding(ReasonCode.VISA_REQUIRED, Outcome.REFER))
    return tuple(found)


def document_type_accepted(document_code: str, accepted: frozenset[str]) -> bool:
    code = document_code.replace("<", "")
    return any(code == kind or (len(kind) == 1 and code[:1] == kind) for kind in accepted)


@dataclass(frozen=True)
class JointDecision:
    exit: Decision
    entry: Decision
    lane: Decision = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "lane", _combine(self.exit, self.entry))

    def lane_decision(self) -> Decision:
        return self.lane

    def part(self, role: Role) -> Decision:
        return self.exit if role is Role.EXIT else self.entry


def _combine(exit_: Decision, entry: Decision) -> Decision:
    """PASS only when both pass; otherwise REFER (one authority's REJECT stays in its own record).
    Its findings hold both are kept in the lane's view so its own rules (alarms for a presentation
    attack or a hit) still fire; `own_decision` splits them again before anything is recorded."""
    findings = exit_.findings + entry.findings
    hits = exit_.alert_hits + entry.alert_hits
    if exit_.passed and entry.passed:
        return Decision(Outcome.PASS, findings, hits)
    return Decision(Outcome.REFER, findings, hits)


def own_decision(joint: JointDecision | None, role: Role, applied: Decision | None) -> Decision | None:
    """The decision one authority's record carries.

    `applied` is the decision the lane recorded: the joint lane decision plus any findings the lane
    added (occupied lane, officer, mode). Those additions are the lane's own and go to both. When
    the lane did not act on `joint` (a decision timeout, no decision), `applied` is the lane's own,
    and any alert data in it is withheld from both (it cannot be attributed)."""
    if applied is None:
        return None
    if joint is None or applied.findings[:len(joint.lane.findings)] != joint.lane.findings:
        return _without_alert_data(applied)
    own = joint.part(role)
    added = applied.findings[len(joint.lane.findings):]
    outcome = max((own.outcome,) + tuple(f.outcome for f in added), key=lambda o: o.severity)
    return Decision(outcome, own.findings + added, own.alert_hits)


_ALERT_CODES = frozenset({ReasonCode.ALERT_LIST_HIT, ReasonCode.EXIT_BAN})


def _without_alert_data(decision: Decision) -> Decision:
    if not decision.alert_hits and not any(f.code in _ALERT_CODES for f in decision.findings):
        return decision
    kept = tuple(f for f in decision.findings if f.code not in _ALERT_CODES)
    return Decision(decision.outcome, kept, ())
