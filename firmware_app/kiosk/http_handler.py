"""HTTP requests of the kiosk page: the page itself, its texts, the event stream, traveller inputs.

Defence in depth on top of the loopback-only bind: the peer must be loopback, the Host header must
name this server (no DNS rebinding), POSTs must come from this page's origin as small JSON bodies,
and the event stream and the inputs need the kiosk browser's token (auth.py): anything else gets
401 before it can hold a stream or press a button. The page itself, its texts and /healthz are public.
"""
from __future__ import annotations

import ipaddress
import json
import logging
from http.server import BaseHTTPRequestHandler

from ..http_request import form_fields, read_body, status_phrase
from .auth import matches, presented, session_cookie
from .errors import RequestRejected
from .inputs import INPUT_PATHS, MAX_BODY_BYTES, parse_input

log = logging.getLogger(__name__)

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
                               "img-src 'self' data:; media-src 'self'; connect-src 'self'; base-uri 'none'; "
                               "form-action 'none'",
}


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def allowed_hosts(port: int) -> frozenset[str]:
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}"})


class KioskRequestHandler(BaseHTTPRequestHandler):
    server_version = "kiosk"
    sys_version = ""
    timeout = 10  # seconds a peer may stall reading or writing before its thread is freed

    @property
    def kiosk(self):
        return self.server.kiosk

    def do_GET(self) -> None:
        self._guarded(self._get)

    def do_POST(self) -> None:
        self._guarded(self._post)

    def _guarded(self, handle) -> None:
        try:
            self._check_peer()
            handle()
        except RequestRejected as exc:
            log.debug("kiosk request refused: %s %s", self.command, exc)
            self._send_json(exc.status, {"ok": False, "error": exc.reason})

    def _check_peer(self) -> None:
        if not is_loopback(self.client_address[0]):
            raise RequestRejected(403, "loopback only")
        if self.headers.get("Host", "") not in allowed_hosts(self.kiosk.port):
            raise RequestRejected(421, "unexpected Host")

    def _get(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/events":
            self._require_token()
            self._stream_events()
        elif path in self.kiosk.audio:
            self._send_file(self.kiosk.audio[path])
        elif path == "/healthz":
            self._send_json(200, {"ok": True, "clients": self.kiosk.channel.clients})
        else:
            asset = self.kiosk.assets.get(path)
            if asset is None:
                raise RequestRejected(404, "not found")
            self._send(200, asset.content_type, asset.body)

    def _require_token(self) -> None:
        if not matches(presented(self.headers), self.kiosk.token):
            raise RequestRejected(401, "kiosk token required")

    def _post(self) -> None:
        if self.path == "/session":
            self._open_session()
            return
        kind = INPUT_PATHS.get(self.path)
        if kind is None:
            raise RequestRejected(404, "not found")
        self._require_token()
        origin = self.headers.get("Origin")
        if origin is not None and origin.removeprefix("http://") not in allowed_hosts(self.kiosk.port):
            raise RequestRejected(403, "foreign origin")
        if self.headers.get_content_type() != "application/json":
            raise RequestRejected(415, "JSON only")
        traveller_input = parse_input(kind, self._read_body(), self.kiosk.offered)
        self.kiosk.receive(traveller_input)
        self._send_json(202, {"ok": True})

    def _open_session(self) -> None:
        """The kiosk browser's start page posts the token (a form, from a file:// page, so any
        Origin): a matching token gets the session cookie and a redirect to the page."""
        if self.headers.get_content_type() != "application/x-www-form-urlencoded":
            raise RequestRejected(415, "form only")
        form = form_fields(self._read_body(), 2, RequestRejected)
        tokens = form.get("token") or []
        if not matches(tokens[0] if tokens else None, self.kiosk.token):
            raise RequestRejected(403, "wrong kiosk token")
        self.send_response(303)
        self.send_header("Location", "/")
        self.send_header("Set-Cookie", session_cookie(self.kiosk.token))
        self.send_header("Content-Length", "0")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()

    def _read_body(self) -> bytes:
        return read_body(self.headers, self.rfile, MAX_BODY_BYTES, refuse=RequestRejected)

    def _stream_events(self) -> None:
        channel = self.kiosk.channel
        stream = channel.attach()
        try:
            self._start_stream()
            seen = 0
            while (update := channel.wait_newer(seen, self.kiosk.heartbeat_s, stream)) is not None:
                version, payload = update
                if payload is None:  # lets the page tell a live link from a dead one
                    self.wfile.write(b"event: ping\ndata: {}\n\n")
                else:
                    self.wfile.write(f"id: {version}\nevent: view\ndata: {payload}\n\n".encode())
                    seen = version
                self.wfile.flush()
        except OSError:
            log.debug("kiosk event stream closed by the page")
        finally:
            channel.detach(stream)

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(b"retry: 1000\n\n")
        self.close_connection = True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """The stdlib's own refusals (malformed request line, headers too long...), answered in JSON
        like ours and without echoing anything the peer sent."""
        self.close_connection = True
        self._send_json(code, {"ok": False, "error": status_phrase(code)})

    def _send_file(self, path) -> None:
        try:
            body = path.read_bytes()[:2 * 1024 * 1024]
        except OSError:
            raise RequestRejected(404, "not found") from None
        self._send(200, "audio/wav", body)

    def _send_json(self, status: int, data: dict) -> None:
        self._send(status, "application/json", json.dumps(data).encode("utf-8"))

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:
        log.debug("kiosk http: " + format, *args)
