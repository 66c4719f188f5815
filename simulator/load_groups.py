"""More than two lanes in one `gatesim load`: the lanes run in groups of two, each group a child
`gatesim load` process with its own pcscd.

One pcscd's vpcd reader serves two slots, a second vpcd reader in the same pcscd shares their state,
and pcsc-lite 1.9.9's daemon ignores PCSCLITE_CSOCK_NAME, so two pcscd cannot be told apart by
their socket path. Each group therefore runs in its own mount namespace with a private tmpfs on
/run/pcscd (`unshare -m` as root, `unshare -Urm`, a user namespace, otherwise): its pcscd and its
pyscard meet there, unseen by any other pcscd. Each group's vpcd ports are chosen here, so no two
groups take the same. The groups start one after the other (no two choose free ports at once),
each says when its benches are up, and all walk their travellers on one word from the parent.
Where no namespace can be had, more than two lanes fail with a LoadError naming what is missing.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from simulator.load import GROUP_LANES, LoadError
from simulator.local_process import free_port

READY = "gatesim-load-group: ready"
GO = "go"
# in the new mount namespace: a private, empty /run/pcscd, then the group's own gatesim
NS_SCRIPT = 'mkdir -p /run/pcscd && mount -t tmpfs none /run/pcscd && exec "$0" "$@"'
PROBE_SCRIPT = "mkdir -p /run/pcscd && mount -t tmpfs none /run/pcscd"
READY_TIMEOUT_S = 300.0         # a group's benches: pcscd, brokers, appliances, face models
STOP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Namespacing:
    """How a group gets its own mount namespace: `unshare -m` (root) or `unshare -Urm` (user namespace)."""
    unshare: str
    user: bool

    def flags(self) -> list[str]:
        return (["--user", "--map-root-user"] if self.user else []) + ["--mount", "--propagation", "private"]

    def wrap(self, argv: list[str]) -> list[str]:
        """`argv` run in a new mount namespace with its own empty /run/pcscd."""
        return [self.unshare, *self.flags(), "sh", "-c", NS_SCRIPT, *argv]


def _probe(argv: list[str]) -> str:
    """'' when `argv` ran and succeeded, else what went wrong."""
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return str(exc)
    return "" if done.returncode == 0 else (done.stderr.strip() or f"exit code {done.returncode}")


def namespacing(is_root: bool | None = None, which: Callable[[str], str | None] = shutil.which,
                probe: Callable[[list[str]], str] = _probe) -> Namespacing:
    """The way this machine gives a group its own /run/pcscd, tried once; LoadError naming what is missing."""
    root = os.geteuid() == 0 if is_root is None else is_root
    unshare = which("unshare")
    need = f"more than {GROUP_LANES} lanes need a mount namespace per group of {GROUP_LANES} lanes (each its " \
           f"own pcscd on a private /run/pcscd)"
    if unshare is None:
        raise LoadError(f"{need}: the unshare program (util-linux) is not installed")
    ways = [Namespacing(unshare, user=False)] if root else [Namespacing(unshare, user=True)]
    for way in ways:
        failed = probe([way.unshare, *way.flags(), "sh", "-c", PROBE_SCRIPT])
        if not failed:
            return way
    how = "`unshare -m` failed as root" if root else "not root, and a user namespace (`unshare -Urm`) failed"
    raise LoadError(f"{need}: {how}: {failed}")


def plan(lanes: int) -> list[list[int]]:
    """Lanes 1..lanes in groups of GROUP_LANES: 5 -> [[1, 2], [3, 4], [5]]."""
    numbers = list(range(1, lanes + 1))
    return [numbers[i:i + GROUP_LANES] for i in range(0, lanes, GROUP_LANES)]


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def vpcd_ports(count: int, free: Callable[[], int] = free_port,
               bindable: Callable[[int], bool] = _bindable) -> list[int]:
    """A vpcd port for each group: vpcd listens on it and the next one, so both free, none shared."""
    ports: list[int] = []
    taken: set[int] = set()
    for _ in range(64 * max(1, count)):
        if len(ports) == count:
            break
        port = free()
        if port + 1 < 65536 and not {port, port + 1} & taken and bindable(port + 1):
            ports.append(port)
            taken |= {port, port + 1}
    if len(ports) < count:
        raise LoadError(f"no {count} pairs of free TCP ports on 127.0.0.1 for the groups' vpcd")
    return ports


def child_argv(args, lanes: list[int], port: int, raw: Path) -> list[str]:
    """The group's own `gatesim load`: the whole run's travellers and seed, its lanes' share."""
    argv = [sys.executable, "-m", "simulator.cli", "load", "--travellers", str(args.travellers),
            "--lanes", str(len(lanes)), "--seed", str(args.seed), "--chip-kbps", str(args.chip_kbps),
            "--speedup", repr(args.speedup), "--framing", args.framing,
            "--group-of", str(args.lanes), "--group-first-lane", str(lanes[0]),
            "--group-vpcd", str(port), "--group-raw", str(raw)]
    if args.hours is not None:
        argv += ["--hours", repr(args.hours)]
    if args.faces is not None:
        argv += ["--faces", args.faces]
    for item in args.timing:
        argv += ["--timing", item]
    return argv + (["--verbose"] if args.verbose else [])


