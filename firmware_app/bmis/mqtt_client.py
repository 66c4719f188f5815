"""The one module that imports paho-mqtt: an MQTT 5 connection over TLS, with plain callbacks.

paho 2.x, callback API VERSION2. Persistent session (clean_start=False + session expiry), client
certificate, Last Will, reconnect with exponential backoff (paho's own loop), a bounded in-flight
window. What goes up to the caller is plain data: acknowledgements as (mid, reason code, reason name)
from PUBACK, and incoming messages as `Incoming`. paho's `is_published()` is never consulted:
only the PUBACK reason code says a message was accepted. The broker's MQTT 5 CONNACK limits (Receive
Maximum, Maximum Packet Size, Retain Available) are capabilities declared, with defaults, on
`Publisher`, the interface the pump uses; the pump keeps within them: paho does not, and a broker
disconnects a client that exceeds them (the resend would loop forever). `Publisher`, the settings,
the callbacks' data and the packet arithmetic need no paho: they live in mqtt_types.py.

Incoming packets are bounded before paho parses them: the gate announces a Maximum Packet Size
at connect (the broker then drops anything larger for us), and a PUBLISH whose properties exceed
MAX_PUBLISH_PROPERTY_BYTES is acknowledged and dropped unparsed (paho's property parser is
quadratic: 80,000 user properties held the network thread for 13 s, the broker dropped us on
keepalive and redelivered the message on every reconnect).

The TLS context is `ClientTls` (client_tls.py): a renewed client certificate and key are loaded
at the next (re)connection, and `reload_identity()` makes that reconnection at once. A connection
attempt that ends without a CONNACK is reported (`on_connect_failed`), so a caller waiting for one
attempt (the renewal's probe) need not wait out paho's retries.

Callbacks run on paho's network thread; an exception in one is logged and never stops the loop.
"""
from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import Callable
from typing import cast

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from .client_tls import ClientTls
from .mqtt_types import (
    MAX_PUBLISH_PROPERTY_BYTES,
    QOS,
    REASON_FAILURE_FROM,
    REASON_IMPLEMENTATION_SPECIFIC,
    REASON_NO_MATCHING_SUBSCRIBERS,
    REASON_PACKET_TOO_LARGE,
    BrokerConnection,
    Callbacks,
    Incoming,
    MqttSettings,
    Publisher,
    Will,
    check_files,
    publish_packet_size,
    publish_property_length,
)

log = logging.getLogger(__name__)
# The paho-free names live in mqtt_types.py; importers of this module keep finding them here.
__all__ = ["MAX_PUBLISH_PROPERTY_BYTES", "QOS", "REASON_FAILURE_FROM", "REASON_IMPLEMENTATION_SPECIFIC",
           "REASON_NO_MATCHING_SUBSCRIBERS", "REASON_PACKET_TOO_LARGE", "BrokerConnection", "Callbacks",
           "Incoming", "MqttConnection", "MqttSettings", "Properties", "Publisher", "Will",
           "paho_parse_properties", "publish_packet_size", "publish_property_length"]


def paho_parse_properties(properties: bytes) -> int:
    """paho's own parse of a PUBLISH property block (length prefix included); the number of user
    properties. For the bench that times it."""
    parsed = Properties(PacketTypes.PUBLISH)
    parsed.unpack(properties)
    return len(getattr(parsed, "UserProperty", []))


class _BoundedClient(paho.Client):
    """paho's client with one change: a PUBLISH with too many property bytes is acknowledged (so the
    broker never redelivers it) and reported, without paho parsing it."""

    max_property_bytes = MAX_PUBLISH_PROPERTY_BYTES
    on_dropped_publish: Callable[[str, str], None] = staticmethod(lambda topic, reason: None)
    publishes_received = 0
    largest_publish_received = 0

    def _handle_publish(self):
        header, packet = self._in_packet["command"], self._in_packet["packet"]
        self.publishes_received += 1
        self.largest_publish_received = max(self.largest_publish_received, len(packet))
        length = publish_property_length(header, packet)
        if length is None or length <= self.max_property_bytes:
            return super()._handle_publish()
        return self._drop_publish(header, bytes(packet), f"{length} property bytes")

    def _drop_publish(self, header: int, packet: bytes, reason: str):
        topic_end = 2 + int.from_bytes(packet[0:2], "big")
        self.on_dropped_publish(packet[2:topic_end].decode("utf-8", "replace")[:256], reason)
        qos = (header & 0x06) >> 1
        mid = int.from_bytes(packet[topic_end:topic_end + 2], "big")
        if qos == 1:
            return self._send_puback(mid)
        return self._send_pubrec(mid) if qos == 2 else paho.MQTT_ERR_SUCCESS


