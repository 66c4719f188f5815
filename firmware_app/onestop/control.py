"""What each authority's BMIS commands may do to the shared lane.

Each authority sets its own mode; the lane runs in the more restrictive of the two, so closing the
lane is open to either and reopening it needs the one who closed it. Door overrides that secure
the doors are open to either. Opening a door by override needs the authority whose control is in
effect at that door (`door_controls`):

  * in a mantrap, the entry door is on the exit country's side: whoever passes it leaves that
    country's territory for the control zone, so the EXIT authority's control is in effect there;
    the exit door lets a person into the entry country, so the ENTRY authority's control is in
    effect there. Each may open its own door; opening "all" needs both, so it is refused to either
    (each opens its own door);
  * a barrier lane has one door that is at once the exit from one country and the admission into
    the other: both controls are in effect, so no single authority opens it (an officer on the spot
    does).
The lane's own rules still apply to an allowed opening (never in a passage or an emergency, one
person, never trapped, the hold expires); a refused one is nacked with the reason and never reaches
the lane.
"""
from __future__ import annotations

import logging
import threading

from firmware_app.policy import LaneMode
from firmware_app.policy.onestop import Role

from .errors import CommandNotPermitted

log = logging.getLogger("gate.onestop")
# most restrictive last: the lane takes the later of the two authorities' modes
RESTRICTION = (LaneMode.NORMAL, LaneMode.ASSISTED, LaneMode.REGISTRATION_ONLY, LaneMode.CLOSED)


class ModeArbiter:
    def __init__(self, start: LaneMode):
        self._modes = {Role.EXIT: start, Role.ENTRY: start}
        self._lock = threading.Lock()

    def set(self, role: Role, mode: LaneMode) -> LaneMode:
        """This authority's mode; returns the lane's mode (the more restrictive)."""
        with self._lock:
            self._modes[role] = LaneMode(mode)
            return self.effective()

    def effective(self) -> LaneMode:
        return max(self._modes.values(), key=RESTRICTION.index)

    def mode_of(self, role: Role) -> LaneMode:
        return self._modes[role]


def door_controls(layout: str) -> dict[str, Role]:
    """Door name -> the authority whose control is in effect there (see above); a door not named
    has both controls in effect (a barrier's single door)."""
    return {} if layout == "barrier" else {"entry": Role.EXIT, "exit": Role.ENTRY}


class AuthorityLaneControl:
    """One authority's LaneControl (bmis/commands/processor.py) over the lane's own control."""

    def __init__(self, role: Role, arbiter: ModeArbiter, lane, controls: dict[str, Role] | None = None):
        self._role, self._arbiter, self._lane = role, arbiter, lane
        self._controls = door_controls("mantrap") if controls is None else dict(controls)

    def attach(self, runner) -> None:
        """The lane's own control reaches the runner (both authorities share it)."""
        self._lane.attach(runner)

    def set_mode(self, mode: LaneMode, operator_id: str | None) -> None:
        effective = self._arbiter.set(self._role, mode)
        log.info("%s authority mode -> %s; lane mode %s", self._role.value, LaneMode(mode).value, effective.value)
        self._lane.set_mode(effective, operator_id)

    def override_door(self, action, door, operator_id: str, command_id: str | None = None) -> None:
        if str(getattr(action, "value", action)) != "close":
            self._may_open(str(getattr(door, "value", door)))
        self._lane.override_door(action, door, operator_id, command_id)

    def _may_open(self, door: str) -> None:
        if door == "all" and self._controls:
            raise CommandNotPermitted("opening every door needs both authorities: each opens the door its control "
                                      f"is in effect at ({_doors_of(self._controls)})")
        holder = self._controls.get(door)
        if holder is None:
            raise CommandNotPermitted(f"both authorities' controls are in effect at door {door}: no single "
                                      "authority opens it by override")
        if holder is not self._role:
            raise CommandNotPermitted(f"door {door} is under the {holder.value} authority's control: only it "
                                      "opens that door by override")

    def request_status(self) -> dict:
        status = dict(self._lane.request_status())
        status["authority_mode"] = self._arbiter.mode_of(self._role).value
        return status


def _doors_of(controls: dict[str, Role]) -> str:
    return ", ".join(f"{door}: {role.value}" for door, role in sorted(controls.items()))
