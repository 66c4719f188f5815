"""Run Debian's pcscd in the foreground with the vsmartcard vpcd driver on a chosen port,
and plug virtual cards in and out of it (test benches, `gatesim`, benchmarks)."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

from simulator.local_process import free_port, stop_process

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_PID_FILE = Path("/run/pcscd/pcscd.pid")
READER_NAME = "Virtual PCD"
READER_URL = "pcsc://Virtual PCD 00 00"


class PcscdUnavailable(RuntimeError):
    """pcscd or the vpcd driver is missing, or another pcscd owns the system socket."""


def pcscd_binary() -> str:
    found = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
    if found is None or not VPCD_DRIVER.exists():
        raise PcscdUnavailable("pcscd and vsmartcard-vpcd are not installed (apt-get install pcscd vsmartcard-vpcd)")
    return found


def other_pcscd_running() -> bool:
    try:
        os.kill(int(PCSCD_PID_FILE.read_text().strip()), 0)
        return True
    except (OSError, ValueError):
        return False


class PcscdProcess:
    def __init__(self, workdir: Path, port: int | None = None):
        self.workdir, self.port = workdir, port or free_port()
        self.process: subprocess.Popen | None = None

    def start(self, timeout_s: float = 10.0) -> PcscdProcess:
        binary = pcscd_binary()
        if other_pcscd_running():
            raise PcscdUnavailable("another pcscd is already running; stop it first")
        conf = self.workdir / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME /dev/null:0x{self.port:X}\n'
                                   f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{self.port:X}\n")
        with (self.workdir / "pcscd.log").open("w") as log:
            self.process = subprocess.Popen([binary, "--foreground", "--config", str(conf), "--error"],
                                            stdout=log, stderr=subprocess.STDOUT)
        self._wait_for_reader(time.monotonic() + timeout_s)
        return self

    def _wait_for_reader(self, deadline: float) -> None:
        from drivers.errors import ReaderNotFound
        from drivers.smartcard.pcsc import find_reader
        while time.monotonic() < deadline:
            try:
                find_reader(READER_URL.removeprefix("pcsc://"))  # vpcd lists two; name the first
                return
            except ReaderNotFound:
                time.sleep(0.05)
        self.stop()
        raise PcscdUnavailable("pcscd did not list the vpcd reader in time")

    def stop(self) -> None:
        process, self.process = self.process, None
        stop_process(process, timeout_s=5)

    def kill(self) -> None:
        """End it as a crash would (SIGKILL: no cleanup); `start()` again is what systemd does."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()


def insert_card(chip, port: int, extended: bool = False, reader_url: str = READER_URL, latency=None):
    """Connect the virtual card to vpcd and wait until pcscd reports it present; `latency(command,
    response)` holds each answer back by its modelled air and processing time."""
    from drivers.errors import DriverError
    from drivers.smartcard import open_transceiver
    from simulator.vchip.vpcd import VpcdCard, card_atr
    card = VpcdCard(chip, card_atr(extended), port=port, latency=latency).connect()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            open_transceiver(reader_url).close()
            return card
        except DriverError:
            time.sleep(0.05)
    card.remove()
    raise PcscdUnavailable("the virtual card never appeared in pcscd")


def remove_card(card, reader_url: str = READER_URL) -> None:
    """Disconnect the virtual card and wait until pcscd reports the slot empty."""
    from drivers.smartcard.events import card_present
    card.remove()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not card_present(reader_url.removeprefix("pcsc://")):
            return
        time.sleep(0.05)
    raise PcscdUnavailable("pcscd still reports the removed virtual card")
