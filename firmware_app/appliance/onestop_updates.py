"""Software updates on a one-stop post (issue 17): gate-app's half of `update-apply`, as the
bilateral agreement says.

Both authorities run the one installation, so which of them may change it is the agreement's
([onestop] update_authority):
  * unset: every update-apply is refused (nack `lane_refused`, the detail names the missing key);
  * "exit" or "entry": that authority's signed command (checked against its own command keys by its
    own command processor) is fetched as on a single-authority lane; the other's is refused with a
    detail that says whose the updates are;
  * "both": the same request (url, sha256, version) must arrive signed from each authority's own
    BMIS. The first is answered `awaiting_other_authority` and kept in memory until its own
    expires_at (a restart forgets it: the BMIS sends it again); when the other's arrives, the
    package is fetched once and both signed commands are left in one request for root, which
    verifies each with its own authority's keys (deploy/joint_requests.py).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from firmware_app.bmis.commands.model import CommandRefused, ResultReason, parse_utc
from firmware_app.config.onestop import UpdateAuthority
from firmware_app.deploy.requests import UpdateParams, UpdateRequests, parse_update_params
from firmware_app.onestop.errors import CommandNotPermitted
from firmware_app.policy.onestop import Role

log = logging.getLogger("gate.app.onestop")


@dataclass(frozen=True)
class _Half:
    """One authority's verified command, waiting for the other's."""
    topic: str
    body: dict
    command_id: str
    params: UpdateParams
    expires_at: datetime


class AgreedUpdates:
    """The agreement's rule over the device's one UpdateRequests; `port(role)` is what that
    authority's command processor calls (processor.UpdatePort)."""

    def __init__(self, agreed: UpdateAuthority | None, requests: UpdateRequests | None,
                 clock: Callable[[], datetime]):
        self._agreed, self._requests, self._clock = agreed, requests, clock
        self._waiting: dict[Role, _Half] = {}
        self._lock = threading.Lock()

    def port(self, role: Role) -> AuthorityUpdates:
        return AuthorityUpdates(self, role)

    def start(self, role: Role, topic: str, body: dict, command_id: str, params: object) -> dict:
        if self._agreed is None:
            raise CommandNotPermitted("the one-stop agreement does not say which authority may update the software "
                                      "both run ([onestop] update_authority is not set): update-apply is refused")
        if self._requests is None:
            raise CommandRefused(ResultReason.STORE_FAILED, "no updater on this device")
        if self._agreed is UpdateAuthority.BOTH:
            return self._joint(role, topic, body, command_id, params)
        if self._agreed.value != role.value:
            raise CommandNotPermitted(f"software updates on this post are the {self._agreed.value} authority's "
                                      f'([onestop] update_authority = "{self._agreed.value}"): the {role.value} '
                                      "authority's update-apply is refused")
        return self._requests.start(topic, body, command_id, params)

    def _joint(self, role: Role, topic: str, body: dict, command_id: str, params: object) -> dict:
        assert self._requests is not None
        wanted = parse_update_params(params)        # ValueError: answered as invalid parameters
        mine = _Half(topic, body, command_id, wanted, parse_utc(body.get("expires_at"), "expires_at"))
        other = Role.ENTRY if role is Role.EXIT else Role.EXIT
        with self._lock:
            theirs = self._waiting.get(other)
            if theirs is None or theirs.params != wanted or theirs.expires_at <= self._clock():
                self._waiting[role] = mine      # the latest of each authority waits
                log.info("update-apply of the %s authority waits for the %s authority's", role.value, other.value)
                return {"state": "awaiting_other_authority", "awaiting": other.value, "sha256": wanted.sha256,
                        "version": wanted.version}
            halves = {role: mine, other: theirs}
            commands = [(h.topic, h.body, h.command_id) for h in (halves[Role.EXIT], halves[Role.ENTRY])]
            answer = self._requests.start_joint(commands, params)     # ValueError (busy): theirs still waits
            self._waiting.pop(other, None)
        log.info("update-apply agreed by both authorities: fetching")
        return answer


class AuthorityUpdates:
    """One authority's UpdatePort (bmis/commands/processor.py)."""

    def __init__(self, agreed: AgreedUpdates, role: Role):
        self._agreed, self._role = agreed, role

    def start(self, topic: str, body: dict, command_id: str, params: dict) -> dict:
        return self._agreed.start(self._role, topic, body, command_id, params)
