"""The officer console for tests: a loopback TLS certificate, an officer in a real credential file,
a real SQLite audit, and an HTTPS client that keeps the session cookie and reads the CSRF token.

Shared by the console's unit tests, the browser test and the assisted-mode end-to-end test.
"""
from __future__ import annotations

import datetime as dt
import http.client
import re
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

from firmware_app.officer import OfficerAudit, OfficerStore, ReviewDesk
from firmware_app.officer.server import OfficerConsole
from firmware_app.officer.sessions import COOKIE
from simulator.bmis_pki import make_test_pki

OFFICER, PASSWORD = "officer-7", "correct horse battery"
UTC = dt.UTC


class Ticker:
    """A monotonic clock the test moves by hand."""

    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def wall_clock() -> dt.datetime:
    return dt.datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def tls_files(directory: Path):
    """(CA file, server KeyPair) for 127.0.0.1 / localhost."""
    pki = make_test_pki(directory / "pki", [])
    return pki.ca, pki.server


def credential_file(directory: Path, *names: str) -> Path:
    path = directory / "officers"
    store = OfficerStore(path)
    for name in names or (OFFICER,):
        store.add(name, PASSWORD)
    return path


@dataclass
class ConsoleBench:
    console: OfficerConsole
    desk: ReviewDesk
    audit: OfficerAudit
    store: OfficerStore
    ca: Path
    submitted: list = field(default_factory=list)

    def client(self) -> ConsoleClient:
        return ConsoleClient(self.console.port, self.ca)

    def close(self) -> None:
        self.console.stop()
        self.audit.close()


def console_bench(directory: Path, *, ticker: Ticker | None = None, officer_s: float = 60.0,
                  images=lambda txn_id, kind: None, submit=None, session_s: float = 3600.0,
                  max_failures: int = 3, lockout_s: float = 300.0) -> ConsoleBench:
    ticker = ticker or Ticker()
    ca, server = tls_files(directory)
    store = OfficerStore(credential_file(directory), monotonic=ticker, max_failures=max_failures, lockout_s=lockout_s)
    audit = OfficerAudit.open(directory / "officer-audit.db", wall_clock)
    submitted: list = []
    desk = ReviewDesk(submit or submitted.append, audit, officer_s, images=images, clock=wall_clock, monotonic=ticker)
    console = OfficerConsole(desk, store, audit, server.cert, server.key, bind="127.0.0.1", port=0,
                             device_id="lane-3", session_s=session_s, monotonic=ticker)
    console.start()
    return ConsoleBench(console, desk, audit, store, ca, submitted)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


class ConsoleClient:
    """HTTPS to the console, verifying its certificate against the test CA, keeping our cookie."""

    def __init__(self, port: int, ca: Path):
        self.port = port
        self.context = ssl.create_default_context(cafile=str(ca))
        self.cookie: str | None = None

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> Answer:
        connection = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=10)
        sent = dict(headers or {})
        if self.cookie:
            sent.setdefault("Cookie", f"{COOKIE}={self.cookie}")
        connection.request(method, path, body=body, headers=sent)
        response = connection.getresponse()
        answer = Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        connection.close()
        self._keep_cookie(answer.headers.get("set-cookie"))
        return answer

    def _keep_cookie(self, header: str | None) -> None:
        if header and header.startswith(f"{COOKIE}="):
            self.cookie = header.split(";", 1)[0].split("=", 1)[1] or None

    def get(self, path: str) -> Answer:
        return self.request("GET", path)

    def post(self, path: str, fields: dict, origin: str | None = "same") -> Answer:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        if origin is not None:
            headers["Origin"] = f"https://127.0.0.1:{self.port}" if origin == "same" else origin
        return self.request("POST", path, urlencode(fields).encode(), headers)

    def login(self, name: str = OFFICER, password: str = PASSWORD) -> Answer:
        return self.post("/login", {"name": name, "password": password})

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.get("/").text)
        assert found, "no CSRF token on the console page"
        return found.group(1)

    def decide(self, txn_id: str, verdict: str, csrf: str | None = None) -> Answer:
        return self.post("/decision", {"csrf": csrf if csrf is not None else self.csrf(), "txn_id": txn_id,
                                       "verdict": verdict})
