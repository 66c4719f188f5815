"""`gate-app --config FILE`: the appliance entry point.

A bad config never starts the lane: it is checked before anything else is opened. Then the
appliance is assembled (firmware_app/appliance: doors secured first), started, and kept alive:
READY=1 to systemd once the lane runs with warm models, WATCHDOG=1 while the lane makes progress,
SIGTERM/SIGINT -> orderly stop with the doors secured; SIGHUP (`systemctl reload gate-app`, sent after
`gatectl cert renew`) -> the BMIS link reconnects with a renewed client certificate, at the next
keep-alive tick (half the watchdog interval, or 5 s).
Exit codes: 0 stopped on a signal, 1 the gate or the lane could not be started, 2 config unusable.
"""
from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .appliance.core import Appliance
from .appliance.errors import GateUnavailable
from .appliance.journal import configure_logging
from .appliance.memtrace import MemTrace
from .appliance.notify import Notifier
from .config import load_config
from .errors import ConfigError, GateError

log = logging.getLogger("gate.app")
EXIT_STOPPED, EXIT_GATE, EXIT_CONFIG = 0, 1, 2
IDLE_TICK_S = 5.0


def main(argv: list[str] | None = None) -> int:
    from . import __version__
    parser = argparse.ArgumentParser(prog="gate-app")
    parser.add_argument("--version", action="version", version=f"gate-app {__version__}")
    parser.add_argument("--config", default="config/default.toml")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    configure_logging(args.log_level, "gate-app")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"gate-app: config: {problem}", file=sys.stderr)
        return EXIT_CONFIG
    memtrace = MemTrace.from_environ(os.environ)       # debug only: a soak's heap snapshots (SIGUSR2)
    if memtrace is not None:
        memtrace.start()
    stop, reload = threading.Event(), threading.Event()
    _install_signals(stop, reload)      # here only: a caller of run() (a test) keeps its own handlers
    return run(config, Notifier.from_environ(os.environ), stop=stop, reload=reload)


def run(config, notifier: Notifier, base_dir: Path = Path("."), stop: threading.Event | None = None,
        reload: threading.Event | None = None) -> int:
    """Build, start and keep the appliance alive until `stop` is set (main() sets it on a signal);
    `reload` set: reconnect the BMIS link if its client certificate was renewed."""
    stop = threading.Event() if stop is None else stop
    reload = threading.Event() if reload is None else reload
    try:
        appliance = Appliance(config, base_dir=base_dir).build()
    except GateUnavailable as exc:
        print(f"gate-app: the gate cannot be driven: {exc}", file=sys.stderr)
        return EXIT_GATE
    try:
        appliance.start()
        notifier.send("READY=1")
        notifier.send(f"STATUS=lane {appliance.lane_state()}")
        _keep_alive(appliance, notifier, stop, reload)
    except GateError as exc:
        print(f"gate-app: the lane could not start ({type(exc).__name__}: {exc}); doors secured", file=sys.stderr)
        return EXIT_GATE
    finally:
        notifier.send("STOPPING=1")
        appliance.stop()
    return EXIT_STOPPED


def _install_signals(stop: threading.Event, reload: threading.Event) -> None:
    def request_stop(signum, frame):
        log.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, request_stop)
    # Only flags it: the handler runs between two bytecodes of the main thread, which may hold a lock.
    signal.signal(signal.SIGHUP, lambda signum, frame: reload.set())


def _keep_alive(appliance: Appliance, notifier: Notifier, stop: threading.Event, reload: threading.Event) -> None:
    """Pet the watchdog only while the lane thread is alive: a hung lane gets restarted by systemd
    (and the restart secures the doors first)."""
    interval = notifier.watchdog_interval_s() or IDLE_TICK_S
    while not stop.wait(interval):
        if reload.is_set():
            reload.clear()
            reloaded = appliance.reload_client_certificate()
            log.info("reload: %s", "reconnecting with the renewed client certificate" if reloaded
                     else "client certificate unchanged")
        if appliance.lane_alive():
            notifier.send("WATCHDOG=1")
        else:
            log.error("lane not alive: watchdog not petted")
