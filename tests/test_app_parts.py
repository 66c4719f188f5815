"""The appliance's small parts: device URLs, input bridges, the LaneControl adapter, the outbox tee,
hourly statistics, sd_notify, and `gatectl selftest`."""
from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest

from drivers.passport_reader import DocumentRead, LinkChanged, LinkState, ReadError, ReadErrorReason
from firmware_app.appliance import devices
from firmware_app.appliance.bmis_side import LaneOutbox, RunnerLaneControl, StatsPublisher
from firmware_app.appliance.devices import PresenceWatch, ReaderBridge
from firmware_app.appliance.errors import OverrideRefused
from firmware_app.appliance.notify import Notifier
from firmware_app.appliance.selftest import Status, check_broker, check_camera, check_gate, check_outbox
from firmware_app.bmis.errors import StatsError
from firmware_app.cli import main as gatectl
from firmware_app.config import parse_config
from firmware_app.errors import GateError
from firmware_app.lane import events as ev
from firmware_app.lane.errors import LaneNotRunning
from firmware_app.lane.state import Fault
from firmware_app.mrz import MrzFields, compose
from firmware_app.policy import LaneMode

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
MINIMAL = '[device]\nid = "g1"\npost_id = "p1"\ndata_dir = "{data}"\n[reader]\nurl = "sim://"\n'


def config(tmp_path: Path, extra: str = ""):
    return parse_config(MINIMAL.format(data=tmp_path / "var") + extra)


def passport_lines():
    return compose("TD3", MrzFields(document_code="P", issuing_state="UTO", document_number="L898902C3",
                                    birth_date="740812", sex="F", expiry_date="330415", nationality="UTO",
                                    primary_identifier="ERIKSSON", secondary_identifier="ANNA"))


# --- devices -------------------------------------------------------------------------------------
def test_sim_reader_maps_to_the_pty_link_and_says_so(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="gate.app.devices"):
        assert devices.reader_url("sim://", tmp_path) == str(tmp_path / devices.SIM_READER_LINK)
        assert devices.reader_url("sim:///dev/pts/9", tmp_path) == "/dev/pts/9"
    assert caplog.text.count("SIMULATED DEVICE") == 2
    caplog.clear()
    assert devices.reader_url("/dev/ttyACM0", tmp_path) == "/dev/ttyACM0" and not caplog.text


def test_an_injected_pin_factory_needs_mock_in_the_config(tmp_path):
    from firmware_app.appliance.errors import GateUnavailable
    with pytest.raises(GateUnavailable):
        gate = ('[gate]\npin_factory = "lgpio"\n'
                'entry = { relay = 17, closed_sensor = 27, relay_active_high = true }\n'
                'exit = { relay = 22, closed_sensor = 23, relay_active_high = true }\n')
        devices.make_pin_factory(config(tmp_path, gate), injected=object())


# --- bridges -------------------------------------------------------------------------------------
def bridge(events):
    cfg = parse_config(MINIMAL.format(data="var"))
    return ReaderBridge(events.append, cfg.mrz, lambda: date(2026, 11, 26))


def test_reader_bridge_turns_reads_into_lane_events():
    events = []
    feed = bridge(events)
    feed(DocumentRead(tuple(passport_lines()), b""))
    feed(DocumentRead(("NOT AN MRZ",), b""))
    feed(ReadError(ReadErrorReason.BAD_BCC))
    assert isinstance(events[0], ev.DocumentPresented) and events[0].mrz.valid
    assert isinstance(events[1], ev.DocumentUnreadable) and isinstance(events[2], ev.DocumentUnreadable)


def test_reader_link_down_is_a_fault_once_and_up_restores_it():
    events = []
    feed = bridge(events)
    for state in (LinkState.UP, LinkState.DOWN, LinkState.DOWN, LinkState.UP, LinkState.UP):
        feed(LinkChanged(state))
    assert events == [ev.DeviceFault(Fault.READER, "reader link down"), ev.DeviceRestored(Fault.READER)]


def scripted_presence(readings: list) -> tuple:
    """A presence poll answering `readings` in turn (an exception is raised), then False; `done` is
    set once the script has run out."""
    remaining, done = iter(readings), threading.Event()

    def present():
        value = next(remaining, None)
        if value is None:
            done.set()
            return False
        if isinstance(value, Exception):
            raise value
        return value
    return present, done


