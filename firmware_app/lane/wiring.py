"""From the config model to the lane's own values: gate layout, lane settings, the policy decider."""
from __future__ import annotations

from collections.abc import Callable

from drivers.gate.layout import Door, DoorPins, FailMode, GateLayout, LayoutKind
from firmware_app.policy import AlertListChecker, Decision, LaneMode, PolicyContext, decide

from .actions import RequestDecision
from .state import LaneSettings, LaneTimeouts
from .supervision import Supervision


def _door(section) -> DoorPins:
    active_high = True if section.relay_active_high is None else section.relay_active_high  # None: mock pins only
    return DoorPins(section.relay, section.closed_sensor, FailMode(section.fail_mode.value), active_high)


def gate_layout(gate) -> GateLayout:
    """`gate` is the config's GateSection; a barrier uses only the entry door."""
    kind = LayoutKind(gate.layout)
    doors = {Door.ENTRY: _door(gate.entry)}
    if kind is LayoutKind.MANTRAP:
        doors[Door.EXIT] = _door(gate.exit)
    return GateLayout(kind, doors, tuple(gate.presence), gate.emergency, gate.tamper, gate.light, gate.buzzer,
                      gate.bounce_time_s, tuple(gate.presence_nc), gate.presence_grace_s)


def lane_settings(config, boot_id: str) -> LaneSettings:
    """`boot_id` must be unique per start (the app draws it from its injected random source)."""
    lane = config.lane
    timeouts = LaneTimeouts(**{name: getattr(lane, name) for name in LaneTimeouts.__dataclass_fields__})
    layout = gate_layout(config.gate)
    fail_modes = tuple((door, pins.fail_mode) for door, pins in layout.doors.items())
    return LaneSettings(device_id=config.device.id, boot_id=boot_id, direction=config.device.direction.value,
                        layout=layout.kind, timeouts=timeouts, document_attempts=lane.document_attempts,
                        face_rounds=lane.face_rounds, more_time_limit=lane.more_time_limit,
                        fail_modes=fail_modes, referral_review=any(a.officers.enabled for a in config.authority))


def supervision(config) -> Supervision:
    """The runner's watchdog settings (LaneRunner(..., supervision=supervision(config)))."""
    lane = config.lane
    return Supervision(stall_s=lane.stall_s, stage_grace_s=lane.stage_grace_s, gate_probe_s=lane.gate_probe_s)


def start_mode(config) -> LaneMode:
    return LaneMode(config.lane.mode)


def hooked_decider(decider: Callable[[RequestDecision], Decision], hook: Callable[[], None]
                   ) -> Callable[[RequestDecision], Decision]:
    """`decider` with `hook` run first, on the decision worker: a test bench's way to hang the policy
    stage (its fault `policy_hang`), so the lane's own decision timeout and watchdog are what act."""
    def decide_after_hook(request: RequestDecision) -> Decision:
        hook()
        return decider(request)
    return decide_after_hook


def policy_decider(policy, alerts: AlertListChecker, today: Callable, bmis_reachable: Callable[[], bool],
                   clock_synchronised: Callable[[], bool], pad_required: bool = False
                   ) -> Callable[[RequestDecision], Decision]:
    """The runner's Decider: the config's policy rules, today's date, the BMIS link state and
    whether that date can be believed (no decision on an unsynchronised clock); `pad_required` is
    the config's face.pad.required."""
    eligible = frozenset(policy.eligible_nationalities)

    def decider(request: RequestDecision) -> Decision:
        context = PolicyContext(today=today(), mode=request.mode, minor_age=policy.minor_age,
                                eligible_nationalities=eligible, allow_offline=policy.allow_offline,
                                bmis_reachable=bmis_reachable(), people_in_lane=request.people_in_lane,
                                pad_required=pad_required, clock_synchronised=clock_synchronised())
        return decide(request.evidence, context, alerts)
    return decider
