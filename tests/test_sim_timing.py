"""The timing model (simulator/timing.py): air time by bit rate, chip processing, strict [timing]
tables, the accelerated idle time of the lane clock, and the camera and reader that obey it."""
from __future__ import annotations

import random
import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.reader import SimulatedReader
from simulator.scenario import ScenarioError, parse_scenario
from simulator.scenario_camera import SceneCamera
from simulator.timing import LaneClock, TimingError, TimingModel, TravellerPace, timing_from

READ_BINARY = bytes.fromhex("00B0000000")           # a short read: Le 256
GENERAL_AUTH = bytes.fromhex("1086000045") + bytes.fromhex("7C438141") + bytes(65) + b"\x00"   # a mapping point
NONCE_STEP = bytes.fromhex("10860000027C0000")


def test_air_time_follows_the_bit_rate_and_the_bytes():
    answer = bytes(256)
    slow, fast = TimingModel(chip_kbps=106), TimingModel(chip_kbps=848)
    # 256 data bytes + 2 SW in two blocks: (258 + 2*3 + 3) bytes * 9 bits at 106 kbit/s, plus the command
    assert slow.air_time_s(READ_BINARY, answer + b"\x90\x00") == pytest.approx(
        ((5 + 3) * 9 + (258 + 6 + 3) * 9) / 106_000 + 3 * 0.0001, rel=1e-6)
    assert slow.air_time_s(READ_BINARY, answer) / fast.air_time_s(READ_BINARY, answer) > 7
    assert TimingModel().air_time_s(b"", b"") == 0.0


def test_public_key_apdus_cost_the_chip_more():
    model = TimingModel(chip_apdu_ms=3, chip_crypto_ms=60)
    plain = model.apdu_s(READ_BINARY, b"\x90\x00")
    crypto = model.apdu_s(GENERAL_AUTH, b"\x90\x00")
    assert crypto - plain == pytest.approx(0.060, abs=0.005)
    assert plain > 0.003
    assert model.apdu_s(NONCE_STEP, b"\x90\x00") < plain + 0.001       # PACE's nonce step: no key work


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=70000), st.binary(max_size=70000), st.sampled_from([106, 212, 424, 848]))
def test_air_time_is_positive_and_monotonic_in_size(command, response, kbps):
    model = TimingModel(chip_kbps=kbps)
    base = model.air_time_s(command, response)
    assert base >= 0
    assert model.air_time_s(command + b"\x00", response) > base


@pytest.mark.parametrize("table, message", [
    ({"chip_kbps": 400}, "chip_kbps must be one of 106, 212, 424, 848"),
    ({"chip_kbs": 424}, "did you mean 'chip_kbps'"),
    ({"camera_fps": 30, "camera_exposure_ms": 50}, "must fit in one frame interval"),
    ({"door_motor_s": "1"}, "door_motor_s must be a number"),
    ({"jitter": True}, "jitter must be a number"),
    ({"speedup": 0.5}, "speedup must be a number from 1.0"),
])
def test_a_bad_timing_table_is_refused_with_the_key(table, message):
    with pytest.raises(TimingError, match=message):
        timing_from(table)


def test_a_scenario_carries_its_timing_and_refuses_a_bad_one():
    traveller = [{"label": "a", "person": "hopper"}]
    scenario = parse_scenario({"timing": {"chip_kbps": 212, "speedup": 4}, "traveller": traveller})
    assert scenario.timing == TimingModel(chip_kbps=212, speedup=4)
    assert parse_scenario({"traveller": traveller}).timing is None
    with pytest.raises(ScenarioError, match=r"\[timing\]: unknown key 'door_s'"):
        parse_scenario({"timing": {"door_s": 1}, "traveller": traveller})
    with pytest.raises(ScenarioError, match="did you mean 'timing'"):
        parse_scenario({"timings": {}, "traveller": traveller})