@dataclass
class Group:
    lanes: list[int]
    workdir: Path
    process: subprocess.Popen | None = None
    ready: threading.Event = field(default_factory=threading.Event)
    relay: threading.Thread | None = None
    up: bool = False                    # said its benches are up (not merely ended)

    @property
    def label(self) -> str:
        return f"{self.lanes[0]}-{self.lanes[-1]}" if len(self.lanes) > 1 else str(self.lanes[0])

    @property
    def raw(self) -> Path:
        return self.workdir / "raw.json"

    def start(self, argv: list[str], out: Callable[[str], None]) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        with (self.workdir / "stderr.txt").open("w") as err:
            self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                                            text=True, bufsize=1, cwd=Path.cwd())
        self.relay = threading.Thread(target=self._relay, args=(out,), name=f"group-{self.lanes[0]}", daemon=True)
        self.relay.start()

    def _relay(self, out: Callable[[str], None]) -> None:
        """The group's progress lines to ours; its ready line sets `ready`."""
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            if line.rstrip("\n") == READY:
                self.up = True
                self.ready.set()
            else:
                out(line.rstrip("\n"))
        self.ready.set()                # ended: nobody waits for a group that is gone

    def stderr_tail(self, lines: int = 8) -> str:
        try:
            text = (self.workdir / "stderr.txt").read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return " | ".join(text[-lines:])

    def go(self) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(GO + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        """On the parent's failure: SIGINT (the group stops its benches), then SIGKILL."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(2)
        try:
            self.process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


_PRINTING = threading.Lock()


def say(line: str) -> None:
    """One whole line at a time: the groups' relays print side by side."""
    with _PRINTING:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def run_groups(args, workdir: Path, ns: Namespacing, out: Callable[[str], None] = say) -> list[dict]:
    """Start the groups one after the other, each up before the next; then all walk at once; their
    raw results (a group that failed: its lanes with the error and no travellers)."""
    groups = [Group(lanes, workdir / f"group{n}") for n, lanes in enumerate(plan(args.lanes), 1)]
    try:
        for group, port in zip(groups, vpcd_ports(len(groups))):
            group.start(ns.wrap(child_argv(args, group.lanes, port, group.raw)), out)
            group.ready.wait(READY_TIMEOUT_S)
            if not group.up:
                raise LoadError(f"the group of lanes {group.label} did not start: {group.stderr_tail()}")
        for group in groups:
            group.go()
        for group in groups:
            assert group.process is not None
            group.process.wait()
            if group.relay is not None:
                group.relay.join(5.0)
    except BaseException:
        for group in groups:
            group.stop()
        raise
    return [result_of(group) for group in groups]


def result_of(group: Group) -> dict:
    """The group's raw results; its lanes marked with the failure when it ended badly."""
    from simulator.load_merge import RAW_VERSION, RawGroupError, read_raw
    code = group.process.returncode if group.process is not None else None
    why = "" if code == 0 else f"group process (lanes {group.label}) ended with exit code {code}: " \
                               f"{group.stderr_tail()}"
    try:
        raw = read_raw(group.raw)
    except RawGroupError as exc:
        raw = {"version": RAW_VERSION, "elapsed_s": 0.0, "samples": [],
               "lanes": [{"lane": n, "outcomes": [], "finished_at": [], "cpu_s": [], "delivery": None, "error": "",
                          "gate_events": [], "reached_hours": False} for n in group.lanes]}
        why = why or str(exc)
    for lane in raw["lanes"]:
        lane["error"] = "; ".join(e for e in (lane["error"], why) if e)
    return raw
