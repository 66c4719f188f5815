"""Device faults and BMIS commands on a scenario's timeline ([[fault]] tables), each with what the
tester expects to see.

    [[fault]]
    kind = "reader_unplug"       # what happens (FAULT_KINDS)
    before_traveller = 2         # or: at = 12.5 (seconds from the first traveller)
    for_s = 3                    # how long it lasts (then the device comes back)
    expect_state = "out_of_service"   # the lane must be seen in this state meanwhile
    expect_alarm = "device_fault"     # the BMIS must have received this alarm kind in the run

Faults between travellers (reader_unplug, pcscd_kill, emergency, tamper) are over, and the lane
idle again, before that traveller comes; the others (camera_stall, broker_down, consumer_offline,
clock_step, policy_hang) last into the traveller's transaction. `at` faults fire at their time whatever is
happening. Commands (set_mode, alert_push, override, csca_update) are signed BMIS commands;
`expect_result` checks the gate's answer. A power_cut SIGKILLs the appliance, which then runs as
its own gate-app process (simulator/gate_app_bench.py). Kinds this simulator cannot do yet are
refused by name (NOT_SUPPORTED).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, fields

from firmware_app.lane.state import State
from firmware_app.policy.modes import LaneMode

MAX_FAULTS = 200
MAX_FOR_S = 120.0
MAX_AT_S = 24 * 3600.0
MAX_STEP_S = 20 * 366 * 86400.0


class FaultSpecError(ValueError):
    """A [[fault]] table is not usable (names the fault and the key)."""


class FaultKind(str, enum.Enum):
    READER_UNPLUG = "reader_unplug"        # the passport reader's USB cable out, then back
    PCSCD_KILL = "pcscd_kill"              # the bench's own pcscd SIGKILLed, then started again
    CAMERA_STALL = "camera_stall"          # the camera delivers no frame, then recovers
    BROKER_DOWN = "broker_down"            # mosquitto stopped, then started again
    CONSUMER_OFFLINE = "consumer_offline"  # the BMIS consumer disconnects, then comes back
    CLOCK_STEP = "clock_step"              # the wall clock jumps by step_s (and NTP is lost if said)
    EMERGENCY = "emergency"                # the fire loop opens, then closes
    TAMPER = "tamper"                      # the tamper loop opens, then closes
    SET_MODE = "set_mode"                  # BMIS command set-mode {mode}
    ALERT_PUSH = "alert_push"              # BMIS command alerts-replace: a traveller's document stolen
    POLICY_HANG = "policy_hang"            # the policy stage hangs (a bench hook on the decision worker)
    OVERRIDE = "override"                  # BMIS command override {action, door} (an officer, remotely)
    CSCA_UPDATE = "csca_update"            # BMIS command pki-update: the new CSCA (or its CRL)
    POWER_CUT = "power_cut"                # gate-app (and gate-safety) SIGKILLed, restarted after for_s


BETWEEN_TRAVELLERS = {FaultKind.READER_UNPLUG, FaultKind.PCSCD_KILL, FaultKind.EMERGENCY, FaultKind.TAMPER}
COMMANDS = {FaultKind.SET_MODE, FaultKind.ALERT_PUSH, FaultKind.OVERRIDE, FaultKind.CSCA_UPDATE}
NOT_SUPPORTED: dict[str, str] = {}      # kinds named in the issue that the simulator cannot play yet
DOORS = ("entry", "exit")


@dataclass(frozen=True)
class FaultSpec:
    kind: FaultKind
    label: str = ""
    at: float | None = None
    before_traveller: int | None = None
    for_s: float = 0.0
    mode: str | None = None
    document_of: int | None = None
    step_s: float = 0.0
    ntp_lost: bool = False
    expect_state: str | None = None
    expect_alarm: str | None = None
    expect_result: str | None = None
    action: str | None = None                   # override
    door: str | None = None                     # override
    signature: str = "valid"                    # commands: valid, or unknown_key (a refused command)
    revoke: bool = False                        # csca_update: the new CSCA's CRL revoking its signer
    in_state: str | None = None                 # power_cut, set_mode with before_traveller: in this lane state
    expect_released: tuple[str, ...] | None = None   # override: doors released after the answer

    @property
    def where(self) -> str:
        when = f"at {self.at:g} s" if self.at is not None else f"before traveller {self.before_traveller}"
        return f"{self.kind.value} {when}" + (f" ({self.label})" if self.label else "")


FAULT_KEY_HELP = {
    "kind": "what happens: " + ", ".join(k.value for k in FaultKind),
    "label": "what the fault stands for (printed)",
    "at": "seconds from the first traveller's start (a number); or",
    "before_traveller": "the traveller (1, 2, ...) before whom it happens",
    "for_s": "how long the fault lasts, seconds (required for every kind but the commands)",
    "mode": "set_mode: " + ", ".join(m.value for m in LaneMode),
    "document_of": "alert_push: the traveller (number) whose document the BMIS lists as stolen",
    "step_s": "clock_step: seconds the wall clock jumps (negative: back); stepped back after for_s",
    "ntp_lost": "clock_step: NTP reports the clock not synchronised meanwhile (true/false)",
    "expect_state": "a lane state that must be seen while the fault lasts (set_mode: within a second of the "
                    "answer): " + ", ".join(s.value for s in State),
    "expect_alarm": "an alarm kind the BMIS must receive during the run (e.g. device_fault, tamper, emergency)",
    "expect_result": "commands: the gate's answer, ack or nack",
    "action": "override: open or close",
    "door": "override: entry, exit or all",
    "signature": "commands: valid (the bench's BMIS key), or unknown_key (signed by a key the gate does "
                 "not trust: the gate must refuse it)",
    "revoke": "csca_update: push the new CSCA's CRL revoking its Document Signer (true/false; "
              "default false: push the new CSCA certificate)",
    "in_state": "power_cut or set_mode with before_traveller: cut, or send the command, when that traveller's "
                "lane reaches this state (e.g. decide: during the decision; hold the decision with a policy_hang "
                "to land inside it); " + ", ".join(s.value for s in State if s is not State.IDLE),
    "expect_released": "override: the doors released (open) once the gate has answered, a list "
                       "([] = every door secured)",
}


def faults_from(entries: object, travellers: int) -> tuple[FaultSpec, ...]:
    if not isinstance(entries, list):
        raise FaultSpecError("'fault' must be a list of tables ([[fault]])")
    if len(entries) > MAX_FAULTS:
        raise FaultSpecError(f"at most {MAX_FAULTS} faults in one scenario")
    return tuple(fault_from(entry, number, travellers) for number, entry in enumerate(entries, start=1))


def fault_from(entry: object, number: int, travellers: int) -> FaultSpec:
    if not isinstance(entry, dict):
        raise FaultSpecError(f"fault {number}: must be a table/object")
    where = f"fault {number}" + (f" ({entry['label']!r})" if isinstance(entry.get("label"), str) else "")
    _known_keys(entry, where)
    kind = _kind(entry.get("kind"), where)
    values = {"kind": kind}
    for name, check in _CHECKS.items():
        if name in entry:
            try:
                values[name] = check(entry[name])
            except (TypeError, ValueError) as exc:
                raise FaultSpecError(f"{where}: {name} {exc}") from None
    spec = FaultSpec(**values)
    _check_whole(spec, where, travellers)
    return spec


def _known_keys(entry: dict, where: str) -> None:
    from simulator.scenario_keys import _did_you_mean
    for name in entry:
        if name not in FAULT_KEY_HELP:
            raise FaultSpecError(f"{where}: unknown key {name!r}{_did_you_mean(name, FAULT_KEY_HELP)} "
                                 f"(keys: {', '.join(FAULT_KEY_HELP)})")


def _kind(value: object, where: str) -> FaultKind:
    from simulator.scenario_keys import _did_you_mean
    if not isinstance(value, str):
        raise FaultSpecError(f"{where}: kind is required (a string: {', '.join(k.value for k in FaultKind)})")
    if value in NOT_SUPPORTED:
        raise FaultSpecError(f"{where}: kind {value!r} is not supported yet: {NOT_SUPPORTED[value]}")
    try:
        return FaultKind(value)
    except ValueError:
        kinds = [k.value for k in FaultKind]
        raise FaultSpecError(f"{where}: kind must be one of {', '.join(kinds)}, not {value!r}"
                             f"{_did_you_mean(value, kinds)}") from None


def _number(low: float, high: float):
    def check(value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"must be a number from {low:g} to {high:g}, not {value!r}")
        return float(value)
    return check


def _count(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"must be a traveller number (1, 2, ...), not {value!r}")
    return value


def _boolean(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false (a boolean), not {value!r}")
    return value


def _choice(values: list[str]):
    def check(value: object) -> str:
        from simulator.scenario_keys import _did_you_mean
        if value not in values:
            raise ValueError(f"{value!r} is not one of {', '.join(values)}{_did_you_mean(value, values)}")
        return value
    return check


def _doors(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or any(door not in DOORS for door in value) or len(set(value)) != len(value):
        raise ValueError(f"must be a list of distinct doors ({', '.join(DOORS)}), not {value!r}")
    return tuple(sorted(value))


def _text(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError(f"must be a non-empty string (at most 200 characters), not {value!r}")
    return value


_CHECKS = {
    "label": _text, "at": _number(0.0, MAX_AT_S), "before_traveller": _count, "for_s": _number(0.0, MAX_FOR_S),
    "mode": _choice([m.value for m in LaneMode]), "document_of": _count, "step_s": _number(-MAX_STEP_S, MAX_STEP_S),
    "ntp_lost": _boolean, "expect_state": _choice([s.value for s in State]), "expect_alarm": _text,
    "expect_result": _choice(["ack", "nack"]), "action": _choice(["open", "close"]),
    "door": _choice([*DOORS, "all"]), "signature": _choice(["valid", "unknown_key"]), "revoke": _boolean,
    "in_state": _choice([s.value for s in State if s is not State.IDLE]), "expect_released": _doors,
}


def _check_whole(spec: FaultSpec, where: str, travellers: int) -> None:
    if (spec.at is None) == (spec.before_traveller is None):
        raise FaultSpecError(f"{where}: give exactly one of 'at' (seconds) and 'before_traveller'")
    if spec.before_traveller is not None and spec.before_traveller > travellers:
        raise FaultSpecError(f"{where}: before_traveller {spec.before_traveller}, but there are {travellers}")
    wanted = _REQUIRED.get(spec.kind, ())
    for name in wanted:
        if getattr(spec, name) in (None, 0.0):
            raise FaultSpecError(f"{where}: {spec.kind.value} needs {name}")
    allowed = set(_COMMON) | set(wanted) | set(_OPTIONAL.get(spec.kind, ()))
    for item in fields(spec):
        if item.name not in allowed and getattr(spec, item.name) != item.default:
            raise FaultSpecError(f"{where}: {item.name} does not apply to {spec.kind.value}")
    if spec.document_of is not None and spec.document_of > travellers:
        raise FaultSpecError(f"{where}: document_of {spec.document_of}, but there are {travellers} travellers")
    if spec.in_state is not None and spec.before_traveller is None:
        raise FaultSpecError(f"{where}: in_state needs before_traveller (the traveller whose lane it waits for)")


_COMMON = ("kind", "label", "at", "before_traveller", "expect_alarm")
_REQUIRED = {FaultKind.SET_MODE: ("mode",), FaultKind.ALERT_PUSH: ("document_of",),
             FaultKind.CLOCK_STEP: ("for_s",), FaultKind.OVERRIDE: ("action", "door")}
_OPTIONAL = {FaultKind.SET_MODE: ("expect_result", "expect_state", "signature", "in_state"),
             FaultKind.ALERT_PUSH: ("expect_result", "signature"),
             FaultKind.OVERRIDE: ("expect_result", "expect_state", "signature", "expect_released"),
             FaultKind.CSCA_UPDATE: ("expect_result", "signature", "revoke"),
             FaultKind.CLOCK_STEP: ("step_s", "ntp_lost", "expect_state"),
             FaultKind.POWER_CUT: ("expect_state", "in_state")}
_REQUIRED[FaultKind.POWER_CUT] = ("for_s",)
for _kind_ in FaultKind:
    if _kind_ not in COMMANDS and _kind_ not in (FaultKind.CLOCK_STEP, FaultKind.POWER_CUT):
        _REQUIRED[_kind_] = ("for_s",)
        _OPTIONAL[_kind_] = ("expect_state",)


KIND_HELP = {
    FaultKind.READER_UNPLUG: "the passport reader's cable out (its pty closed), back after for_s",
    FaultKind.PCSCD_KILL: "the bench's own pcscd SIGKILLed, started again after for_s",
    FaultKind.CAMERA_STALL: "the camera delivers no frame for for_s",
    FaultKind.BROKER_DOWN: "mosquitto stopped for for_s",
    FaultKind.CONSUMER_OFFLINE: "the BMIS consumer disconnected for for_s",
    FaultKind.CLOCK_STEP: "the appliance's wall clock jumps by step_s for for_s; ntp_lost: NTP says unsynchronised",
    FaultKind.EMERGENCY: "the fire loop open for for_s",
    FaultKind.TAMPER: "the tamper loop open for for_s",
    FaultKind.SET_MODE: "signed BMIS command set-mode {mode}; with in_state, sent when the traveller's lane "
                        "reaches that state (closed during a decision: no door opens, lane_closed)",
    FaultKind.ALERT_PUSH: "signed BMIS command alerts-replace listing document_of's document as stolen",
    FaultKind.POLICY_HANG: "every decision blocks for for_s (until the fault ends) before the policy runs: the "
                           "lane's decision timeout (lane.decision_s, 5 s) refers with decision_unavailable",
    FaultKind.OVERRIDE: "signed BMIS command override {action} {door} (operator bmis-sim); a door opened "
                        "stays open until closed or the lane's override hold expires",
    FaultKind.CSCA_UPDATE: "signed BMIS command pki-update with the bench's second CSCA (travellers with "
                           "csca = \"new\"), or with revoke: that CSCA's CRL revoking its Document Signer",
    FaultKind.POWER_CUT: "the box loses power: gate-app and gate-safety SIGKILLed, restarted (gate-safety "
                         "first, as systemd orders them) after for_s; the scenario then runs gate-app as its "
                         "own process (docs/scenarios.md, 'Power cuts')",
}


def fault_help() -> list[str]:
    lines = [f"  {name}: {text}" for name, text in FAULT_KEY_HELP.items()]
    lines += ["  kinds:"] + [f"    {kind.value}: {text}" for kind, text in KIND_HELP.items()]
    if NOT_SUPPORTED:
        lines += ["  not supported yet (refused): " + "; ".join(f"{k} ({v})" for k, v in NOT_SUPPORTED.items())]
    return lines
