"""The MQTT connection's half that needs no paho: its settings, what it hands its callers, the
interfaces the pump and the link use, and the packet arithmetic done before paho sees a packet.

Modules that only publish through a connection (the pump, the link) or describe one (the wiring,
the tools) need nothing else; mqtt_client.py, the one paho user, builds the connection from these
and re-exports them under their old names.
"""
from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import MqttSettingsError

QOS = 1
REASON_NO_MATCHING_SUBSCRIBERS = 0x10
REASON_FAILURE_FROM = 0x80
REASON_PACKET_TOO_LARGE = 0x95
# Response topic, correlation data and a few user properties fit easily; paho's quadratic parser
# needs a few ms for this much (python -m bench mqtt_hostile).
MAX_PUBLISH_PROPERTY_BYTES = 16 * 1024
REASON_IMPLEMENTATION_SPECIFIC = 0x83   # what a dropped incoming message is dead-lettered with


@dataclass(frozen=True)
class MqttSettings:
    host: str
    port: int
    client_id: str
    ca_file: Path
    cert_file: Path | None = None
    key_file: Path | None = None
    username: str | None = None
    password: str | None = None
    keepalive_s: int = 30
    session_expiry_s: int = 7 * 24 * 3600
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    max_inflight: int = 32
    clean_start: bool = False
    max_packet_size: int | None = None      # announced at connect: the broker drops larger packets for us


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    retain: bool = True


@dataclass(frozen=True)
class Incoming:
    topic: str
    payload: bytes
    response_topic: str | None
    correlation_data: bytes | None
    retained: bool = False


@dataclass(frozen=True)
class Callbacks:
    on_ack: Callable[[int, int, str], None]               # mid, reason code, reason name
    on_message: Callable[[Incoming], None] = lambda incoming: None
    on_connected: Callable[[bool], None] = lambda session_present: None
    on_disconnected: Callable[[str], None] = lambda reason: None
    on_dropped: Callable[[str, str], None] = lambda topic, reason: None   # acked, never handled
    on_subscribe_refused: Callable[[str, str], None] = lambda topic_filter, reason: None
    on_subscribed: Callable[[str], None] = lambda topic_filter: None
    # A connection attempt that ended without a successful CONNACK: refused by the broker, TCP/TLS
    # failed (a refused client certificate), or dropped before the CONNACK. paho retries anyway.
    on_connect_failed: Callable[[str], None] = lambda reason: None


def publish_packet_size(topic: str, payload: bytes, correlation: bytes | None) -> int:
    """Upper bound of a QoS 1 PUBLISH packet's size (MQTT 5), to compare with the broker's maximum."""
    properties = 3 + len(correlation) if correlation is not None else 0
    variable = 2 + len(topic.encode("utf-8")) + 2 + 4 + properties   # topic, packet id, property length
    return 1 + 4 + variable + len(payload)                           # fixed header, remaining length


def publish_property_length(header: int, packet: bytes) -> int | None:
    """The property length of an incoming MQTT 5 PUBLISH (`packet`: after the fixed header), read
    without parsing the properties; None when the packet is too short to say (paho then decides)."""
    if len(packet) < 2:
        return None
    offset = 2 + int.from_bytes(packet[0:2], "big") + (2 if header & 0x06 else 0)
    value = 0
    for index in range(4):                      # a Variable Byte Integer has at most four bytes
        if offset + index >= len(packet):
            return None
        byte = packet[offset + index]
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            return value
    return None


def check_files(settings: MqttSettings) -> None:
    wanted = [settings.ca_file] + [p for p in (settings.cert_file, settings.key_file) if p is not None]
    missing = [str(p) for p in wanted if not Path(p).is_file()]
    if missing:
        raise MqttSettingsError(f"TLS files not found: {', '.join(missing)}")
    if (settings.cert_file is None) != (settings.key_file is None):
        raise MqttSettingsError("a client certificate needs both cert_file and key_file")


class Publisher(abc.ABC):
    """The MQTT connection as the outbox pump uses it: publish QoS 1 and keep within the broker's
    limits. Optional capabilities have defaults here (as python-can's `BusABC` gives them), so the
    pump never probes for them: a connection that learns no limit from the broker keeps these."""

    connected: bool = False
    receive_maximum: int | None = None        # the broker's MQTT 5 Receive Maximum (None: not announced)
    maximum_packet_size: int | None = None    # the broker's MQTT 5 Maximum Packet Size (None: no limit)
    retain_available: bool = True             # False: the broker said it keeps no retained messages
    identity_reloads: int = 0                 # renewed client certificates loaded since start
    subscriptions_answered: bool = True       # every SUBSCRIBE of this connection has its SUBACK

    @abc.abstractmethod
    def publish(self, topic: str, payload: bytes, *, retain: bool = False, correlation: bytes | None = None,
                response_topic: str | None = None) -> int | None:
        """QoS 1 publish; the mid its PUBACK will carry, or None when it could not be queued."""

    def reconnect(self) -> None:  # noqa: B027 - an optional capability with its default, not abstract
        """Drop the connection and make it again (the pump calls this when PUBACKs stop coming).
        By default there is nothing to re-make."""

    def reload_identity(self) -> bool:
        """Reconnect if the client certificate or key on disk changed (a renewal); True when it
        did. By default there is no identity to reload."""
        return False


class BrokerConnection(Publisher):
    """The one MQTT connection as the link owns it: the pump's `Publisher`, started and stopped."""

    @abc.abstractmethod
    def start(self) -> None:
        """Connect in the background (retrying until the broker answers)."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Disconnect and stop the network thread."""