def test_document_removal_is_seen_once_and_a_broken_poll_is_not_a_removal():
    present, done = scripted_presence([True, True, RuntimeError("pcscd gone"), True, False, False])
    events = []
    watch = PresenceWatch(present, events.append, interval_s=0.001).start()
    assert done.wait(5)
    watch.stop()
    assert events == [ev.DocumentRemoved()]


class FakeRunner:
    def __init__(self, answers=()):
        self.submitted, self.data, self.answers = [], None, list(answers)

    def submit(self, event):
        self.submitted.append(event)

    def officer_override(self, event, timeout):
        self.submitted.append(event)
        return self.answers.pop(0)


def test_lane_control_sets_the_mode_through_the_lane():
    control = RunnerLaneControl(lambda: NOW)
    with pytest.raises(LaneNotRunning):
        control.set_mode(LaneMode.CLOSED, "op")
    with pytest.raises(LaneNotRunning):
        control.override_door("open", "entry", "op")
    assert control.request_status() == {"state": "starting"}
    runner = FakeRunner()
    control.attach(runner)
    control.set_mode(LaneMode.ASSISTED, "op")
    assert runner.submitted == [ev.ModeChanged(LaneMode.ASSISTED)]


def test_lane_control_hands_door_overrides_to_the_lane_and_raises_its_refusals():
    from drivers.gate.layout import Door
    from firmware_app.lane.actions import OverrideAnswered, OverrideRefusal
    runner = FakeRunner([OverrideAnswered("c1", True), OverrideAnswered("c2", False, OverrideRefusal.EMERGENCY),
                         None])
    control = RunnerLaneControl(lambda: NOW)
    control.attach(runner)
    control.override_door("open", "entry", "op-1", command_id="c1")
    assert runner.submitted == [ev.OfficerOverride(Door.ENTRY, ev.OverrideAction.OPEN, "op-1", "c1")]
    with pytest.raises(OverrideRefused, match="emergency") as err:
        control.override_door("close", "all", "op-1")
    assert isinstance(err.value, GateError) and runner.submitted[-1].door is None
    with pytest.raises(OverrideRefused, match="did not answer"):
        control.override_door("open", "exit", "op-1")


# --- BMIS side -----------------------------------------------------------------------------------
class Record:
    def to_dict(self):
        return {"transaction_id": "t1", "ended_at": "2026-11-26T12:00:00+00:00"}


class Sink:
    def __init__(self, fail: Exception | None = None):
        self.got, self.fail = [], fail

    def record_crossing(self, record):       # as the BMIS link: LaneOutbox hands it record.to_dict()
        if self.fail:
            raise self.fail
        self.got.append(record)

    def add_sample(self, sample, now):
        if self.fail:
            raise self.fail
        self.got.append(sample)


def test_a_crossing_is_stored_before_it_is_counted_and_a_broken_count_does_not_stop_the_lane():
    outbox, stats = Sink(), Sink(fail=StatsError("disk"))
    recording = LaneOutbox(outbox, stats, lambda: NOW)
    recording.crossing(Record())
    assert len(outbox.got) == 1 and stats.got == []
    stats.fail = None                       # the disk has room again: the late count goes in first
    recording.crossing(Record())
    assert len(stats.got) == 2
    with pytest.raises(GateError):
        LaneOutbox(Sink(fail=GateError("outbox full")), Sink(), lambda: NOW).crossing(Record())


def test_each_finished_hour_is_published_once(tmp_path):
    from firmware_app.bmis.stats import CrossingStats
    stats = CrossingStats.open(tmp_path / "stats.db")
    published = []

    class Link:
        def publish_stats(self, report):
            published.append(report)
    clock = {"now": NOW}
    publisher = StatsPublisher(stats, Link(), lambda: clock["now"])
    assert publisher.publish_due() == 0
    clock["now"] = datetime(2026, 11, 26, 14, 5, tzinfo=UTC)
    assert publisher.publish_due() == 1 and publisher.publish_due() == 0
    assert published[0]["period_start"] == "2026-11-26T12:00:00Z" and published[0]["total"] == 0
    stats.close()


# --- sd_notify -----------------------------------------------------------------------------------
def test_notifier_sends_datagrams_to_a_path_and_to_an_abstract_socket(tmp_path):
    assert not Notifier.from_environ({}).send("READY=1")
    notifier = Notifier.from_environ({"NOTIFY_SOCKET": str(tmp_path / "n.sock"), "WATCHDOG_USEC": "30000000"})
    assert notifier.watchdog_interval_s() == 15.0
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(str(tmp_path / "n.sock"))
        assert notifier.send("READY=1") and server.recv(64) == b"READY=1"
    name = f"gate-test-{time.monotonic_ns()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind("\0" + name)
        assert Notifier("@" + name).send("WATCHDOG=1") and server.recv(64) == b"WATCHDOG=1"
    assert Notifier.from_environ({"NOTIFY_SOCKET": "/x", "WATCHDOG_USEC": "soon"}).watchdog_interval_s() is None


