"""The appliance as a device runs it: `gate-app` and `gate-safety` as their own processes, started,
SIGKILLed and restarted by the bench the way systemd does it (gate-safety first, `Restart=always`,
`Type=notify`: READY=1 on $NOTIFY_SOCKET is how the bench, like systemd, knows gate-app is up).

    safety = OwnProcess("gate-safety", config, logs).start(until=control_socket.exists)
    app = GateAppProcess(config, logs, notify_dir).start()
    app.wait_ready(120)          # READY=1: doors secured, journal recovered, models warm
    app.kill()                   # SIGKILL: a power cut (nothing is flushed, no handler runs)

Each process writes its log to a file in the bench's directory (never a pipe that could fill up
and stall it); every process is ours, held by its handle, and ended by that handle only.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from simulator.local_process import wait_until

STOP_S = 30.0           # gate-app.service TimeoutStopSec
MAX_NOTIFY = 4096


class ProcessUnavailable(RuntimeError):
    """The process could not be started, or did not come up in time (its log's tail is in the text)."""


def console_script(name: str, module: str) -> list[str]:
    """The installed console script next to this interpreter (what systemd's ExecStart runs), or
    the module when the environment has no scripts (an uninstalled checkout)."""
    script = Path(sys.executable).with_name(name)
    return [str(script)] if script.exists() else [sys.executable, "-m", module]


class OwnProcess:
    def __init__(self, name: str, command: list[str], log_dir: Path, env: dict[str, str] | None = None):
        self.name, self.command, self.env = name, command, env
        self.log_path = Path(log_dir) / f"{name}.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, until: Callable[[], bool] = lambda: True, timeout_s: float = 40.0) -> OwnProcess:
        with open(self.log_path, "ab") as log:
            log.write(f"--- start {self.starts + 1}\n".encode())
            log.flush()
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                            env={**os.environ, **(self.env or {})})
        self.starts += 1
        if not wait_until(lambda: until() or not self.running, timeout_s, 0.02) or not self.running:
            raise ProcessUnavailable(f"{self.name} did not come up: {self.log_tail()}")
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL by our own handle (a power cut: no handler, no flush), and reap it."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def stop(self, timeout_s: float = STOP_S) -> int | None:
        """SIGTERM (an orderly stop: doors secured, link drained), SIGKILL after timeout_s."""
        if self.process is None:
            return None
        self.process.terminate()
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.process = None
        return code

    def log_tail(self, size: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-size:]
        except OSError:
            return "(no log)"


class NotifySocket:
    """systemd's end of sd_notify: a datagram socket gate-app sends READY=1, WATCHDOG=1, ... to."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.path))
        self.sock.setblocking(False)

    def drain(self) -> list[str]:
        messages = []
        while True:
            try:
                messages += self.sock.recv(MAX_NOTIFY).decode(errors="replace").splitlines()
            except (BlockingIOError, InterruptedError):
                return messages

    def close(self) -> None:
        self.sock.close()
        self.path.unlink(missing_ok=True)


class GateAppProcess(OwnProcess):
    """`gate-app --config FILE`, with the bench as its systemd (NOTIFY_SOCKET)."""

    def __init__(self, config: Path, log_dir: Path, notify_path: Path, env: dict[str, str] | None = None):
        self.notify = NotifySocket(notify_path)
        super().__init__("gate-app", console_script("gate-app", "firmware_app") + ["--config", str(config)],
                         log_dir, env={"NOTIFY_SOCKET": str(notify_path), "PYTHONUNBUFFERED": "1", **(env or {})})
        self.ready_at: float | None = None

    def start(self, until: Callable[[], bool] = lambda: True, timeout_s: float = 40.0) -> GateAppProcess:
        self.notify.drain()             # a killed process's last words are not this one's
        self.ready_at = None
        super().start(until, timeout_s)
        return self

    def wait_ready(self, timeout_s: float) -> float:
        """Seconds from now until READY=1 (the appliance's own word that the lane runs)."""
        started = time.monotonic()

        def ready() -> bool:
            if "READY=1" in self.notify.drain():
                self.ready_at = time.monotonic()
            return self.ready_at is not None or not self.running
        if not wait_until(ready, timeout_s, 0.02) or self.ready_at is None:
            raise ProcessUnavailable(f"gate-app sent no READY=1 within {timeout_s:.0f} s: {self.log_tail()}")
        return self.ready_at - started

    def close(self) -> None:
        self.stop()
        self.notify.close()
