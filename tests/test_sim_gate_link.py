"""GateLink (simulator/gate_link.py) against a real `gate-safety` process on simulated pins: each
request is RemoteGate's, a killed controller is GateLinkDown (never a stale answer), and after the
controller is started again `reconnect()` puts the person back inside."""
from __future__ import annotations

import pytest

from drivers.gate.layout import Door
from firmware_app.config import load_config
from firmware_app.lane.wiring import gate_layout
from simulator.gate_link import GateLink, GateLinkDown
from simulator.local_process import stop_process
from simulator.safety_rig import controller_config, start_controller
from tests.polling import wait_until


def test_the_link_reads_drives_and_survives_a_controller_restart(tmp_path):
    socket = tmp_path / "safety.sock"
    config = controller_config(tmp_path / "gate.toml", socket)
    controller = start_controller(config, socket)
    control = socket.with_name("safety.sock.sim")
    link = GateLink(control, gate_layout(load_config(config).gate)).connect()
    try:
        assert not link.released(Door.ENTRY) and not link.is_open(Door.EXIT)
        link.emergency(True)            # the fire loop opens: both doors released, and they swing open
        assert link.released(Door.ENTRY) and link.released(Door.EXIT)
        assert wait_until(lambda: link.is_open(Door.ENTRY) and link.is_open(Door.EXIT), 5)
        link.emergency(False)
        assert wait_until(lambda: link.outputs()["released"] == [], 5)
        link.set_inside(1)
        assert link.outputs()["inside"] == 1
        controller.kill()               # the power cut
        controller.wait(5)
        with pytest.raises(GateLinkDown, match="went away"):
            link.released(Door.ENTRY)
        with pytest.raises(GateLinkDown, match="not running"):
            link.is_open(Door.ENTRY)
        control.unlink()                # as the bench's boot does: the dead controller's socket file
        controller = start_controller(config, socket)
        link.reconnect()
        after = link.outputs()          # the person is back inside; with no appliance the controller
        assert after["inside"] == 1 and after["released"] == ["entry"]     # lets them step back, never on
    finally:
        link.stop()
        stop_process(controller, 5)
