"""free_port never gives one process the same port twice, even when the kernel offers it again."""
from __future__ import annotations

from types import SimpleNamespace

import pytest

from simulator import local_process


class _Probe:
    """A socket whose bind(port 0) reports the next port of a scripted sequence."""

    def __init__(self, ports):
        self._ports = ports

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def bind(self, address):
        self.port = next(self._ports)

    def getsockname(self):
        return ("127.0.0.1", self.port)


def _kernel_offers(monkeypatch, ports):
    sequence = iter(ports)
    # Patch the module's name only: the real socket module stays untouched for other threads.
    monkeypatch.setattr(local_process, "socket", SimpleNamespace(socket=lambda: _Probe(sequence)))
    monkeypatch.setattr(local_process, "_handed_out", set())


def test_a_port_the_kernel_offers_again_is_skipped(monkeypatch):
    _kernel_offers(monkeypatch, [41000, 41000, 41000, 41001])
    assert [local_process.free_port(), local_process.free_port()] == [41000, 41001]


def test_gives_up_with_a_clear_error_when_every_offer_was_used(monkeypatch):
    _kernel_offers(monkeypatch, [41000] * 100)
    local_process.free_port()
    with pytest.raises(OSError, match="no free TCP port"):
        local_process.free_port()


def test_real_ports_are_distinct_and_bindable():
    import socket
    ports = [local_process.free_port() for _ in range(20)]
    assert len(set(ports)) == 20
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", ports[-1]))
