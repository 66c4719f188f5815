"""The officer console: an HTTPS page on the post LAN for ASSISTED mode.

    desk = ReviewDesk(runner.submit, audit, officer_s, images=..., clock=utc_now)
    console = OfficerConsole(desk, OfficerStore(path), audit, cert, key, bind="10.0.0.5", port=8443)
    console.start()

An officer signs in with their own name and password (credentials.py: scrypt, lockout after
failed attempts), sees the pending traveller's evidence (review.py, page.py) and answers ACCEPT,
REFER or REJECT. Sessions are in memory with a fixed lifetime (sessions.py); every form carries
the session's CSRF token; logins, logouts and decisions go to the audit table (audit.py).

Bounded: TLS 1.2+, a connection limit, a per-connection timeout that covers the TLS handshake,
small form bodies, two password checks at a time (scrypt takes 16 MB each).
"""
from __future__ import annotations

import ipaddress
import logging
import ssl
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path

from firmware_app.lane.events import OfficerVerdict

from . import page
from .audit import AuditAction, OfficerAudit
from .credentials import CredentialError, LockedOut, OfficerStore
from .errors import OfficerConsoleError, Refused, StaleReview
from .review import ImageKind, ReviewDesk
from .sessions import Session, Sessions

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).resolve().parent / "static"
MAX_CONNECTIONS = 32
LOGIN_SLOTS = 2
LOGIN_WAIT_S = 5.0
SHUTDOWN_POLL_S = 0.1


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    console: OfficerConsole      # what the request handler serves (set by OfficerConsole.start)

    def __init__(self, address, handler, context: ssl.SSLContext, max_connections: int):
        self._slots = threading.BoundedSemaphore(max_connections)
        super().__init__(address, handler)
        # the handshake happens in the connection's own thread, under its timeout (handler.setup)
        self.socket = context.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):     # full: the newcomer is dropped, not queued
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except Exception:
            self._slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        log.debug("officer console connection error", exc_info=True)


def tls_context(cert_file: Path, key_file: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert_file), str(key_file))
    except (OSError, ssl.SSLError) as exc:
        raise OfficerConsoleError(f"officer console certificate/key unusable ({cert_file}, {key_file}): "
                                  f"{type(exc).__name__}") from None
    return context


class OfficerConsole:
    def __init__(self, desk: ReviewDesk, store: OfficerStore, audit: OfficerAudit, cert_file: Path, key_file: Path,
                 *, bind: str = "127.0.0.1", port: int = 8443, device_id: str = "gate", session_s: float = 8 * 3600,
                 monotonic: Callable[[], float] = time.monotonic, max_connections: int = MAX_CONNECTIONS):
        self.desk, self.store, self.audit, self.device_id = desk, store, audit, device_id
        self.sessions = Sessions(session_s, monotonic=monotonic)
        self._context = tls_context(cert_file, key_file)
        self._bind, self._requested_port, self._max_connections = _address(bind), port, max_connections
        self._login_slots = threading.BoundedSemaphore(LOGIN_SLOTS)
        self.static = {f"/static/{name}": (STATIC_DIR / name).read_bytes() for name in ("officer.css", "officer.js")}
        self._http: _TlsServer | None = None
        self._thread: threading.Thread | None = None

    # --- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        from .handler import OfficerRequestHandler
        try:
            self._http = _TlsServer((self._bind, self._requested_port), OfficerRequestHandler, self._context,
                                    self._max_connections)
        except OSError as exc:
            raise OfficerConsoleError(f"officer console cannot listen on {self._bind}:{self._requested_port}: "
                                      f"{exc.strerror}") from None
        self._http.console = self
        self._thread = threading.Thread(target=self._http.serve_forever, args=(SHUTDOWN_POLL_S,),
                                        name="officer-https", daemon=True)
        self._thread.start()
        log.info("officer console on %s", self.url)

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @property
    def port(self) -> int:
        if self._http is None:
            raise OfficerConsoleError("officer console is not started")
        return self._http.server_address[1]

    @property
    def url(self) -> str:
        host = f"[{self._bind}]" if ":" in self._bind else self._bind
        return f"https://{host}:{self.port}/"

    # --- what the pages do ------------------------------------------------------------------
    def login(self, name: str, password: str, peer: str) -> Session:
        """Raises Refused: 401 wrong name or password, 429 locked out, 503 busy."""
        if not self._login_slots.acquire(timeout=LOGIN_WAIT_S):
            raise Refused(503, "the console is busy, try again")
        try:
            ok = self.store.verify(name, password)
        except LockedOut as exc:
            self.audit.record(name, AuditAction.LOCKED_OUT, peer=peer)
            minutes = max(1, round(exc.retry_in_s / 60))
            raise Refused(429, f"Too many failed sign-ins: try again in {minutes} min.") from None
        except CredentialError as exc:
            log.error("officer credential file unusable: %s", type(exc).__name__)
            raise Refused(503, "Sign-in is unavailable: the credential file cannot be read.") from None
        finally:
            self._login_slots.release()
        if not ok:
            self.audit.record(name, AuditAction.LOGIN_FAILED, peer=peer)
            raise Refused(401, "Wrong officer id or password.")
        self.audit.record(name, AuditAction.LOGIN, peer=peer)
        return self.sessions.open(name)

    def logout(self, session: Session, peer: str) -> None:
        self.sessions.close(session.sid)
        self.audit.record(session.officer, AuditAction.LOGOUT, peer=peer)

    def decide(self, session: Session, txn_id: str, verdict: str, peer: str) -> None:
        try:
            chosen = OfficerVerdict(verdict)
        except ValueError:
            raise Refused(400, "unknown decision") from None
        try:
            self.desk.decide(txn_id, chosen, session.officer, peer)
        except StaleReview:
            session.notice = f"Transaction {txn_id} was no longer waiting: your answer was not used."
            raise Refused(409, session.notice) from None
        session.notice = f"You answered {chosen.value.upper()} for transaction {txn_id}."

    def state(self) -> dict:
        review = self.desk.pending()
        return {"version": self.desk.version, "txn_id": review.txn_id if review else None,
                "seconds_left": round(self.desk.seconds_left(review), 1) if review else None}

    def page(self, session: Session) -> str:
        review = self.desk.pending()
        notice, session.notice = session.notice, ""
        left = self.desk.seconds_left(review) if review is not None else 0.0
        return page.console_page(self.device_id, session, review, left, self.desk.version, notice)

    def image(self, kind: str, txn_id: str) -> bytes:
        try:
            data = self.desk.image(txn_id, ImageKind(kind))
        except ValueError:
            data = None
        if data is None:
            raise Refused(404, "no such image")
        return data


def _address(bind: str) -> str:
    try:
        return str(ipaddress.ip_address(bind))
    except ValueError:
        raise OfficerConsoleError(f"officer console bind address {bind!r} is not an IP address") from None
