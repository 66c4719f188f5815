"""The controller's interlock: which doors may be released, whatever the appliance asks. Pure.

Each scan feeds the inputs (`sense`) and asks for the outputs (`released`); the appliance's
commands arrive in between (`command`). The outputs are recomputed from scratch every scan, so an
input change (emergency, tamper, presence) acts on the next scan even if no command ever comes.

Rules, in order:
1. Emergency input active: every door released; commands other than release are refused.
2. Appliance lost (silent past its timeout, or disconnected), tamper, or a forced door latched:
   the stance - every door locked, except the entry of a mantrap while somebody is sensed inside
   (never trapped: they step back to the staffed side). Buzzer and light on while lost.
3. Otherwise the doors the appliance commanded, under these checks at command time:
   entry and exit are never both released; the exit of a mantrap opens only for the current
   passage (named when the entry was opened for it, usable once), with the entry locked and shut
   and exactly one person sensed.
When a stance or an emergency ends, nothing springs back open: the commands are forgotten.
"""
from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..events import GateEventKind, GateSnapshot
from ..layout import Door, LayoutKind, doors_of
from .protocol import Op, Refusal

QUIET = GateSnapshot(frozenset(), 0, False, False)
USED_PASSAGES = 32      # remembered so a passage's exit cannot be opened twice


class Stance(str, enum.Enum):
    NONE = "none"
    EMERGENCY = "emergency"
    APPLIANCE_LOST = "appliance_lost"
    FAULT = "fault"                 # tamper or forced door


@dataclass
class Notice:
    """Something to stream to the appliance (input edges, forced doors, stance changes)."""
    kind: str
    door: Door | None = None
    count: int | None = None
    detail: str | None = None


