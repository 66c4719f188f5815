"""A real mosquitto for BMIS tests: TLS, client certificates as identity, password for the BMIS,
per-device ACL. Import the fixtures into a test module:

    from tests.broker_fixtures import broker, bmis_consumer  # noqa: F401  (fixtures)

Timings are short (keepalive 5 s, reconnect 0.1-0.5 s) so restarts and outages stay fast.
"""
from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from firmware_app.bmis.contract import Identity
from firmware_app.bmis.link import BmisLink, CommandHandler, nack_not_implemented
from firmware_app.bmis.mqtt_client import MqttSettings
from firmware_app.bmis.outbox.queue import Outbox, OutboxLimits
from firmware_app.bmis.wiring import connection_factory
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from simulator.bmis_consumer import BmisConsumer
from simulator.bmis_pki import make_test_pki
from tests.polling import wait_until

DEVICES = ["gate-a", "gate-b"]
PREFIX = "gates"


def device_settings(broker: MosquittoBroker, device_id: str) -> MqttSettings:
    pair = broker.pki.devices[device_id]
    return MqttSettings(host="127.0.0.1", port=broker.device_port, client_id=device_id, ca_file=broker.pki.ca,
                        cert_file=pair.cert, key_file=pair.key, keepalive_s=5, reconnect_min_s=0.1,
                        reconnect_max_s=0.5, max_inflight=32)


def consumer_settings(broker: MosquittoBroker, client_id: str = "bmis-1") -> MqttSettings:
    ep = broker.endpoints
    return MqttSettings(host=ep.host, port=ep.bmis_port, client_id=client_id, ca_file=ep.ca_file,
                        username=ep.bmis_user, password=ep.bmis_password, keepalive_s=5, reconnect_min_s=0.1,
                        reconnect_max_s=0.5)


def make_link(broker: MosquittoBroker, directory: Path, device_id: str = "gate-a", *,
              handle_command: CommandHandler = nack_not_implemented, limits: OutboxLimits = OutboxLimits(),
              retry_delay_s: float = 0.2) -> BmisLink:
    outbox = Outbox(directory / f"{device_id}-outbox.db", Identity(device_id, "post-t", PREFIX),
                    clock=lambda: dt.datetime.now(dt.UTC), id_source=uuid.uuid4, limits=limits)
    return BmisLink(outbox, connection_factory=connection_factory(device_settings(broker, device_id)),
                    handle_command=handle_command, retry_delay_s=retry_delay_s)


@pytest.fixture
def broker(tmp_path):
    pki = make_test_pki(tmp_path / "pki", DEVICES)
    try:
        running = MosquittoBroker(tmp_path / "broker", pki, prefix=PREFIX).start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    yield running
    running.stop()


@pytest.fixture
def bmis_consumer(broker, tmp_path):
    consumer = BmisConsumer(tmp_path / "bmis.db", consumer_settings(broker), prefix=PREFIX)
    consumer.start()
    assert wait_until(lambda: consumer.listening), "BMIS consumer did not connect and subscribe"
    yield consumer
    consumer.stop()
