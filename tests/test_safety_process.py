"""The door safety controller as its own process on simulated pins, next to the appliance.

The appliance (the real gate-app) is frozen with SIGSTOP: the controller takes its safe stance by
itself and the emergency loop still releases every door at once (latency over 50 tries printed);
SIGCONT: the appliance reconnects and resynchronises from the controller. A passage client killed
mid-passage (SIGKILL): exit locked, entry released for the person inside, buzzer and light on,
within the silence timeout.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from drivers.gate.safety.simctl import RemoteGate
from simulator.local_process import free_port, stop_process
from simulator.safety_rig import (
    controller_config,
    release_latencies,
    start_controller,
    start_passage_child,
    summary,
    wait_for,
)
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]
SILENCE_S = 0.5
SLACK_S = 3.0      # a loaded CI machine; the bench prints the real figures
BOTH = ["entry", "exit"]


@pytest.fixture
def rig(tmp_path):
    socket = tmp_path / "safety.sock"
    config = controller_config(tmp_path / "gate.toml", socket, silence_s=SILENCE_S)
    controller = start_controller(config, socket)
    remote = RemoteGate(Path(str(socket) + ".sim"))
    yield config, socket, remote, controller
    remote.close()
    stop_process(controller, 5)


def _appliance_config(config: Path, tmp_path: Path) -> Path:
    text = config.read_text().replace('[reader]\nurl = "sim://"\n', "")
    text = (f'[device]\nid = "gate-t1"\npost_id = "post-t"\ndata_dir = "{tmp_path / "var"}"\n[reader]\nurl = "sim://"\n'
            f'[camera]\nurl = "sim://"\n[face]\nmodels_dir = "{ROOT / "models"}"\n'
            f'[smartcard]\ncsca_dir = "{tmp_path / "csca"}"\n[kiosk]\nport = {free_port()}\n'
            + text[text.index("[gate]"):])
    path = tmp_path / "appliance.toml"
    path.write_text(text)
    return path


def _status(socket: Path) -> dict:
    from drivers.gate.safety.client import SafetyGate
    with SafetyGate(socket, lambda e: None, role="monitor") as monitor:
        return monitor.status()


def test_a_frozen_appliance_cannot_hold_the_doors_and_the_emergency_still_releases_them(rig, tmp_path):
    config, socket, remote, controller = rig
    app = subprocess.Popen([sys.executable, "-m", "firmware_app", "--config", str(_appliance_config(config, tmp_path)),
                            "--log-level", "INFO"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(app.stderr), daemon=True).start()
    try:
        assert wait_until(lambda: any("lane running" in line for line in lines), 60.0), "".join(lines)[-3000:]
        assert _status(socket)["appliance"]
        remote.set_inside(1)                    # somebody inside the mantrap when the appliance freezes
        app.send_signal(signal.SIGSTOP)
        held, waited, outputs = wait_for(remote, lambda o: o["buzzer"], SILENCE_S + SLACK_S)
        assert held and outputs["released"] == ["entry"] and outputs["light"], outputs
        state = _status(socket)
        assert state["stance"] == "appliance_lost" and not state["appliance"]
        remote.set_inside(0)
        assert wait_for(remote, lambda o: o["released"] == [], SLACK_S)[0]
        latencies = release_latencies(remote, BOTH, 50)
        figures = summary(latencies)
        print(f"\nemergency release, appliance SIGSTOPped: n={figures['n']} p50={figures['p50_ms']:.2f} ms "
              f"p99={figures['p99_ms']:.2f} ms max={figures['max_ms']:.2f} ms")
        assert figures["max_ms"] < 1000.0       # generous bound (loaded CI); the figures are the measurement
        # the emergency is over and the appliance is still frozen: the controller alone locks again
        assert wait_for(remote, lambda o: o["released"] == [], SLACK_S)[0]
        app.send_signal(signal.SIGCONT)         # back: it reconnects and resynchronises from the controller
        assert wait_until(lambda: _status(socket)["appliance"], 15.0)
        assert wait_until(lambda: any("gate driver answers again" in line for line in lines), 15.0)   # lane probe
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=20)
    finally:
        if app.poll() is None:
            os.kill(app.pid, signal.SIGCONT)
            app.kill()
            app.wait()
    time.sleep(0.2)
    text = "".join(lines)
    assert "safety controller link lost" in text and "safety controller link restored" in text, text[-3000:]
    assert "gate driver answers again" in text, text[-3000:]
    assert "SIMULATED DEVICE in use: gate" in text


def test_an_appliance_killed_mid_passage_lets_the_person_inside_out_through_the_entry(rig):
    config, socket, remote, controller = rig
    child = start_passage_child(socket, heartbeat_s=0.1)
    try:
        outputs = remote.outputs()
        assert outputs["released"] == ["exit"] and outputs["inside"] == 1    # mid-passage: exit open
        killed = time.perf_counter()
        child.send_signal(signal.SIGKILL)
        child.wait()
        held, _, outputs = wait_for(remote, lambda o: o["released"] == ["entry"] and o["buzzer"], SILENCE_S + SLACK_S)
        took = time.perf_counter() - killed
    finally:
        if child.poll() is None:
            child.kill()
    print(f"\nsafe stance {took * 1000:.0f} ms after SIGKILL (socket closed)")
    assert held, outputs
    assert outputs["light"] and took < SILENCE_S + SLACK_S
    assert _status(socket)["stance"] == "appliance_lost"
    remote.set_inside(0)                        # they stepped back out: the entry locks again
    assert wait_for(remote, lambda o: o["released"] == [] and not o["buzzer"], SLACK_S)[0]


def test_an_appliance_frozen_mid_passage_is_given_up_after_its_heartbeat_timeout(rig):
    config, socket, remote, controller = rig
    child = start_passage_child(socket, heartbeat_s=0.1)
    try:
        stopped = time.perf_counter()
        child.send_signal(signal.SIGSTOP)       # socket stays open: only the silence tells
        held, _, outputs = wait_for(remote, lambda o: o["released"] == ["entry"], SILENCE_S + SLACK_S)
        took = time.perf_counter() - stopped
        assert held and outputs["buzzer"], outputs
        assert SILENCE_S * 0.5 <= took < SILENCE_S + SLACK_S, took
    finally:
        child.send_signal(signal.SIGCONT)
        child.kill()
        child.wait()
