"""One authority's half of an `update-apply` that needs both (a one-stop post with [onestop]
update_authority = "both"), kept on disk so that a restart of gate-app (power cut, watchdog) does
not forget it while the other authority's half is on its way.

`<data_dir>/updates/pending/<role>.json`, one per authority (its latest half):
    {"format": 1, "role": "exit", "topic": ..., "payload": <base64 signed command>, "received_at": ...}
written with files.write_atomic (temp file, fsync, rename, directory fsync): a power cut leaves
the old file or the new one. The payload is the verified command as received (its signature
member included); the signature covers its canonical JSON, so it verifies again after the round
trip, here and in root's run (joint_requests.py).

Nothing read back is trusted. Each file is bounded (MAX_HALF_BYTES) and its command verified again
as when it arrived: that authority's own command keys, that authority's topic root, unexpired at
received_at (one that expired since is the caller's to drop and report as expired), parameters
well-formed, received_at not in the future. A file that fails any of it is removed and named in
`problems` (the caller logs and alarms); nothing is ever installed from here: a half only waits,
and root verifies both halves once more before anything is installed.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from firmware_app.bmis.commands.model import CommandRefused, decode_json, parse_utc
from firmware_app.bmis.commands.signing import TrustStore

from .errors import DeployError
from .files import read_bounded, write_atomic
from .request_runner import verify_command_bytes
from .requests import UpdateParams, UpdateRequestInvalid

log = logging.getLogger(__name__)
FORMAT = 1
# A real update-apply (url <= 2 KiB, sha256, version, signature) is well under 4 KiB; the bound
# keeps a tampered file from costing memory or time at boot.
MAX_HALF_BYTES = 64 << 10
# A half waits until its own signed expires_at, but never longer than this: a BMIS may sign a
# command valid for weeks, and a request the other authority has not matched within a day is
# stale (the two BMIS are expected to agree within hours). Either authority can send it again.
MAX_WAIT = timedelta(hours=24)
# received_at later than the clock by more than this is not the gate's own writing
CLOCK_SLACK = timedelta(minutes=5)


@dataclass(frozen=True)
class PendingHalf:
    """One authority's verified update-apply, waiting for the other's."""
    role: str
    topic: str
    body: dict
    command_id: str
    params: UpdateParams
    expires_at: datetime        # the command's own, as signed
    received_at: datetime

    @property
    def due(self) -> datetime:
        """When it stops waiting: its own expiry, or MAX_WAIT after it arrived if that is earlier."""
        return min(self.expires_at, self.received_at + MAX_WAIT)


def half_of(role: str, topic: str, body: dict, command_id: str, params: UpdateParams,
            received_at: datetime) -> PendingHalf:
    """A half from a command the processor has verified (CommandRefused for a bad expires_at)."""
    return PendingHalf(role, topic, body, command_id, params, parse_utc(body.get("expires_at"), "expires_at"),
                       received_at)


class PendingHalves:
    """The halves on disk. `authorities`: role -> (topic root, command keys) of each authority."""

    def __init__(self, directory: Path, authorities: Mapping[str, tuple[str, TrustStore]],
                 clock: Callable[[], datetime]):
        self.directory, self._authorities, self._clock = Path(directory), dict(authorities), clock

    def path(self, role: str) -> Path:
        return self.directory / f"{role}.json"

    def save(self, half: PendingHalf) -> None:
        """DeployError when it cannot be kept (the caller refuses the command rather than hold it
        in memory only). Too large a command is refused too."""
        payload = json.dumps(half.body, ensure_ascii=False).encode()
        stored = {"format": FORMAT, "role": half.role, "topic": half.topic,
                  "payload": base64.b64encode(payload).decode(),
                  "received_at": half.received_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        data = json.dumps(stored).encode()
        if len(data) > MAX_HALF_BYTES:
            raise UpdateRequestInvalid(f"the signed update-apply is over {MAX_HALF_BYTES} bytes: not kept")
        try:
            self.directory.mkdir(mode=0o750, parents=True, exist_ok=True)
            write_atomic(self.path(half.role), data, 0o640)
        except OSError as exc:
            raise DeployError(f"cannot keep the {half.role} authority's update-apply: {exc.strerror}") from None

    def drop(self, role: str) -> None:
        try:
            self.path(role).unlink(missing_ok=True)
        except OSError as exc:
            log.error("pending update-apply of the %s authority not removed: %s", role, exc.strerror)

    def load(self) -> tuple[dict[str, PendingHalf], list[str]]:
        """(the halves that verify, by role; what was discarded and why). Leftover temp files of an
        interrupted write are removed; files of roles that are not configured are not read."""
        self._remove_leftovers()
        halves: dict[str, PendingHalf] = {}
        problems: list[str] = []
        for role in self._authorities:
            path = self.path(role)
            if not path.exists():
                continue
            try:
                halves[role] = self._verified(role, path)
            except (DeployError, OSError) as exc:
                problems.append(f"{path.name}: {exc}"[:400])
                self.drop(role)
        return halves, problems

    def _remove_leftovers(self) -> None:
        for temp in self.directory.glob(".*.json.*"):
            temp.unlink(missing_ok=True)

    def _verified(self, role: str, path: Path) -> PendingHalf:
        stored = _parsed(read_bounded(path, MAX_HALF_BYTES, "pending update-apply"))
        if stored["role"] != role:
            raise UpdateRequestInvalid(f"holds the {stored['role']!r} authority's half, not the {role}'s")
        root, keys = self._authorities[role]
        received_at = _received(stored["received_at"], self._clock())
        # checked as it was when it arrived: one that expired while it waited (the gate was off) is
        # the caller's to drop and report as expired (its due is then past)
        command_id, params = verify_command_bytes("signed command", stored["topic"], stored["payload"], trust=keys,
                                                  device_root=root, now=received_at, applied=[])
        try:
            body = decode_json(stored["payload"], MAX_HALF_BYTES)
        except CommandRefused as exc:       # verify_command_bytes decoded it already: not reached
            raise UpdateRequestInvalid(str(exc)) from None
        return half_of(role, stored["topic"], body, command_id, params, received_at)


def _parsed(data: bytes) -> dict:
    """The stored members, typed; UpdateRequestInvalid for anything else."""
    try:
        stored = json.loads(data)
        if not isinstance(stored, dict) or stored.get("format") != FORMAT:
            raise UpdateRequestInvalid("not a pending update-apply of this release")
        role, topic, received = stored["role"], stored["topic"], stored["received_at"]
        if not all(isinstance(v, str) for v in (role, topic, received)):
            raise UpdateRequestInvalid("not a pending update-apply")
        payload = base64.b64decode(stored["payload"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error, RecursionError):
        raise UpdateRequestInvalid("not a pending update-apply (unreadable JSON or members)") from None
    return {"role": role, "topic": topic, "received_at": received, "payload": payload}


def _received(value: str, now: datetime) -> datetime:
    try:
        received = parse_utc(value, "received_at")
    except CommandRefused as exc:
        raise UpdateRequestInvalid(str(exc)) from None
    if received > now + CLOCK_SLACK:
        raise UpdateRequestInvalid(f"received_at {value} is in the future")
    return received
