"""The signed BMIS command `update-apply` {"url", "sha256", "version"?}, in two halves.

gate-app (unprivileged, no dpkg): after the command processor verified the signature and window,
`UpdateRequests.start` downloads the package on its own thread (bounded in size and time; the
MQTT link and the lane never wait), checks its sha256, and leaves the signed command itself in
`<data_dir>/updates/requests/<command_id>.json`. The command is answered at once ("downloading");
a failed download raises an alarm.

root (`gatectl update run-requests`, started by border-gate-update.path when a request appears):
trusts nothing gate-app wrote. It verifies the stored command's signature against the trust store
(root-owned /etc/border-gate/bmis-keys), that it names this device, has not expired and was not
run before, that the file has the signed sha256, and then runs the same `Updater.apply` as
`gatectl update apply` (rollback, alarms). A compromised gate-app can therefore not install
anything the BMIS did not sign.

On a one-stop post whose agreement ([onestop] update_authority = "both") needs the same request
from both authorities, gate-app fetches only once both have arrived (appliance/onestop_updates.py)
and leaves both signed commands in one request, `<exit id>+<entry id>.json`; root verifies each
with its own authority's keys and topic root (joint_requests.py).
"""
from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import re
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from .errors import DeployError

log = logging.getLogger(__name__)
COMMAND = "update-apply"
MAX_URL = 2048
DOWNLOAD_DEADLINE_S = 1800.0
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_COMMAND_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
JOINT = "+"         # joins the command ids of one request signed by several BMIS (never in an id)
AlarmSink = Callable[[str, str], None]


class UpdateRequestInvalid(DeployError, ValueError):
    """The update command's parameters or stored request are unusable (the reason says which).
    A ValueError too: the command processor answers it as invalid parameters."""


@dataclass(frozen=True)
class UpdateParams:
    url: str
    sha256: str
    version: str | None = None


def parse_update_params(params: object) -> UpdateParams:
    if not isinstance(params, dict):
        raise UpdateRequestInvalid("params must be an object")
    url, sha256, version = params.get("url"), params.get("sha256"), params.get("version")
    if not isinstance(url, str) or len(url) > MAX_URL or urlsplit(url).scheme not in ("http", "https") \
            or not urlsplit(url).netloc:
        raise UpdateRequestInvalid(f"url must be an http(s) URL of at most {MAX_URL} characters")
    if not isinstance(sha256, str) or not _SHA256.match(sha256):
        raise UpdateRequestInvalid("sha256 must be 64 lower-case hex digits")
    if version is not None and (not isinstance(version, str) or not 0 < len(version) <= 64):
        raise UpdateRequestInvalid("version must be a string of 1..64 characters")
    return UpdateParams(url, sha256, version)


def spool(data_dir: Path) -> Path:
    return Path(data_dir) / "updates"


def download(url: str, target: Path, sha256: str, max_bytes: int, *, deadline_s: float = DOWNLOAD_DEADLINE_S,
             opener=urllib.request.urlopen, monotonic=time.monotonic) -> Path:
    """Fetch to `target` (written aside, renamed only with the right hash); DeployError otherwise."""
    partial = target.with_name(target.name + ".partial")
    digest, size, end = hashlib.sha256(), 0, monotonic() + deadline_s
    try:
        with opener(url, timeout=60) as answer, open(partial, "wb") as out:
            while block := answer.read(1 << 16):
                size += len(block)
                if size > max_bytes or monotonic() > end:
                    raise DeployError(f"download over {max_bytes} bytes or {deadline_s:.0f} s")
                digest.update(block)
                out.write(block)
    except (OSError, ValueError) as exc:
        partial.unlink(missing_ok=True)
        raise DeployError(f"download failed: {exc}") from None
    except DeployError:
        partial.unlink(missing_ok=True)
        raise
    if digest.hexdigest() != sha256:
        partial.unlink(missing_ok=True)
        raise DeployError(f"downloaded file has sha256 {digest.hexdigest()}, not the signed {sha256}")
    os.replace(partial, target)
    return target


class UpdateRequests:
    """gate-app's half: one download at a time, then the request left for the root half."""

    def __init__(self, data_dir: Path, max_bytes: int, on_alarm: AlarmSink | None = None,
                 opener=urllib.request.urlopen):
        self.directory, self._max_bytes, self._on_alarm, self._opener = spool(data_dir), max_bytes, on_alarm, opener
        self._busy = threading.Lock()
        self.last_thread: threading.Thread | None = None

    def report(self, kind: str, detail: str) -> None:
        """An alarm about update requests, where the download's failures go (both authorities' outboxes)."""
        if self._on_alarm:
            self._on_alarm(kind, detail[:400])

    def start(self, topic: str, body: dict, command_id: str, params: object) -> dict:
        """`body`: the verified command as parsed (its signature member included); root verifies
        it again over the same canonical JSON, so re-encoding it here loses nothing."""
        return self.start_joint([(topic, body, command_id)], params)

    def start_joint(self, commands: list[tuple[str, dict, str]], params: object) -> dict:
        """One download for the same request signed by several BMIS (a one-stop post whose agreement
        needs both authorities): `commands` are each one's verified (topic, body, command_id), all
        left in one request named by their ids joined by JOINT, for root to verify each again."""
        wanted = parse_update_params(params)
        if not commands or not all(_COMMAND_ID.match(command_id) for _, _, command_id in commands):
            raise UpdateRequestInvalid("command_id is not usable as a file name")
        if not self._busy.acquire(blocking=False):
            raise UpdateRequestInvalid("another update is being downloaded")
        stored = [{"topic": topic, "payload": base64.b64encode(json.dumps(body, ensure_ascii=False).encode()).decode()}
                  for topic, body, _ in commands]
        name = JOINT.join(command_id for _, _, command_id in commands)
        self.last_thread = threading.Thread(target=self._fetch, args=(stored, name, wanted),
                                            name="update-download", daemon=True)
        self.last_thread.start()
        return {"state": "downloading", "sha256": wanted.sha256, "version": wanted.version}

    def _fetch(self, stored: list[dict], name: str, wanted: UpdateParams) -> None:
        try:
            (self.directory / "requests").mkdir(mode=0o750, parents=True, exist_ok=True)
            file = download(wanted.url, self.directory / f"{wanted.sha256}.deb", wanted.sha256, self._max_bytes,
                            opener=self._opener)
            # one command: the format root has always read; several: all of them, in one file
            request = {**stored[0], "file": file.name} if len(stored) == 1 else {"commands": stored, "file": file.name}
            target = self.directory / "requests" / f"{name}.json"
            partial = target.with_suffix(".partial")
            partial.write_text(json.dumps(request))
            os.replace(partial, target)
            log.info("update %s downloaded; handed to the updater", wanted.version or wanted.sha256[:12])
        except (DeployError, OSError) as exc:
            log.error("update download failed: %s", exc)
            if self._on_alarm:
                self._on_alarm("update_download_failed", str(exc)[:400])
        finally:
            self._busy.release()


@dataclass(frozen=True)
class VerifiedRequest:
    command_id: str
    params: UpdateParams
    file: Path
    joint_ids: tuple[str, ...] = ()     # a request signed by several BMIS: each one's command id

    @property
    def command_ids(self) -> tuple[str, ...]:
        return self.joint_ids or (self.command_id,)


def utc_now() -> datetime:
    return datetime.now(UTC)
