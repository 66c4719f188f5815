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


@pytest.fixture(scope="session")
def pcscd_vpcd(tmp_path_factory):
    """Start pcscd in the foreground with vpcd on a free port; yield (host, port)."""
    pcscd = shutil.which("pcscd") or ("/usr/sbin/pcscd" if Path("/usr/sbin/pcscd").exists() else None)
    if pcscd is None or not VPCD_DRIVER.exists():
        pytest.skip("pcscd and vsmartcard-vpcd are not installed (apt-get install pcscd vsmartcard-vpcd)")
    if _other_pcscd_running():
        pytest.skip("another pcscd is already running; stop it to run the PC/SC end-to-end tests")
    port = _free_port()
    conf = tmp_path_factory.mktemp("pcsc") / "reader.conf.d"
    conf.mkdir()
    (conf / "vpcd").write_text(f'FRIENDLYNAME "{READER_NAME}"\nDEVICENAME /dev/null:0x{port:X}\n'
                               f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{port:X}\n")
    log = (conf.parent / "pcscd.log").open("w")
    process = subprocess.Popen([pcscd, "--foreground", "--config", str(conf), "--error"],
                               stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_for_reader(time.monotonic() + 10)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