@dataclass
class Interlock:
    kind: LayoutKind
    inputs: GateSnapshot = QUIET
    commanded: set[Door] = field(default_factory=set)
    passage: str | None = None
    used: deque[str] = field(default_factory=lambda: deque(maxlen=USED_PASSAGES))
    connected: bool = False
    lost: bool = False              # an appliance was connected and went silent or away
    forced: set[Door] = field(default_factory=set)
    light: bool = False
    buzzer: bool = False
    applied: frozenset[Door] = frozenset()      # what the relays were last told

    @property
    def doors(self) -> tuple[Door, ...]:
        return doors_of(self.kind)

    # --- state ------------------------------------------------------------------------------
    def stance(self) -> Stance:
        if self.inputs.emergency:
            return Stance.EMERGENCY
        if self.inputs.tamper or self.forced:
            return Stance.FAULT
        if not self.connected:
            return Stance.APPLIANCE_LOST
        return Stance.NONE

    def released(self) -> frozenset[Door]:
        stance = self.stance()
        if stance is Stance.EMERGENCY:
            return frozenset(self.doors)
        if stance is not Stance.NONE:
            inside = self.kind is LayoutKind.MANTRAP and self.inputs.presence > 0
            return frozenset({Door.ENTRY}) if inside else frozenset()
        return frozenset(self.commanded)

    def outputs(self) -> tuple[bool, bool]:
        """(light, buzzer): with the appliance lost, the light by itself, and the buzzer while
        somebody is sensed inside (they are told to step back; an officer hears it)."""
        inside = self.lost and self.inputs.presence > 0
        return self.light or self.lost, self.buzzer or inside

    def _forget(self) -> None:
        self.commanded.clear()
        if self.passage is not None:
            self.used.append(self.passage)
        self.passage = None

    # --- inputs -----------------------------------------------------------------------------
    def sense(self, snapshot: GateSnapshot) -> list[Notice]:
        before, stance_before = self.inputs, self.stance()
        notices = _edges(before, snapshot)
        for door in sorted(snapshot.doors_open - before.doors_open):
            if door not in self.applied and not snapshot.emergency:
                self.forced.add(door)
                notices.append(Notice("door_forced", door))
        if self.forced and not (snapshot.doors_open - self.applied):
            self.forced.clear()     # every door opened without release is shut again
        self.inputs = snapshot
        return notices + self._stance_changed(stance_before)

    def _stance_changed(self, before: Stance) -> list[Notice]:
        now = self.stance()
        if now is before:
            return []
        inside = self.kind is LayoutKind.MANTRAP and self.inputs.presence > 0
        if now is not Stance.NONE or before is Stance.EMERGENCY:
            self._forget()
        if before is Stance.EMERGENCY and inside:
            self.commanded.add(Door.ENTRY)      # somebody inside when it ended: never locked in afterwards
        return [Notice("stance", detail=now.value)]

    # --- the appliance ----------------------------------------------------------------------
    def connect(self) -> list[Notice]:
        """The appliance is back: it takes over from the stance as it is (a way back that is open
        stays open until the appliance, resynchronised from our state, decides otherwise)."""
        before, way_back = self.stance(), self.released()
        self.connected, self.lost = True, False
        notices = self._stance_changed(before)
        if before is Stance.APPLIANCE_LOST and self.stance() is Stance.NONE:
            self.commanded = set(way_back)
        return notices

    def disconnect(self) -> list[Notice]:
        """The appliance's socket closed, or it went silent: the lane is unattended."""
        before = self.stance()
        self.connected, self.lost = False, True
        self.light = self.buzzer = False
        return self._stance_changed(before)

    def command(self, op: Op, door: Door | None = None, passage: str | None = None,
                on: bool | None = None) -> Refusal | None:
        """Apply one command; the refusal reason, or None when accepted."""
        if op in (Op.HEARTBEAT, Op.STATUS):
            return None
        if op in (Op.LIGHT, Op.BUZZER):
            setattr(self, op.value, bool(on))
            return None
        if op is Op.RELEASE:
            return None if self.inputs.emergency else Refusal.NO_EMERGENCY
        stance = self.stance()
        if stance is Stance.EMERGENCY:
            return Refusal.EMERGENCY
        if op is Op.SECURE:
            self._forget()
            return None
        if door is None or door not in self.doors:
            return Refusal.NO_SUCH_DOOR
        if op is Op.CLOSE:
            self._close(door)
            return None
        if door is Door.ENTRY and door in self.commanded:
            return None         # already released: asking again changes nothing
        if stance is not Stance.NONE and not self._way_back(door):
            return Refusal.FAULT if stance is Stance.FAULT else Refusal.APPLIANCE_LOST
        return self._open(door, passage)

    def _way_back(self, door: Door) -> bool:
        """During a stance the appliance may still ask for a mantrap's entry (its retreat): that can
        only widen the way back, and the exit stays locked while the entry is commanded."""
        return self.kind is LayoutKind.MANTRAP and door is Door.ENTRY

    def _close(self, door: Door) -> None:
        self.commanded.discard(door)
        if door is Door.EXIT:
            self._forget_passage()
        return None

    def _forget_passage(self) -> None:
        if self.passage is not None:
            self.used.append(self.passage)
        self.passage = None

    def _open(self, door: Door, passage: str | None) -> Refusal | None:
        if self.kind is LayoutKind.BARRIER:
            self.commanded.add(door)
            return None
        other = Door.EXIT if door is Door.ENTRY else Door.ENTRY
        if other in self.commanded or other in self.inputs.doors_open:
            return Refusal.OTHER_DOOR_OPEN
        if door is Door.ENTRY:
            if passage is not None and passage not in self.used:
                self.passage = passage
            self.commanded.add(door)
            return None
        if passage is None or passage != self.passage:
            return Refusal.NOT_CURRENT_PASSAGE
        if self.inputs.presence != 1:
            return Refusal.PRESENCE
        self.commanded.add(door)
        return None

    # --- reporting --------------------------------------------------------------------------
    def state(self) -> dict[str, object]:
        light, buzzer = self.outputs()
        return {"layout": self.kind.value, "stance": self.stance().value, "released": _names(self.applied),
                "commanded": _names(self.commanded), "doors_open": _names(self.inputs.doors_open),
                "presence": self.inputs.presence, "emergency": self.inputs.emergency, "tamper": self.inputs.tamper,
                "forced": _names(self.forced), "appliance": self.connected, "lost": self.lost,
                "light": light, "buzzer": buzzer, "passage": self.passage is not None}


def _names(doors: Iterable[Door]) -> list[str]:
    return sorted(door.value for door in doors)


def _edges(before: GateSnapshot, now: GateSnapshot) -> list[Notice]:
    notices = [Notice(GateEventKind.DOOR_OPENED.value, d) for d in sorted(now.doors_open - before.doors_open)]
    notices += [Notice(GateEventKind.DOOR_CLOSED.value, d) for d in sorted(before.doors_open - now.doors_open)]
    if now.presence != before.presence:
        notices.append(Notice(GateEventKind.PRESENCE.value, count=now.presence))
    if now.emergency != before.emergency:
        notices.append(Notice((GateEventKind.EMERGENCY_ON if now.emergency else GateEventKind.EMERGENCY_OFF).value))
    if now.tamper != before.tamper:
        notices.append(Notice((GateEventKind.TAMPER_ON if now.tamper else GateEventKind.TAMPER_OFF).value))
    return notices