# --- selftest ------------------------------------------------------------------------------------
def test_selftest_checks_report_ok_and_fail_with_reasons(tmp_path):
    import cv2
    image = tmp_path / "face.png"
    cv2.imwrite(str(image), np.full((120, 160, 3), 128, np.uint8))
    cfg = config(tmp_path, f'[camera]\nurl = "file://{image}"\n[bmis]\nca_file = "{tmp_path / "none.pem"}"\n')
    assert check_camera(cfg).status is Status.OK and "160x120" in check_camera(cfg).detail
    assert check_outbox(cfg).status is Status.OK
    broker = check_broker(cfg)
    assert broker.status is Status.FAIL and "not reachable over TLS" in broker.detail
    assert check_broker(config(tmp_path)).detail.startswith("bmis.ca_file is not set")
    gate = check_gate(config(tmp_path))           # mock pins are the simulator's: named, not probed
    assert gate.status is Status.SKIP and gate.detail == "skipped (simulated): pin_factory = mock"


def test_gatectl_selftest_json_and_exit_codes(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("[device]\n")
    assert gatectl(["selftest", "--config", str(bad), "--json"]) == 2
    assert json.loads(capsys.readouterr().out)["checks"][0]["status"] == "fail"
    good = tmp_path / "gate.toml"
    good.write_text(MINIMAL.format(data=tmp_path / "var") + '[camera]\nurl = "sim://"\n')
    assert gatectl(["selftest", "--config", str(good), "--json",
                    "--base-dir", str(Path(__file__).resolve().parents[1])]) == 1
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert set(checks) == {"config", "face models", "mrz reader", "chip reader", "camera", "gate inputs",
                           "outbox", "broker", "certificate", "clock", "officer console"}
    assert checks["config"]["status"] == "ok" and checks["face models"]["status"] == "ok"
    assert checks["officer console"]["status"] == "skip"       # [officer] is off by default
    assert "sha256:" in checks["face models"]["detail"] and checks["camera"]["status"] == "skip"


def test_the_retained_status_follows_only_the_lanes_resting_states():
    from firmware_app.appliance.bmis_side import LaneStatus
    from firmware_app.bmis.link import GateState
    published = []
    status = LaneStatus(lambda state, **fields: published.append((state, fields["mode"], fields["reason"])), "entry")
    for lane_state, mode in [("idle", "normal"), ("chip", "normal"), ("idle", "normal"), ("emergency", "normal"),
                             ("out_of_service", "normal"), ("idle", "normal"), ("closed", "closed")]:
        status.update(lane_state, mode)
    assert published == [(GateState.ONLINE, "normal", None), (GateState.OUT_OF_SERVICE, "normal", "emergency"),
                         (GateState.OUT_OF_SERVICE, "normal", "out_of_service"), (GateState.ONLINE, "normal", None),
                         (GateState.ONLINE, "closed", None)]


def test_an_unconfigured_bmis_link_is_the_reason_of_an_online_status():
    from firmware_app.appliance.bmis_side import NOT_CONFIGURED, LaneStatus
    published = []
    status = LaneStatus(lambda state, **fields: published.append((state.value, fields["reason"])), "entry",
                        link_note=lambda: NOT_CONFIGURED)
    status.update("idle", "normal")
    status.update("out_of_service", "normal")
    assert published == [("online", "bmis_link_not_configured"), ("out_of_service", "out_of_service")]


def test_a_chip_reader_that_disappears_is_a_fault_once_and_restored_when_it_answers():
    gone = RuntimeError("reader gone")
    present, done = scripted_presence([True, gone, gone, gone, gone, gone, False, False, gone, False])
    events = []
    watch = PresenceWatch(present, events.append, interval_s=0.001, fault_after=3).start()
    assert done.wait(5)
    watch.stop()
    assert events == [ev.DeviceFault(Fault.CHIP_READER, "chip reader not answering: RuntimeError"),
                      ev.DeviceRestored(Fault.CHIP_READER), ev.DocumentRemoved()]
