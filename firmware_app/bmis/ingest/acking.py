"""An MQTT connection whose incoming QoS 1 messages are PUBACKed only when we say so.

Wraps the project's one paho owner (`mqtt_client.MqttConnection`) instead of changing it: paho 2's
manual acknowledgement (`manual_ack_set`, `ack(mid, qos)`) is switched on, each message goes up with
its packet id, and CONNECT announces a Receive Maximum so the broker never has more than that many
unacknowledged messages out to us (memory stays bounded while the database is slow or down).

Why manual acknowledgement: a message PUBACKed before our commit is gone from the broker; if we die
before the commit it exists nowhere but in the gate's outbox, and comes back only after the gate's
receipt timeout. Acknowledged after the commit, the broker re-delivers it to our persistent session
as soon as we reconnect.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from ..mqtt_client import Callbacks, Incoming, MqttConnection, MqttSettings, Properties

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    incoming: Incoming
    mid: int
    qos: int
    generation: int     # which connection it came on: packet ids mean nothing on the next one


class AckingConnection(MqttConnection):
    def __init__(self, settings: MqttSettings, callbacks: Callbacks, *, on_delivery: Callable[[Delivery], None],
                 subscriptions: tuple[str, ...] = (), receive_maximum: int = 1000):
        self._on_delivery, self._receive_maximum_in = on_delivery, receive_maximum
        self.generation = 0
        super().__init__(settings, callbacks, subscriptions=subscriptions)

    def _make_client(self, will):
        client = super()._make_client(will)
        client.manual_ack_set(True)
        return client

    def _connect_properties(self) -> Properties:
        properties = super()._connect_properties()
        properties.ReceiveMaximum = self._receive_maximum_in
        return properties

    def ack(self, delivery: Delivery) -> None:
        """PUBACK one delivery (any thread). QoS 0 needs none; a delivery from an earlier connection
        is not acknowledged (its packet id may name another message now): the broker re-delivers it
        on the new connection and that copy is acknowledged after its own commit (a duplicate)."""
        if delivery.qos > 0 and delivery.generation == self.generation:
            self._client.ack(delivery.mid, delivery.qos)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            self.generation += 1
        super()._on_connect(client, userdata, flags, reason_code, properties)

    def _on_message(self, client, userdata, message) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            log.warning("MQTT message with a topic that is not UTF-8: acknowledged and dropped")
            self.ack(Delivery(Incoming("", b"", None, None), message.mid, message.qos, self.generation))
            return
        properties = message.properties
        correlation = getattr(properties, "CorrelationData", None) if properties else None
        incoming = Incoming(topic, bytes(message.payload), None, None if correlation is None else bytes(correlation),
                            bool(message.retain))
        self._on_delivery(Delivery(incoming, message.mid, message.qos, self.generation))
