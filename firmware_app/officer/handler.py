"""HTTP requests of the officer console (server.py holds what they do).

Every page but /login, /static and /healthz needs a live session; every POST must be a small form
from this console's own origin, and every POST but /login must carry the session's CSRF token.
Responses are never cached (the images least of all), framed, sniffed or referred elsewhere.
Nothing the peer sent is echoed into logs above DEBUG.
"""
from __future__ import annotations

import json
import logging
import ssl
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from urllib.parse import unquote

from ..http_request import form_fields, read_body, status_phrase
from . import page
from .errors import OfficerError, Refused
from .sessions import expired_cookie, session_id

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 4096

SECURITY_HEADERS = {
    "Cache-Control": "no-store, max-age=0",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",      # never to other sites; "no-referrer" would make form Origins null
    "Strict-Transport-Security": "max-age=31536000",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
}
_HTML = "text/html; charset=utf-8"


class OfficerRequestHandler(BaseHTTPRequestHandler):
    server_version = "officer-console"
    sys_version = ""
    timeout = 10        # seconds a peer may stall (the TLS handshake included)

    @property
    def console(self):
        return self.server.console

    @property
    def peer(self) -> str:
        return str(self.client_address[0])

    def setup(self) -> None:
        self.request.settimeout(self.timeout)
        try:
            self.request.do_handshake()
        except (ssl.SSLError, OSError):
            self.request.close()
            raise
        super().setup()

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _guarded(self, handle) -> None:
        try:
            handle()
        except Refused as exc:
            log.debug("officer console refused %s: %s", self.command, exc.status)
            self._refused(exc)
        except OfficerError as exc:      # e.g. the audit cannot be written: nothing was decided
            log.error("officer console: %s", type(exc).__name__)
            self._refused(Refused(503, "The console cannot record this now; the lane will refer the traveller."))

    def _refused(self, exc: Refused) -> None:
        if self.path.split("?", 1)[0] in ("/state",) or self.path.startswith("/image/"):
            self._send(exc.status, "application/json", json.dumps({"ok": False, "error": exc.reason}).encode())
        elif exc.status in (401, 429) and self.path.startswith("/login"):
            self._send(exc.status, _HTML, page.login_page(self.console.device_id, exc.reason).encode())
        else:
            self._send(exc.status, _HTML, page.message_page(self.console.device_id, HTTPStatus(exc.status).phrase,
                                                             exc.reason).encode())

    # --- GET --------------------------------------------------------------------------------
    def _get(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in self.console.static:
            kind = "text/css" if path.endswith(".css") else "text/javascript"
            self._send(200, f"{kind}; charset=utf-8", self.console.static[path])
        elif path == "/healthz":
            self._send(200, "application/json", b'{"ok": true}')
        elif path == "/login":
            self._send(200, _HTML, page.login_page(self.console.device_id).encode())
        elif self._session() is None:
            if path != "/":
                raise Refused(401, "sign in first")
            self._redirect("/login")
        else:
            self._get_signed_in(path)

    def _get_signed_in(self, path: str) -> None:
        session = self._session()
        if path == "/":
            self._send(200, _HTML, self.console.page(session).encode())
        elif path == "/state":
            self._send(200, "application/json", json.dumps(self.console.state()).encode())
        elif path.startswith("/image/") and path.count("/") == 3:
            _, _, kind, txn = path.split("/")
            self._send(200, "image/jpeg", self.console.image(kind, unquote(txn)[:64]))
        else:
            raise Refused(404, "not found")

    def _session(self):
        return self.console.sessions.get(session_id(self.headers.get("Cookie")))

    # --- POST -------------------------------------------------------------------------------
    def _post(self) -> None:
        form = self._form()
        if self.path == "/login":
            session = self.console.login(_one(form, "name")[:32], _one(form, "password")[:256], self.peer)
            self._redirect("/", self.console.sessions.cookie(session))
            return
        session = self._session()
        if session is None:
            raise Refused(401, "Your session has ended: sign in again.")
        if not session.csrf_ok(_one(form, "csrf") or None):
            raise Refused(403, "This form is out of date: reload the console.")
        if self.path == "/logout":
            self.console.logout(session, self.peer)
            self._redirect("/login", expired_cookie())
        elif self.path == "/decision":
            self.console.decide(session, _one(form, "txn_id")[:64], _one(form, "verdict")[:16], self.peer)
            self._redirect("/")
        else:
            raise Refused(404, "not found")

    def _form(self) -> dict[str, list[str]]:
        if self.path not in ("/login", "/logout", "/decision"):
            raise Refused(404, "not found")
        self._check_origin()
        if self.headers.get_content_type() != "application/x-www-form-urlencoded":
            raise Refused(415, "form posts only")
        body = read_body(self.headers, self.rfile, MAX_BODY_BYTES, what="form", refuse=Refused)
        return form_fields(body, 8, Refused)

    def _check_origin(self) -> None:
        """A POST from another site's page is refused even before its cookie would be looked at."""
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"https://{self.headers.get('Host', '')}":
            raise Refused(403, "foreign origin")
        if self.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
            raise Refused(403, "cross-site request")

    # --- responses --------------------------------------------------------------------------
    def _redirect(self, where: str, cookie: str | None = None) -> None:
        self.send_response(303)
        self.send_header("Location", where)
        if cookie is not None:
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", "0")
        self._security_headers()
        self.end_headers()

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self._security_headers()
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _security_headers(self) -> None:
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own refusals, without echoing what the peer sent."""
        self.close_connection = True
        self._send(code, "text/plain; charset=utf-8", status_phrase(code).encode())

    def log_message(self, format: str, *args) -> None:
        log.debug("officer http: " + format, *args)


def _one(form: dict[str, list[str]], name: str) -> str:
    values = form.get(name) or [""]
    return values[0]
