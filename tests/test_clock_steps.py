"""A stepped wall clock (NTP, an operator, a dead RTC battery): step durations come from the
monotonic clock, and whatever the clocks do, every record the lane builds passes its own schema."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.appliance.bmis_side import LaneOutbox
from firmware_app.bmis import contract as envelope
from firmware_app.bmis.contract import MessageKind, validate_message
from firmware_app.bmis.stats import hour_report, sample_of
from firmware_app.lane.actions import RaiseAlarm, RecordCrossing, RecordException
from firmware_app.lane.machine import initial, step
from firmware_app.lane.state import LaneSettings
from tests.lane_helpers import NOW, event_catalogue

IDENTITY = envelope.Identity("gate", "post-1")
HAPPY = ["doc_valid", "chip_ok", "face_ok", "decision_pass", "entry_opened", "presence_1", "entry_closed",
         "exit_opened", "presence_0", "exit_closed"]


class SteppedLane:
    """The pure lane driven by two clocks the test moves independently."""

    def __init__(self):
        self.now, self.mono = NOW, 1000.0
        self.data, actions = initial(LaneSettings(), now=self.now, mono=self.mono)
        self.actions = list(actions)

    @property
    def txn_id(self) -> str:
        return self.data.txn.txn_id if self.data.txn else "none"

    def token(self, kind) -> int:
        token = self.data.timer_token(kind)
        return 10**6 if token is None else token

    @property
    def state(self):
        return self.data.state

    def send(self, name: str, wall_s: float, mono_s: float | None) -> None:
        self.now += timedelta(seconds=wall_s)
        self.mono = None if mono_s is None or self.mono is None else self.mono + mono_s
        self.data, out = step(self.data, event_catalogue(self)[name], self.now, self.mono)
        self.actions.extend(out)

    def of(self, cls) -> list:
        return [a for a in self.actions if isinstance(a, cls)]


def test_a_wall_clock_step_back_mid_transaction_leaves_durations_from_the_monotonic_clock():
    lane = SteppedLane()
    lane.send("doc_valid", 1.0, 1.0)
    lane.send("chip_ok", -2.0, 1.7)          # the wall clock stepped back 2 s while the chip was read
    for name in HAPPY[2:]:
        lane.send(name, 1.0, 1.0)
    record = lane.of(RecordCrossing)[0].record
    assert record.timings_ms["chip"] == 1700.0
    assert all(ms >= 0 for ms in record.timings_ms.values())
    validate_message(MessageKind.CROSSING, _message(MessageKind.CROSSING, record.to_dict()))


class _Capture:
    """Stands in for the BMIS link: keeps what the lane port would store (unit test of the port)."""

    def __init__(self):
        self.stored: list[tuple[MessageKind, dict]] = []

    def record_crossing(self, data):
        self.stored.append((MessageKind.CROSSING, data))

    def record_exception(self, data):
        self.stored.append((MessageKind.EXCEPTION, data))

    def raise_alarm(self, kind, severity, *, detail="", **extra):
        data = {"kind": kind, "severity": severity.value, "active": True, **extra}
        if detail:
            data["detail"] = detail
        self.stored.append((MessageKind.ALARM, data))


def _message(kind: MessageKind, data: dict, now: datetime = NOW) -> dict:
    return envelope.build(IDENTITY, kind, data, msg_id=uuid.UUID(int=1), seq=1, boot=1, now=now)


wall_steps = st.one_of(st.floats(-3 * 86400, 3 * 86400), st.sampled_from([0.0, -2.0, 7 * 86400.0, -3600.0]))
mono_steps = st.one_of(st.none(), st.floats(0, 600))
names = st.one_of(st.sampled_from(HAPPY), st.sampled_from(sorted(event_catalogue(SteppedLane()))))


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(names, wall_steps, mono_steps), max_size=40))
def test_every_record_the_lane_builds_passes_its_schema_whatever_the_clocks_do(script):
    lane = SteppedLane()
    for name, wall_s, mono_s in script:
        lane.send(name, wall_s, mono_s)
    capture = _Capture()
    port = LaneOutbox(capture)
    for action in lane.actions:
        if isinstance(action, RecordCrossing):
            port.crossing(action.record)
        elif isinstance(action, RecordException):
            port.exception(action.kind, action.txn_id, action.detail)
        elif isinstance(action, RaiseAlarm):
            port.alarm(action.kind, action.txn_id, action.detail)
    for kind, data in capture.stored:
        validate_message(kind, _message(kind, data, lane.now))
    samples = [sample_of(data) for kind, data in capture.stored if kind is MessageKind.CROSSING]
    if samples:
        report = hour_report(samples[0].hour, samples)
        validate_message(MessageKind.STATS, _message(MessageKind.STATS, report, lane.now))


def test_the_kiosk_countdown_follows_the_monotonic_clock_through_a_wall_clock_step():
    from firmware_app.lane.actions import ShowScreen
    lane = SteppedLane()
    for name in ("doc_valid", "chip_ok", "face_ok", "decision_pass"):
        lane.send(name, 1.0, 1.0)
    enter_s = lane.data.settings.timeouts.enter_s
    lane.send("assistance", 3600.0, 2.0)        # the wall clock jumps an hour; 2 s really passed
    shown = [a.view.seconds_left for a in lane.of(ShowScreen)][-1]
    assert shown == round(enter_s - 2.0, 1)
    lane.send("assistance_answered", -7200.0, 1.0)
    assert [a.view.seconds_left for a in lane.of(ShowScreen)][-1] == round(enter_s - 3.0, 1)
