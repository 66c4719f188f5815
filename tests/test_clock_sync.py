"""The clock probe: no decision on an unsynchronised clock, and the technician is told why."""
from __future__ import annotations

from pathlib import Path

from firmware_app.appliance.selftest import Status, check_clock
from firmware_app.appliance.timesync import ClockState, ClockWatch, probe_from_config
from firmware_app.config import parse_config
from firmware_app.lane.actions import RequestDecision
from firmware_app.policy import Evidence, LaneMode, ReasonCode
from tests.lane_helpers import good_chip, good_face, mrz

ROOT = Path(__file__).resolve().parents[1]


def clock_config(tmp_path: Path, extra: str = ""):
    return parse_config(
        f'[device]\nid = "gate-c1"\npost_id = "post-t"\ndata_dir = "{tmp_path / "var"}"\n'
        f'[reader]\nurl = "sim://"\n[camera]\nurl = "sim://"\n[face]\nmodels_dir = "{ROOT / "models"}"\n'
        f'[smartcard]\ncsca_dir = "{tmp_path / "csca"}"\n'
        f'[clock]\nsync_marker = "{tmp_path / "synchronized"}"\nkernel_sync = false\nrecheck_s = 0.01\n{extra}')


def test_the_timesyncd_marker_file_makes_the_clock_synchronised(tmp_path):
    probe = probe_from_config(clock_config(tmp_path).clock)
    assert probe() is ClockState.NOT_SYNCHRONISED
    (tmp_path / "synchronized").touch()
    assert probe() is ClockState.SYNCHRONISED


def test_a_gps_or_rtc_post_declares_its_clock_trusted(tmp_path):
    assert probe_from_config(clock_config(tmp_path, "trusted = true\n").clock)() is ClockState.TRUSTED


def test_the_default_is_not_trusted_and_reads_the_timesyncd_marker():
    section = parse_config('[device]\nid = "g"\npost_id = "p"\n[reader]\nurl = "sim://"\n').clock
    assert section.trusted is False and str(section.sync_marker) == "/run/systemd/timesync/synchronized"


def test_one_answer_is_kept_for_recheck_s():
    answers, now = [ClockState.NOT_SYNCHRONISED, ClockState.SYNCHRONISED], [0.0]
    watch = ClockWatch(lambda: answers.pop(0), 5.0, monotonic=lambda: now[0])
    assert not watch.synchronised()
    now[0] = 4.9
    assert not watch.synchronised()
    now[0] = 5.0
    assert watch.synchronised()


def test_selftest_fails_and_says_why_while_unsynchronised(tmp_path):
    config = clock_config(tmp_path)
    result = check_clock(config)
    assert result.status is Status.FAIL and "refers every traveller" in result.detail
    assert check_clock(config, lambda: ClockState.SYNCHRONISED).status is Status.OK


def test_the_assembled_appliance_refers_and_reports_degraded_health_until_synchronised(tmp_path):
    import time

    from gpiozero.pins.mock import MockFactory

    from firmware_app.appliance.core import Appliance, Overrides
    appliance = Appliance(clock_config(tmp_path), overrides=Overrides(pin_factory=MockFactory()), base_dir=ROOT)
    appliance.build()
    try:
        request = RequestDecision("t1", Evidence(mrz(), good_chip(), good_face()), LaneMode.NORMAL, 1)
        clock = appliance.health()["clock"]
        assert clock["status"] == "degraded" and clock["detail"] == "not_synchronised"
        decision = appliance.runner.ports.decider(request)
        assert ReasonCode.CLOCK_NOT_SYNCHRONISED in decision.reasons and not decision.passed
        (tmp_path / "synchronized").touch()
        time.sleep(0.05)                     # past recheck_s
        assert appliance.health()["clock"] == {"status": "ok", "detail": "synchronised"}
        assert ReasonCode.CLOCK_NOT_SYNCHRONISED not in appliance.runner.ports.decider(request).reasons
    finally:
        appliance.stop()
