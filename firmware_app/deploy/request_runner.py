"""The root half of the `update-apply` command (see requests.py): `gatectl update run-requests`."""
from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from firmware_app.bmis.commands.model import CommandRefused, decode_json, parse_utc
from firmware_app.bmis.commands.signing import TrustStore, verify_command

from .errors import DeployError
from .requests import (
    COMMAND,
    UpdateParams,
    UpdateRequestInvalid,
    VerifiedRequest,
    parse_update_params,
    spool,
    utc_now,
)
from .update import Updater

log = logging.getLogger(__name__)
MAX_REQUEST_BYTES = 48 << 20
APPLIED = "applied-commands.json"
KEEP_APPLIED = 200


def _stored(path: Path) -> tuple[str, bytes]:
    if path.stat().st_size > MAX_REQUEST_BYTES:
        raise UpdateRequestInvalid(f"{path.name}: too large")
    try:
        stored = json.loads(path.read_text())
        return str(stored["topic"]), base64.b64decode(stored["payload"], validate=True)
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise UpdateRequestInvalid(f"{path.name}: not a stored update command") from None


def verify_request(path: Path, *, trust: TrustStore, device_root: str, now: datetime,
                   applied: list[str]) -> VerifiedRequest:
    topic, payload = _stored(path)
    command_id, params = verify_command_bytes(path.name, topic, payload, trust=trust, device_root=device_root,
                                              now=now, applied=applied)
    if command_id != path.stem:
        raise UpdateRequestInvalid(f"{path.name}: command id does not match, or was run before")
    return VerifiedRequest(command_id, params, path.parent.parent / f"{params.sha256}.deb")


def verify_command_bytes(name: str, topic: str, payload: bytes, *, trust: TrustStore, device_root: str,
                         now: datetime, applied: list[str]) -> tuple[str, UpdateParams]:
    """One stored signed command, checked as if it had just arrived: (its command id, its params)."""
    if topic != f"{device_root}/cmd/{COMMAND}":
        raise UpdateRequestInvalid(f"{name}: not this device's {COMMAND} topic")
    try:
        body = decode_json(payload, MAX_REQUEST_BYTES)
        expires_at = parse_utc(body.get("expires_at"), "expires_at")
    except CommandRefused as exc:
        raise UpdateRequestInvalid(f"{name}: {exc}") from None
    check = verify_command(topic, body, trust)
    if not check.valid:
        raise UpdateRequestInvalid(f"{name}: signature {check.status.value}")
    command_id = body.get("command_id")
    if not isinstance(command_id, str) or command_id in applied:
        raise UpdateRequestInvalid(f"{name}: command id does not match, or was run before")
    if now >= expires_at:
        raise UpdateRequestInvalid(f"{name}: the command expired at {expires_at.isoformat()}")
    return command_id, parse_update_params(body.get("params"))


class RequestRunner:
    def __init__(self, updater: Updater, trust: TrustStore, device_root: str,
                 clock: Callable[[], datetime] = utc_now, *, own_root_only: bool = False):
        """`own_root_only`: on a one-stop post each authority's run (its keys, its topic root) takes
        only the requests that came in under its own root and leaves the other's in place."""
        self._updater, self._trust, self._root, self._clock = updater, trust, device_root, clock
        self._own_root_only = own_root_only
        self.directory = spool(updater.settings.data_dir) / "requests"
        self._applied_file = updater.settings.packages_dir / APPLIED

    def run(self) -> list[dict]:
        results = []
        for path in sorted(self.directory.glob("*.json"), key=lambda p: p.stat().st_mtime):
            if not (self._own_root_only and self._foreign(path)):
                results.append(self._one(path))
        return results

    def _foreign(self, path: Path) -> bool:
        """Stored from another root (the other authority's); unreadable is not foreign: refused."""
        try:
            topic, _ = _stored(path)
        except (OSError, UpdateRequestInvalid):
            return False
        return not topic.startswith(f"{self._root}/")

    def _one(self, path: Path) -> dict:
        applied = self._applied()
        file = None
        try:
            request = self.verify(path, applied)
            file = request.file
            self._remember(applied, *request.command_ids)   # before the install: never run twice
            return {"request": path.name, **self._updater.apply(file, request.params.sha256).to_dict()}
        except DeployError as exc:
            log.error("update request %s refused: %s", path.name, exc)
            alarm = self._updater.raise_alarm("update_request_refused", "critical", str(exc))
            return {"request": path.name, "outcome": "refused", "detail": str(exc), "alarm": alarm}
        finally:
            path.unlink(missing_ok=True)
            if file is not None:
                file.unlink(missing_ok=True)      # the store keeps its own copy

    def verify(self, path: Path, applied: list[str]) -> VerifiedRequest:
        return verify_request(path, trust=self._trust, device_root=self._root, now=self._clock(), applied=applied)

    def _applied(self) -> list[str]:
        try:
            ids = json.loads(self._applied_file.read_text())
            return [i for i in ids if isinstance(i, str)] if isinstance(ids, list) else []
        except (OSError, ValueError):
            return []

    def _remember(self, applied: list[str], *command_ids: str) -> None:
        ids = [i for i in applied if i not in command_ids][-(KEEP_APPLIED - len(command_ids)):] + list(command_ids)
        self._applied_file.parent.mkdir(mode=0o750, parents=True, exist_ok=True)
        self._applied_file.write_text(json.dumps(ids))
