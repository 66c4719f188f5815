"""Can the date be believed? The clock probe behind the policy's `clock_synchronised`.

A Raspberry Pi has no real-time clock: after a power cut it starts at the last saved time, and a
document's expiry, a BMIS command's lifetime and every certificate are judged against that date.
Until NTP has synchronised the clock (systemd-timesyncd touches its marker file; chrony and ntpd
set the kernel's error estimate, which is what `timedatectl show -p NTPSynchronized` reports) the
lane refers every traveller, and health and selftest say why. A post with a GPS or battery RTC
clock declares it trusted in config (`[clock] trusted = true`).

The kernel is asked directly (adjtimex with no change requested) rather than through timedatectl:
no D-Bus, no subprocess, nothing that can hang the decider.
"""
from __future__ import annotations

import ctypes
import enum
import threading
import time
from collections.abc import Callable
from pathlib import Path

# The kernel's "unsynchronised" maximum error (16 s in microseconds); systemd's ntp_synced()
# treats anything below it as synchronised, ignoring STA_UNSYNC.
_UNSYNC_MAXERROR_US = 16_000_000


class ClockState(str, enum.Enum):
    SYNCHRONISED = "synchronised"       # NTP said so (marker file or kernel)
    TRUSTED = "trusted"                 # declared in config: GPS / RTC post
    NOT_SYNCHRONISED = "not_synchronised"

    @property
    def believable(self) -> bool:
        return self is not ClockState.NOT_SYNCHRONISED


class _Timex(ctypes.Structure):
    # Only the leading fields are read; the tail is room for the rest of struct timex.
    _fields_ = [("modes", ctypes.c_uint), ("offset", ctypes.c_long), ("freq", ctypes.c_long),
                ("maxerror", ctypes.c_long), ("esterror", ctypes.c_long), ("status", ctypes.c_int),
                ("_rest", ctypes.c_byte * 256)]


def kernel_synchronised() -> bool:
    """adjtimex(2) read-only: False when the call is unavailable or fails."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        timex = _Timex()
        if libc.adjtimex(ctypes.byref(timex)) < 0:
            return False
    except (OSError, AttributeError):
        return False
    return 0 <= timex.maxerror < _UNSYNC_MAXERROR_US


def marker_present(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:
        return False


def probe_from_config(section) -> Callable[[], ClockState]:
    """`section` is the config's ClockSection."""
    def probe() -> ClockState:
        if section.trusted:
            return ClockState.TRUSTED
        if marker_present(section.sync_marker) or (section.kernel_sync and kernel_synchronised()):
            return ClockState.SYNCHRONISED
        return ClockState.NOT_SYNCHRONISED
    return probe


class ClockWatch:
    """One probe answer kept `recheck_s` (the decider asks per traveller, health once a minute)."""

    def __init__(self, probe: Callable[[], ClockState], recheck_s: float,
                 monotonic: Callable[[], float] = time.monotonic):
        self._probe, self._recheck_s, self._monotonic = probe, recheck_s, monotonic
        self._lock = threading.Lock()
        self._state: ClockState | None = None
        self._at = 0.0

    def state(self) -> ClockState:
        with self._lock:
            now = self._monotonic()
            if self._state is None or now - self._at >= self._recheck_s:
                self._state, self._at = self._probe(), now
            return self._state

    def synchronised(self) -> bool:
        return self.state().believable

    def health_entry(self) -> dict[str, str]:
        state = self.state()
        if state.believable:
            return {"status": "ok", "detail": state.value}
        return {"status": "degraded", "detail": state.value,
                "note": "clock not synchronised (NTP): every traveller is referred until it is"}


def describe(state: ClockState) -> str:
    """One line for the technician (selftest, status)."""
    return {ClockState.SYNCHRONISED: "synchronised by NTP",
            ClockState.TRUSTED: "declared trusted in config ([clock] trusted: GPS/RTC post)",
            ClockState.NOT_SYNCHRONISED: "NOT synchronised: the lane refers every traveller until NTP "
                                         "synchronises (check systemd-timesyncd/chrony, or declare a "
                                         "GPS/RTC clock with [clock] trusted = true)"}[state]
