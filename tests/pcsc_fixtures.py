"""Real PC/SC stack for end-to-end chip tests: Debian pcscd (foreground) + vsmartcard vpcd driver.

One pcscd per session with its own reader.conf.d (vpcd on a free port); skips with a clear message
when pcscd/vpcd is not installed or another pcscd owns the system socket.
"""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from simulator.vchip.pcscd import PcscdProcess, PcscdUnavailable, insert_card, remove_card  # noqa: F401


class _Shared:
    pcscd: PcscdProcess | None = None
    users = 0


@pytest.fixture(scope="session")
def pcscd_vpcd(tmp_path_factory):
    """Yields ("127.0.0.1", vpcd port); shared by every module that imports it."""
    if _Shared.pcscd is None:
        try:
            _Shared.pcscd = PcscdProcess(tmp_path_factory.mktemp("pcsc")).start()
        except PcscdUnavailable as exc:
            pytest.skip(str(exc))
    _Shared.users += 1
    try:
        yield "127.0.0.1", _Shared.pcscd.port
    finally:
        _Shared.users -= 1
        if _Shared.users == 0:
            _Shared.pcscd.stop()
            _Shared.pcscd = None


@pytest.fixture
def restartable_pcscd(pcscd_vpcd) -> Iterator[PcscdProcess]:
    """The session's own pcscd, for a test that kills and restarts it: it runs again afterwards,
    on the same vpcd port, for the modules that share it."""
    pcscd = _Shared.pcscd
    assert pcscd is not None
    yield pcscd
    if pcscd.process is None or pcscd.process.poll() is not None:
        pcscd.process = None
        pcscd.start()
