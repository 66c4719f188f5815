"""Who may watch the traveller's screen and press its buttons: only the kiosk browser.

Any local process can reach 127.0.0.1, so the loopback bind is not enough: the event stream and
the inputs ("Call an officer", "More time", a language) need a per-boot token. gate-app keeps it
in `kiosk.token_file` (on /run, so a reboot renews it and a gate-app restart keeps it), readable
only by its own user and the kiosk user's group. The kiosk browser unit reads it and writes a
start page into its private runtime directory; that page posts the token once to /session, which
answers with an HttpOnly cookie, so the token never appears on a command line or in page script.
Programs (tests, the bench) may send it as `Authorization: Bearer <token>` instead.
"""
from __future__ import annotations

import hmac
import html
import os
import re
import secrets
import stat
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from pathlib import Path

from .errors import KioskConfigError

COOKIE = "kiosk_session"
TOKEN_BYTES = 32
_TOKEN = re.compile(r"^[0-9a-f]{64}$")


def new_token(random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    return random_bytes(TOKEN_BYTES).hex()


def valid_token(text: str) -> bool:
    return bool(_TOKEN.match(text))


def load_or_create_token(path: Path, group: str | None = None,
                         random_bytes: Callable[[int], bytes] = secrets.token_bytes) -> str:
    """The token in `path` when it is ours and private; otherwise a new one written there."""
    path = Path(path)
    existing = _read_own_token(path)
    if existing is not None:
        return existing
    token = new_token(random_bytes)
    _write_token(path, token, group)
    return token


def _read_own_token(path: Path) -> str | None:
    try:
        info = os.stat(path)
        text = path.read_text(encoding="ascii").strip() if info.st_size <= 256 else ""
    except (OSError, UnicodeDecodeError):
        return None
    private = info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IRWXO | stat.S_IWGRP)
    return text if private and valid_token(text) else None


def _write_token(path: Path, token: str, group: str | None) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(token + "\n")
        if group is not None:
            os.chown(temp, -1, _gid(group))
            os.chmod(temp, 0o640)
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise KioskConfigError(f"cannot write the kiosk token file {path}: {exc.strerror}") from None


def _gid(group: str) -> int:
    import grp
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise KioskConfigError(f"kiosk.token_group {group!r} does not exist") from None


def read_token_file(path: Path) -> str:
    """The token for the kiosk browser's start page (run as the kiosk user)."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise KioskConfigError(f"cannot read the kiosk token file {path}: {exc}") from None
    if not valid_token(text):
        raise KioskConfigError(f"{path} does not hold a kiosk token")
    return text


def presented(headers) -> str | None:
    """The token a request carries, by cookie or bearer header (None when it carries none)."""
    auth = headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:].strip()
    try:
        morsel = SimpleCookie(headers.get("Cookie", "")).get(COOKIE)
    except CookieError:
        return None
    return morsel.value if morsel is not None else None


def matches(candidate: str | None, token: str) -> bool:
    return candidate is not None and hmac.compare_digest(candidate.encode(), token.encode())


def session_cookie(token: str) -> str:
    return f"{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict"


def launch_page(kiosk_url: str, token: str) -> str:
    """The kiosk browser's start page: posts the token to /session, which sets the cookie and sends
    the browser on to the traveller page."""
    action = html.escape(kiosk_url.rstrip("/") + "/session", quote=True)
    return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>kiosk</title></head><body>"
            f"<form method=\"post\" action=\"{action}\"><input type=\"hidden\" name=\"token\" "
            f"value=\"{html.escape(token, quote=True)}\"></form>"
            "<script>document.forms[0].submit()</script></body></html>\n")


def write_launch_page(out: Path, kiosk_url: str, token: str) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(launch_page(kiosk_url, token))