def test_human_times_are_seeded_and_vary_within_the_jitter():
    model = TimingModel(jitter=0.2)
    first = [model.human(random.Random(5)) for _ in range(2)]
    assert first[0] == first[1]
    paces = [model.human(random.Random(n)) for n in range(50)]
    assert all(0.8 * model.approach_s <= p.approach_s <= 1.2 * model.approach_s for p in paces)
    assert len({p.approach_s for p in paces}) > 40


class FakeTime:
    def __init__(self):
        self.t, self.slept = 100.0, []

    def sleep(self, seconds):
        self.slept.append(seconds)
        self.t += seconds

    def monotonic(self):
        return self.t


def test_the_lane_clock_shortens_only_idle_time_and_counts_it_back():
    fake = FakeTime()
    clock = LaneClock(TimingModel(speedup=10), fake.sleep, fake.monotonic)
    pace = TravellerPace(approach_s=3.0, place_document_s=2.0, look_at_camera_s=0.5, step_in_s=1, walk_out_s=1)
    set_off = clock.arrive(pace)
    assert sum(fake.slept) == pytest.approx(0.5)                    # 5 s of walking slept in 0.5 s
    assert clock.now() - set_off == pytest.approx(5.0)               # the modelled timeline has all 5 s
    fake.t += 4.0                                                    # machine time and doors: real
    entered = fake.monotonic()
    fake.t += 3.0
    assert clock.departed(set_off, entered) == pytest.approx(9.0)   # in -> entered the gate
    # the next one set off when the first stepped in: 3 s of their approach are already behind them
    fake.slept.clear()
    clock.arrive(pace)
    assert sum(fake.slept) == pytest.approx(0.2)


def test_the_benchs_hand_over_counts_and_nothing_is_accelerated_while_somebody_walks_out():
    fake = FakeTime()
    clock = LaneClock(TimingModel(speedup=10), fake.sleep, fake.monotonic)
    pace = TravellerPace(approach_s=2.0, place_document_s=1.0, look_at_camera_s=0.5, step_in_s=1, walk_out_s=1)
    set_off = clock.arrive(pace)
    fake.t += 2.0
    entered = fake.monotonic()
    assert clock.departed(set_off, entered) == pytest.approx(5.0)
    fake.t += 2.4                                   # the bench served the first one, made the next passport
    fake.slept.clear()
    second = clock.arrive(pace, accelerate=False)   # the first one still walks out behind the lane
    # walked up in 2 s (all of it behind them already), waited 0.4 s for the bench, placed in 1 s, real time
    assert clock.place_started - second == pytest.approx(2.4)
    assert sum(fake.slept) == pytest.approx(1.0) and clock.now() - second == pytest.approx(3.4)


def test_the_camera_delivers_frames_at_its_rate_and_a_stall_holds_them():
    camera = SceneCamera(frame_interval_s=0.1, exposure_s=0.01)
    started = time.monotonic()
    for _ in range(4):
        camera.read()
    assert time.monotonic() - started >= 0.29                       # three intervals after the first frame
    camera.stall(True)
    got = []
    reader = threading.Thread(target=lambda: got.append(camera.read()), daemon=True)
    reader.start()
    reader.join(0.4)
    assert not got                                                   # nothing while stalled
    camera.stall(False)
    reader.join(2.0)
    assert len(got) == 1


def test_the_reader_writes_the_mrz_after_its_scan_time():
    slept = []
    reader = SimulatedReader("lines", random.Random(1), sleep=slept.append)
    with reader:
        reader.send(["P<UTO" + "<" * 39, "L898902C<3UTO6908061F9406236ZE184226B<<<<<14"], after_s=0.5)
    assert slept == [0.5]


def test_the_help_and_the_page_name_every_timing_key(capsys):
    from pathlib import Path

    from simulator.cli import main as gatesim
    from simulator.timing import KEY_HELP
    with pytest.raises(SystemExit):
        gatesim(["scenario", "--help"])
    help_text = capsys.readouterr().out
    page = (Path(__file__).resolve().parents[1] / "docs" / "scenarios.md").read_text()
    for key in KEY_HELP:
        assert f"{key} = " in help_text and f"`{key}`" in page, key
