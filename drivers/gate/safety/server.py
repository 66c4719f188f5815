"""Non-blocking Unix-socket plumbing for the controller: a listener and its clients.

Nothing here may block the scan loop: sockets are non-blocking, each client's input is cut into
bounded lines, and a client whose unsent answers pile up past MAX_PENDING (it stopped reading,
e.g. a SIGSTOPped appliance) is dropped. The socket file is made 0660: the appliance's group only.
"""
from __future__ import annotations

import logging
import os
import selectors
import socket
import time
from pathlib import Path

from . import protocol as proto

log = logging.getLogger("gate.safety.server")
MAX_CLIENTS = 8


class Client:
    def __init__(self, sock: socket.socket, handler):
        self.sock, self.handler = sock, handler      # handler(client, message); may raise ProtocolError
        self.buffer = proto.LineBuffer()
        self.pending = bytearray()
        self.role: str | None = None
        self.listener: Listener | None = None
        self.last_seen = time.monotonic()
        self.closed = False

    def send(self, message: dict) -> None:
        if self.closed:
            return
        self.pending += proto.encode(message)
        if len(self.pending) > proto.MAX_PENDING:
            raise proto.ProtocolError("client not reading")
        self.flush()

    def flush(self) -> None:
        while self.pending and not self.closed:
            try:
                sent = self.sock.send(self.pending)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.close()
                return
            del self.pending[:sent]

    def receive(self) -> list[dict] | None:
        """Messages read now; None when the peer closed."""
        try:
            chunk = self.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return []
        except OSError:
            return None
        if not chunk:
            return None
        self.last_seen = time.monotonic()
        return [proto.decode(line) for line in self.buffer.feed(chunk)]

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.sock.close()


class Listener:
    """A listening socket and its clients; `owner` gets `handle(client, message)` and `lost(client, why)`."""

    def __init__(self, sock: socket.socket, path: Path, client_type, handle=None):
        self.sock, self.path, self.client_type = sock, path, client_type
        self.handle = handle
        self.clients: list[Client] = []
        self.selector: selectors.BaseSelector | None = None

    @classmethod
    def bind(cls, path: Path, client_type, handle=None, mode: int = 0o660) -> Listener:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_socket():
            path.unlink()       # left by a previous run that was killed
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        os.chmod(path, mode)
        sock.listen(MAX_CLIENTS)
        sock.setblocking(False)
        return cls(sock, path, client_type, handle)

    def attach(self, selector) -> None:
        self.selector = selector
        selector.register(self.sock, selectors.EVENT_READ, self)

    def ready(self, key, owner) -> None:
        if key.fileobj is self.sock:
            self._accept()
            return
        client = next((c for c in self.clients if c.sock is key.fileobj), None)
        if client is not None:
            self._serve(client, owner)

    def _accept(self) -> None:
        try:
            sock, _ = self.sock.accept()
        except (BlockingIOError, InterruptedError):
            return
        if len(self.clients) >= MAX_CLIENTS:
            sock.close()
            return
        sock.setblocking(False)
        client = self.client_type(sock, None)
        client.listener = self
        self.clients.append(client)
        assert self.selector is not None        # accepting means attach() registered us
        self.selector.register(sock, selectors.EVENT_READ, self)

    def _serve(self, client: Client, owner) -> None:
        try:
            messages = client.receive()
            for message in messages or ():
                (self.handle or owner.handle)(client, message)
        except proto.ProtocolError as exc:
            log.warning("client dropped: %s", exc)
            messages = None
        if messages is None or client.closed:
            self.drop(client, owner, "connection closed")

    def drop(self, client: Client, owner, why: str) -> None:
        """Unregister before closing: a closed descriptor must not stay in the selector."""
        if client in self.clients:
            self.clients.remove(client)
            assert self.selector is not None    # a client exists only once accepted
            try:
                self.selector.unregister(client.sock)
            except (KeyError, ValueError):
                pass
        client.close()
        owner.lost(client, why)

    def flush(self, owner) -> None:
        """Send what is pending; a client whose link broke is dropped."""
        for client in list(self.clients):
            client.flush()
            if client.closed:
                self.drop(client, owner, "connection broken")

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.sock.close()
        try:
            self.path.unlink()
        except OSError:
            pass
