"""A simulated officer at the officer console: signs in over HTTPS (checking the console's
certificate against the bench CA), waits for the lane's review of a transaction, looks at it like
a person would (the page and both images), and answers through the page's own form with its CSRF
token. Used by scenarios with an `officer` key; the console and lane are the real ones.
"""
from __future__ import annotations

import http.client
import re
import ssl
import time
from pathlib import Path
from urllib.parse import quote, urlencode

from firmware_app.officer.sessions import COOKIE

_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class OfficerAgentError(RuntimeError):
    """The console refused the simulated officer or never showed the expected review."""


class OfficerAgent:
    def __init__(self, host: str, port: int, ca_file: Path, name: str, password: str, timeout_s: float = 5.0):
        self.host, self.port, self.name, self.password, self.timeout_s = host, port, name, password, timeout_s
        self.context = ssl.create_default_context(cafile=str(ca_file))
        self.cookie: str | None = None

    def _request(self, method: str, path: str, fields: dict | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=self.timeout_s)
        headers = {"Cookie": f"{COOKIE}={self.cookie}"} if self.cookie else {}
        body = None
        if fields is not None:
            body = urlencode(fields).encode()
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": f"https://{self.host}:{self.port}"})
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        finally:
            connection.close()

    def sign_in(self) -> None:
        status, headers, _ = self._request("POST", "/login", {"name": self.name, "password": self.password})
        cookie = headers.get("set-cookie", "")
        if status != 303 or not cookie.startswith(f"{COOKIE}="):
            raise OfficerAgentError(f"sign-in refused ({status})")
        self.cookie = cookie.split(";", 1)[0].split("=", 1)[1]

    def answer(self, txn_id: str, verdict: str, wait_s: float = 3.0) -> None:
        """Wait until the console shows `txn_id`, look at its evidence, answer `verdict`."""
        if self.cookie is None:
            self.sign_in()
        page = self._await_review(txn_id, wait_s)
        for kind in ("portrait", "live"):
            self._request("GET", f"/image/{kind}/{quote(txn_id, safe='')}")     # an officer looks at both
        token = _CSRF.search(page)
        if token is None:
            raise OfficerAgentError("no CSRF token on the console page")
        status, _, _ = self._request("POST", "/decision", {"csrf": token.group(1), "txn_id": txn_id,
                                                          "verdict": verdict})
        if status != 303:
            raise OfficerAgentError(f"the console refused the answer {verdict} for {txn_id} ({status})")

    def _await_review(self, txn_id: str, wait_s: float) -> str:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            status, _, body = self._request("GET", "/")
            page = body.decode("utf-8", "replace")
            if status == 200 and f"transaction {txn_id}<" in page:
                return page
            if status != 200:
                raise OfficerAgentError(f"the console page answered {status}")
            time.sleep(0.05)
        raise OfficerAgentError(f"the console never showed transaction {txn_id}")