def _guarded(name: str, callback: Callable) -> Callable:
    """Keep paho's network loop alive whatever a callback does (the failure is logged)."""
    def run(*args):
        try:
            callback(*args)
        except Exception as exc:
            # Type only above DEBUG: an incoming message's payload may carry personal data.
            log.error("MQTT %s callback failed: %s", name, type(exc).__name__)
            log.debug("MQTT %s callback failure", name, exc_info=True)
    return run


class MqttConnection(BrokerConnection):
    def __init__(self, settings: MqttSettings, callbacks: Callbacks, *, subscriptions: tuple[str, ...] = (),
                 will: Will | None = None):
        check_files(settings)
        self.settings, self._callbacks, self._subscriptions = settings, callbacks, subscriptions
        self._connected = False
        self._receive_maximum: int | None = None
        self._maximum_packet_size: int | None = None
        self._retain_available = True
        self._subscribe_mids: dict[int, str] = {}    # SUBSCRIBE mid -> topic filter (network thread only)
        self._subscriptions_answered = False
        self._awaiting_connack = False                # network thread only
        self._tls = ClientTls(settings.ca_file, settings.cert_file, settings.key_file)
        self._client = self._make_client(will)

    def _make_client(self, will: Will | None) -> _BoundedClient:
        s = self.settings
        client = _BoundedClient(CallbackAPIVersion.VERSION2, client_id=s.client_id, protocol=paho.MQTTv5)
        client.on_dropped_publish = _guarded("dropped", self._on_dropped)
        client.suppress_exceptions = True
        # paho only calls wrap_socket and reads check_hostname: the reloadable context stands in
        client.tls_set_context(cast(ssl.SSLContext, self._tls))
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if will is not None:
            client.will_set(will.topic, will.payload, qos=QOS, retain=will.retain)
        client.max_inflight_messages_set(s.max_inflight)
        # paho annotates whole seconds but sleeps for fractions: the tests reconnect within 0.1-0.5 s
        client.reconnect_delay_set(s.reconnect_min_s, s.reconnect_max_s)  # type: ignore[arg-type]
        client.on_pre_connect = _guarded("pre_connect", self._on_pre_connect)
        client.on_connect_fail = _guarded("connect_fail", self._on_connect_fail)
        client.on_connect = _guarded("connect", self._on_connect)
        client.on_disconnect = _guarded("disconnect", self._on_disconnect)
        client.on_publish = _guarded("publish", self._on_publish)
        client.on_message = _guarded("message", self._on_message)
        client.on_subscribe = _guarded("subscribe", self._on_subscribe)
        return client

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect in the background; paho's loop retries (with backoff) until the broker answers."""
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive_s,
                                   clean_start=self.settings.clean_start, properties=self._connect_properties())
        self._client.loop_start()

    def _connect_properties(self) -> Properties:
        """What CONNECT announces (a subclass may add to it, e.g. a Receive Maximum)."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self.settings.session_expiry_s
        if self.settings.max_packet_size:
            properties.MaximumPacketSize = self.settings.max_packet_size
        return properties

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()
        self._connected = False

    def reconnect(self) -> None:
        """Drop the connection (from any thread); paho's loop connects again, with its backoff, and
        re-sends the QoS 1 messages the broker had not acknowledged."""
        sock = self._client.socket()
        if sock is None:
            return
        try:
            sock.shutdown(socket.SHUT_RDWR)  # type: ignore[attr-defined]  # a TCP/TLS socket here
        except OSError as exc:
            log.debug("MQTT socket shutdown: %s", exc)

    def reload_identity(self) -> bool:
        """Reconnect when the certificate or key files changed; the reconnection loads them."""
        if not self._tls.changed():
            return False
        log.info("MQTT client certificate changed on disk: reconnecting with it")
        self.reconnect()
        return True

    @property
    def identity_reloads(self) -> int:  # type: ignore[override]  # read-only here; stand-ins set them
        """How many times a changed client certificate was loaded for a (re)connection."""
        return self._tls.reloads

    @property
    def connected(self) -> bool:  # type: ignore[override]  # read-only here; stand-ins set them
        return self._connected

    @property
    def subscriptions_answered(self) -> bool:  # type: ignore[override]  # read-only here; stand-ins set them
        """Connected is not yet listening: a command published before the broker granted cmd/# (a
        first connection, no session yet) goes to nobody."""
        return self._subscriptions_answered

    @property
    def receive_maximum(self) -> int | None:  # type: ignore[override]  # read-only here; stand-ins set them
        """The broker's MQTT 5 Receive Maximum from the last CONNACK (None: not announced)."""
        return self._receive_maximum

    @property
    def maximum_packet_size(self) -> int | None:  # type: ignore[override]  # read-only here; stand-ins set them
        """The broker's MQTT 5 Maximum Packet Size from the last CONNACK (None: no limit announced)."""
        return self._maximum_packet_size

    @property
    def retain_available(self) -> bool:  # type: ignore[override]  # read-only here; stand-ins set them
        """False when the broker's last CONNACK said it does not support retained messages."""
        return self._retain_available

    # -- publishing ------------------------------------------------------------------------------
    def publish(self, topic: str, payload: bytes, *, retain: bool = False, correlation: bytes | None = None,
                response_topic: str | None = None) -> int | None:
        """QoS 1 publish; the mid its PUBACK will carry, or None when paho refused to queue it."""
        properties = None
        if correlation is not None or response_topic is not None:
            properties = Properties(PacketTypes.PUBLISH)
            if correlation is not None:
                properties.CorrelationData = correlation
            if response_topic is not None:
                properties.ResponseTopic = response_topic
        info = self._client.publish(topic, payload, qos=QOS, retain=retain, properties=properties)
        if info.rc not in (paho.MQTT_ERR_SUCCESS, paho.MQTT_ERR_NO_CONN):
            log.warning("MQTT publish not queued: %s", paho.error_string(info.rc))
            return None
        return info.mid

    # -- paho callbacks (network thread) ---------------------------------------------------------
    def _on_pre_connect(self, client, userdata) -> None:
        self._awaiting_connack = True
        self._tls.refresh()

    def _connect_failed(self, reason: str) -> None:
        if self._awaiting_connack:
            self._awaiting_connack = False
            self._callbacks.on_connect_failed(reason)

    def _on_connect_fail(self, client, userdata) -> None:
        # paho passes no reason; a client certificate the broker refuses under TLS 1.2 ends here
        self._connect_failed("TCP or TLS connection failed")

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.warning("MQTT connection refused: %s", reason_code)
            self._connect_failed(f"refused: {reason_code}")
            return
        self._awaiting_connack = False
        # The pump keeps its window within this (MQTT 5, 3.3.4): a strict broker disconnects with 0x93
        # otherwise, and the backlog resend would repeat that forever. paho cannot change its own
        # in-flight limit on an open connection.
        # paho's Properties object has an attribute only for a property the packet carried: probing
        # it is how paho is read (our own interfaces declare their capabilities, Publisher in mqtt_types.py).
        self._receive_maximum = getattr(properties, "ReceiveMaximum", None) if properties else None
        self._maximum_packet_size = getattr(properties, "MaximumPacketSize", None) if properties else None
        self._retain_available = getattr(properties, "RetainAvailable", 1) != 0 if properties else True
        if not self._retain_available:
            log.warning("MQTT broker does not support retained messages: status and health go out unretained")
        self._connected = True
        self._subscriptions_answered = not self._subscriptions
        for topic_filter in self._subscriptions:
            _, mid = client.subscribe(topic_filter, qos=QOS)
            self._subscribe_mids[mid] = topic_filter
        self._callbacks.on_connected(bool(flags.session_present))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected = self._subscriptions_answered = False
        # under TLS 1.3 the broker refuses a client certificate after the handshake: a drop here
        self._connect_failed(f"closed before CONNACK: {reason_code}")
        self._callbacks.on_disconnected(str(reason_code))

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._callbacks.on_ack(mid, int(reason_code.value), str(reason_code))

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        topic_filter = self._subscribe_mids.pop(mid, "?")
        self._subscriptions_answered = not self._subscribe_mids
        refused = [str(code) for code in reason_codes if code.is_failure]
        if refused:
            log.error("MQTT subscription to %s refused: %s", topic_filter, ", ".join(refused))
            self._callbacks.on_subscribe_refused(topic_filter, ", ".join(refused))
        else:
            self._callbacks.on_subscribed(topic_filter)

    @property
    def publishes_received(self) -> int:
        """PUBLISH packets that reached paho's parser (or our bound in front of it)."""
        return self._client.publishes_received

    @property
    def largest_publish_received(self) -> int:
        """Bytes of the largest PUBLISH packet that reached paho (or our bound in front of it)."""
        return self._client.largest_publish_received

    def _on_dropped(self, topic: str, reason: str) -> None:
        log.error("MQTT message on %s dropped unparsed: %s", topic, reason)
        self._callbacks.on_dropped(topic, reason)

    def _on_message(self, client, userdata, message) -> None:
        properties = message.properties
        # Absent properties are absent attributes on paho's Properties object.
        response_topic = getattr(properties, "ResponseTopic", None) if properties else None
        correlation = getattr(properties, "CorrelationData", None) if properties else None
        try:
            topic = message.topic
        except UnicodeDecodeError:
            log.warning("MQTT message with a topic that is not UTF-8 ignored")
            return
        self._callbacks.on_message(Incoming(topic, bytes(message.payload), response_topic,
                                            None if correlation is None else bytes(correlation),
                                            bool(message.retain)))
