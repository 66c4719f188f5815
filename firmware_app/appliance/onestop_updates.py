"""Software updates on a one-stop post (issue 17): gate-app's half of `update-apply`, as the
bilateral agreement says.

Both authorities run the one installation, so which of them may change it is the agreement's
([onestop] update_authority):
  * unset: every update-apply is refused (nack `lane_refused`, the detail names the missing key);
  * "exit" or "entry": that authority's signed command (checked against its own command keys by its
    own command processor) is fetched as on a single-authority lane; the other's is refused with a
    detail that says whose the updates are;
  * "both": the same request (url, sha256, version) must arrive signed from each authority's own
    BMIS. The first is answered `awaiting_other_authority` and kept on disk (deploy/pending_halves.py)
    so that a restart of gate-app does not forget it: `restore()` (at start) reads it back and
    verifies it again with its authority's keys. A later one from the same authority takes its place
    (never pairs with it); one from the other authority that differs waits beside it (neither pairs;
    its answer says `other_differs`). A half waits until its own expires_at, at most
    pending_halves.MAX_WAIT; then it is dropped with a warning and the `update_half_expired` alarm.
    When the other's matching one arrives, the package is fetched once and both signed commands are
    left in one request for root, which verifies each with its own authority's keys
    (deploy/joint_requests.py).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from firmware_app.bmis.command_wiring import load_trust_store
from firmware_app.bmis.commands.model import CommandRefused, ResultReason
from firmware_app.bmis.contract import device_root
from firmware_app.config.onestop import UpdateAuthority
from firmware_app.deploy.errors import DeployError
from firmware_app.deploy.pending_halves import PendingHalf, PendingHalves, half_of
from firmware_app.deploy.requests import UpdateRequests, parse_update_params
from firmware_app.onestop.errors import CommandNotPermitted
from firmware_app.policy.onestop import Role

log = logging.getLogger("gate.app.onestop")
PENDING_DIR = "pending"       # under the device's updates spool; root's update service watches requests/


def pending_halves(config, requests: UpdateRequests | None, clock: Callable[[], datetime]) -> PendingHalves | None:
    """Where a "both" agreement keeps its halves, with each authority's root and command keys (loaded
    as its command processor loads them: TrustStoreError for a bad key file)."""
    if requests is None or config.onestop.update_authority is not UpdateAuthority.BOTH:
        return None
    authorities = {a.role.value: (device_root(a.bmis.prefix, config.device.id),
                                  load_trust_store(Path(a.bmis.command_keys_dir))) for a in config.authority}
    return PendingHalves(requests.directory / PENDING_DIR, authorities, clock)


class AgreedUpdates:
    """The agreement's rule over the device's one UpdateRequests; `port(role)` is what that
    authority's command processor calls (processor.UpdatePort). `pending`: where "both" keeps its
    halves (None: in memory only, as a test of the rule alone may want). `timer`: threading.Timer,
    or a test's (the expiry is checked on the injected clock when it fires)."""

    def __init__(self, agreed: UpdateAuthority | None, requests: UpdateRequests | None,
                 clock: Callable[[], datetime], pending: PendingHalves | None = None,
                 timer: Callable[[float, Callable[[], object]], threading.Timer] = threading.Timer):
        self._agreed, self._requests, self._clock, self._pending = agreed, requests, clock, pending
        self._new_timer = timer
        self._waiting: dict[Role, PendingHalf] = {}
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def port(self, role: Role) -> AuthorityUpdates:
        return AuthorityUpdates(self, role)

    def start(self, role: Role, topic: str, body: dict, command_id: str, params: object) -> dict:
        if self._agreed is None:
            raise CommandNotPermitted("the one-stop agreement does not say which authority may update the software "
                                      "both run ([onestop] update_authority is not set): update-apply is refused")
        if self._requests is None:
            raise CommandRefused(ResultReason.STORE_FAILED, "no updater on this device")
        if self._agreed is UpdateAuthority.BOTH:
            self.expire()
            return self._joint(role, half_of(role.value, topic, body, command_id, parse_update_params(params),
                                             self._clock()), params)
        if self._agreed.value != role.value:
            raise CommandNotPermitted(f"software updates on this post are the {self._agreed.value} authority's "
                                      f'([onestop] update_authority = "{self._agreed.value}"): the {role.value} '
                                      "authority's update-apply is refused")
        return self._requests.start(topic, body, command_id, params)

    # --- "both": the halves ---------------------------------------------------------------------
    def _joint(self, role: Role, mine: PendingHalf, params: object) -> dict:
        assert self._requests is not None
        other = Role.ENTRY if role is Role.EXIT else Role.EXIT
        with self._lock:
            theirs = self._waiting.get(other)
            if theirs is None or theirs.params != mine.params:
                return self._wait(role, other, mine, differs=theirs is not None)
            halves = {role: mine, other: theirs}
            commands = [(h.topic, h.body, h.command_id) for h in (halves[Role.EXIT], halves[Role.ENTRY])]
            answer = self._requests.start_joint(commands, params)     # ValueError (busy): theirs still waits
            self._forget(other)
            self._forget(role)          # an older one of mine, superseded by this one
            self._schedule()
        log.info("update-apply agreed by both authorities: fetching")
        return answer

    def _wait(self, role: Role, other: Role, mine: PendingHalf, differs: bool) -> dict:
        """Called with the lock held. The latest of each authority waits, on disk first."""
        if self._pending is not None:
            try:
                self._pending.save(mine)
            except DeployError as exc:      # not kept: refused, rather than held in memory only
                if isinstance(exc, ValueError):
                    raise                   # answered as invalid parameters
                raise CommandRefused(ResultReason.STORE_FAILED, str(exc)) from None
        self._waiting[role] = mine
        self._schedule()
        if differs:
            log.warning("update-apply of the %s authority differs from the %s authority's waiting one "
                        "(url, sha256 or version): neither is fetched", role.value, other.value)
        else:
            log.info("update-apply of the %s authority waits for the %s authority's", role.value, other.value)
        answer = {"state": "awaiting_other_authority", "awaiting": other.value, "sha256": mine.params.sha256,
                  "version": mine.params.version}
        return answer | ({"other_differs": True} if differs else {})

    def _forget(self, role: Role) -> None:
        self._waiting.pop(role, None)
        if self._pending is not None:
            self._pending.drop(role.value)

    # --- restart and expiry ---------------------------------------------------------------------
    def restore(self) -> None:
        """At gate-app start: the halves kept on disk, each verified again; what does not verify is
        removed with a warning and the `update_half_discarded` alarm (nothing is installed here)."""
        if self._pending is None:
            return
        halves, problems = self._pending.load()
        with self._lock:
            for role_value, half in halves.items():
                self._waiting.setdefault(Role(role_value), half)    # one that came in meanwhile is newer
        for problem in problems:
            log.warning("pending update-apply discarded: %s", problem)
            self._report("update_half_discarded", problem)
        if halves:
            log.info("update-apply of the %s authority still waits (kept across the restart)",
                     " and ".join(sorted(halves)))
        self.expire()

    def expire(self) -> list[PendingHalf]:
        """Drop the halves whose time is over, each with a warning and the `update_half_expired` alarm."""
        now = self._clock()
        with self._lock:
            over = [half for half in self._waiting.values() if half.due <= now]
            for half in over:
                self._forget(Role(half.role))
            self._schedule()
        for half in over:
            detail = (f"the {half.role} authority's update-apply {half.command_id} "
                      f"({half.params.version or half.params.sha256[:12]}) was not matched by the other "
                      f"authority's before {half.due.strftime('%Y-%m-%dT%H:%M:%SZ')}: dropped")
            log.warning("%s", detail)
            self._report("update_half_expired", detail)
        return over

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _schedule(self) -> None:
        """Called with the lock held: one timer, at the earliest due half (a clock that moved is
        checked again when it fires)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if not self._waiting or self._pending is None:
            return
        due = min(half.due for half in self._waiting.values())
        delay = max(0.0, (due - self._clock()).total_seconds()) + 1.0
        self._timer = self._new_timer(delay, self.expire)
        self._timer.daemon = True
        self._timer.start()

    def _report(self, kind: str, detail: str) -> None:
        if self._requests is not None:
            self._requests.report(kind, detail)


class AuthorityUpdates:
    """One authority's UpdatePort (bmis/commands/processor.py)."""

    def __init__(self, agreed: AgreedUpdates, role: Role):
        self._agreed, self._role = agreed, role

    def start(self, topic: str, body: dict, command_id: str, params: dict) -> dict:
        return self._agreed.start(self._role, topic, body, command_id, params)
