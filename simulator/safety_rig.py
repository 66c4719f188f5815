"""A test bench around the door safety controller: start `gate-safety` on simulated pins as its own
process, drive its inputs through the test-only control socket, time the emergency release.

Used by the tests, `python -m bench safety_release` and `gatesim gate ...`.
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

from drivers.gate.safety.simctl import RemoteGate

from .local_process import stop_process, wait_until

# A minimal appliance-side client (the same SafetyGate backend gate-app uses) for passages that the
# full appliance would need a passport, chip and face for. It walks one traveller to "inside, exit
# open" and then waits, heartbeating, to be killed there.
PASSAGE_CHILD = """
import sys, time
from pathlib import Path
from drivers.gate import Door
from drivers.gate.safety.client import SafetyGate
from drivers.gate.safety.simctl import RemoteGate
sock = Path(sys.argv[1])
sim = RemoteGate(Path(str(sock) + ".sim"))
gate = SafetyGate(sock, lambda event: None, heartbeat_s=float(sys.argv[2]))
gate.secure_all()
gate.open_door(Door.ENTRY, passage="txn-1")
sim.set_inside(1)
gate.close_door(Door.ENTRY)
while Door.ENTRY in gate.snapshot().doors_open:
    time.sleep(0.01)
gate.open_door(Door.EXIT, passage="txn-1")
print("mid-passage", flush=True)
time.sleep(60)
"""


def controller_config(path: Path, socket: Path, silence_s: float = 0.5, heartbeat_s: float = 0.1,
                      extra: str = "") -> Path:
    path.write_text(f'[device]\nid = "gate-safety-t"\npost_id = "post-t"\n[reader]\nurl = "sim://"\n'
                    f'[gate]\npin_factory = "mock"\nurl = "safety://{socket}"\npresence = [24, 16]\n'
                    'light = 6\nbuzzer = 12\n'
                    f'silence_timeout_s = {silence_s}\nheartbeat_s = {heartbeat_s}\n{extra}')
    return path


def start_controller(config: Path, socket: Path, timeout_s: float = 40.0) -> subprocess.Popen:
    """`gate-safety` as its own process; returns once both of its sockets answer."""
    process = subprocess.Popen([sys.executable, "-m", "drivers.gate.safety", "--config", str(config)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    control = Path(str(socket) + ".sim")
    if not wait_until(lambda: control.exists() or process.poll() is not None, timeout_s):
        stop_process(process, 2)
        raise RuntimeError("gate-safety did not start")
    if process.poll() is not None:
        raise RuntimeError(f"gate-safety exited: {process.stdout.read()[-2000:]}")
    return process


def start_passage_child(socket: Path, heartbeat_s: float) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", PASSAGE_CHILD, str(socket), str(heartbeat_s)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if child.stdout.readline().strip() != "mid-passage":
        child.kill()
        raise RuntimeError(f"passage client failed: {child.stderr.read()[-2000:]}")
    return child


def wait_for(remote: RemoteGate, condition, timeout_s: float) -> tuple[bool, float, dict]:
    """Poll the outputs until condition(outputs) holds: (held, seconds waited, last outputs)."""
    start = time.perf_counter()
    while True:
        outputs = remote.outputs()
        waited = time.perf_counter() - start
        if condition(outputs) or waited > timeout_s:
            return condition(outputs), waited, outputs


def release_latencies(remote: RemoteGate, doors: list[str], tries: int) -> list[float]:
    """Open the emergency loop `tries` times; seconds from the input change until every relay
    reads released (one control-socket round trip included), then close the loop again."""
    latencies = []
    for _ in range(tries):
        start = time.perf_counter()
        remote.emergency(True)
        held, _, _ = wait_for(remote, lambda o: o["released"] == doors, 2.0)
        latencies.append(time.perf_counter() - start if held else float("inf"))
        remote.emergency(False)
        wait_for(remote, lambda o: o["released"] != doors, 2.0)
    return latencies


def summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {"n": len(ordered), "p50_ms": statistics.median(ordered) * 1000, "p99_ms": p99 * 1000,
            "max_ms": ordered[-1] * 1000}
