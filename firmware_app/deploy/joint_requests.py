"""The root half of `update-apply` on a one-stop post whose agreement needs both authorities
([onestop] update_authority = "both"): a request is run only when it holds the same signed request
from each authority, each verified with that authority's own command keys under its own topic root.

gate-app leaves such a request as `<exit id>+<entry id>.json` {"commands": [{"topic", "payload"},
...], "file"} once both have arrived (requests.py). Nothing in it is trusted: each command is
checked as `verify_request` checks one (device, signature, expiry, not run before), the ids must
be the file's name in the authorities' order, and the parameters (url, sha256, version) must be
the same in each. A request with one authority's command only, or one from a root that is neither
authority's, is refused (removed, with the `update_request_refused` alarm), never half-applied.
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from firmware_app.bmis.commands.signing import TrustStore

from .request_runner import MAX_REQUEST_BYTES, RequestRunner, verify_command_bytes
from .requests import JOINT, UpdateParams, UpdateRequestInvalid, VerifiedRequest, utc_now
from .update import Updater


def _commands(path: Path) -> list[tuple[str, bytes]]:
    if path.stat().st_size > MAX_REQUEST_BYTES:
        raise UpdateRequestInvalid(f"{path.name}: too large")
    try:
        stored = json.loads(path.read_text())
        commands = stored["commands"]
        return [(str(c["topic"]), base64.b64decode(c["payload"], validate=True)) for c in commands[:8]]
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise UpdateRequestInvalid(f"{path.name}: not a request signed by both authorities, as the agreement "
                                   "([onestop] update_authority = \"both\") needs") from None


class JointRequestRunner(RequestRunner):
    """`authorities`: (topic root, command keys) of each authority, in the order of the file name
    (exit, then entry)."""

    def __init__(self, updater: Updater, authorities: list[tuple[str, TrustStore]],
                 clock: Callable[[], datetime] = utc_now):
        super().__init__(updater, TrustStore(), "", clock)
        self._authorities = list(authorities)

    def verify(self, path: Path, applied: list[str]) -> VerifiedRequest:
        commands = _commands(path)
        if len(commands) != len(self._authorities):
            raise UpdateRequestInvalid(f"{path.name}: {len(commands)} signed command(s); the agreement needs "
                                       f"one from each of the {len(self._authorities)} authorities")
        now = self._clock()
        checked = [self._one_command(path.name, commands, root, trust, now, applied)
                   for root, trust in self._authorities]
        ids = tuple(command_id for command_id, _ in checked)
        if JOINT.join(ids) != path.stem:
            raise UpdateRequestInvalid(f"{path.name}: command ids do not match the request")
        params = _same_params(path.name, [p for _, p in checked])
        return VerifiedRequest(path.stem, params, path.parent.parent / f"{params.sha256}.deb", ids)

    @staticmethod
    def _one_command(name: str, commands: list[tuple[str, bytes]], root: str, trust: TrustStore, now: datetime,
                     applied: list[str]) -> tuple[str, UpdateParams]:
        """The command that came in under this authority's root, verified with its keys."""
        mine = [(topic, payload) for topic, payload in commands if topic.startswith(f"{root}/")]
        if len(mine) != 1:
            raise UpdateRequestInvalid(f"{name}: no single signed command under {root}: the agreement needs "
                                       "one from each authority")
        topic, payload = mine[0]
        return verify_command_bytes(name, topic, payload, trust=trust, device_root=root, now=now, applied=applied)


def _same_params(name: str, params: list[UpdateParams]) -> UpdateParams:
    if any(p != params[0] for p in params[1:]):
        raise UpdateRequestInvalid(f"{name}: the authorities' signed requests differ (url, sha256 or version)")
    return params[0]
