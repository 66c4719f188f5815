"""Helpers for the local services a test bench starts itself (mosquitto, pcscd): ports, waiting, shutdown."""
from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable

_handed_out: set[int] = set()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now, never one this process was given before.

    The kernel may give the port it just freed to the next probe, so two calls in a row (a broker's
    two listeners, two officer consoles) could otherwise get the same port.
    """
    for _ in range(64):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise OSError("no free TCP port on 127.0.0.1 that this process has not already used")


def stop_process(process: subprocess.Popen | None, timeout_s: float) -> None:
    """SIGTERM (so the service can save its state), SIGKILL after timeout_s; None is a no-op."""
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.05) -> bool:
    """Poll `condition` until it holds or timeout_s passes; its last answer is the result."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(poll_s)
    return condition()
