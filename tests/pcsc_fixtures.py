"""Real PC/SC stack for end-to-end chip tests: Debian pcscd (foreground) + vsmartcard vpcd driver.

The fixture writes its own reader.conf.d (vpcd on a free port) so it does not depend on the
system's port; it skips with a clear message when pcscd or the vpcd driver is not installed, or
when another pcscd already owns /run/pcscd.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
PCSCD_PID_FILE = Path("/run/pcscd/pcscd.pid")
READER_NAME = "Virtual PCD"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _other_pcscd_running() -> bool:
    try:
        pid = int(PCSCD_PID_FILE.read_text().strip())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False


def _wait_for_reader(deadline: float) -> None:
    from smartcard.System import readers
    while time.monotonic() < deadline:
        try:
            if any(READER_NAME in str(r) for r in readers()):
                return
        except Exception:  # pcscd socket not up yet
            pass
        time.sleep(0.05)
    raise RuntimeError("pcscd did not list the vpcd reader in time")


class _Pcscd:
    """One pcscd per test session, shared by every module that imports the fixture."""
    process: subprocess.Popen | None = None
    port = 0
    users = 0


def _start_pcscd(workdir: Path) -> None:
    pcscd = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
    if pcscd is None or not VPCD_DRIVER.exists():
        pytest.skip("pcscd and vsmartcard-vpcd are not installed (apt-get install pcscd vsmartcard-vpcd)")
    if _other_pcscd_running():
        pytest.skip("another pcscd is already running; stop it to run the PC/SC end-to-end tests")
    port = _free_port()
    conf = workdir / "reader.conf.d"
    conf.mkdir()
    (conf / "vpcd").write_text(f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME /dev/null:0x{port:X}\n'
                               f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{port:X}\n")
    with (workdir / "pcscd.log").open("w") as log:
        _Pcscd.process = subprocess.Popen([pcscd, "--foreground", "--config", str(conf), "--error"],
                                          stdout=log, stderr=subprocess.STDOUT)
    _Pcscd.port = port
    _wait_for_reader(time.monotonic() + 10)


def _stop_pcscd() -> None:
    process, _Pcscd.process = _Pcscd.process, None
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def pcscd_vpcd(tmp_path_factory):
    """pcscd in the foreground with vpcd on a free port; yields (host, port)."""
    if _Pcscd.process is None:
        _start_pcscd(tmp_path_factory.mktemp("pcsc"))
    _Pcscd.users += 1
    try:
        yield "127.0.0.1", _Pcscd.port
    finally:
        _Pcscd.users -= 1
        if _Pcscd.users == 0:
            _stop_pcscd()


def insert_card(chip, port: int, extended: bool = False, reader_url: str = "pcsc://Virtual PCD 00 00"):
    """Connect the virtual card to vpcd and wait until pcscd reports it present."""
    from drivers.errors import DriverError
    from drivers.smartcard import open_transceiver
    from simulator.vchip.vpcd import VpcdCard, card_atr
    card = VpcdCard(chip, card_atr(extended), port=port).connect()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            open_transceiver(reader_url).close()
            return card
        except DriverError:
            time.sleep(0.05)
    card.remove()
    raise RuntimeError("the virtual card never appeared in pcscd")


def remove_card(card, reader_url: str = "pcsc://Virtual PCD 00 00") -> None:
    """Disconnect the virtual card and wait until pcscd has noticed (so the next test starts clean)."""
    from drivers.errors import DriverError
    from drivers.smartcard import open_transceiver
    card.remove()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            open_transceiver(reader_url).close()
        except DriverError:
            return
        time.sleep(0.05)
    raise RuntimeError("pcscd still reports the removed virtual card")
