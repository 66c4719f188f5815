"""Build the BMIS link from the configuration (the app calls this; tests build pieces directly)."""
from __future__ import annotations

from pathlib import Path

from firmware_app.config.model import GateConfig

from .contract import Clock, Identity, IdSource, utc_now
from .errors import MqttSettingsError
from .link import BmisLink, CommandHandler, ConnectionFactory, HealthSource, nack_not_implemented
from .mqtt_client import Callbacks, MqttConnection, MqttSettings, Will
from .outbox.queue import Outbox, OutboxLimits, uuid4_source

OUTBOX_FILE = "bmis-outbox.db"
PACKET_HEADROOM = 64 * 1024     # topic, properties and headers on top of the largest command payload


def mqtt_settings(config: GateConfig) -> MqttSettings:
    bmis = config.bmis
    if bmis.ca_file is None:
        raise MqttSettingsError("bmis.ca_file is required: the gate only talks to the broker over TLS")
    return MqttSettings(host=bmis.host, port=bmis.port, client_id=bmis.client_id or config.device.id,
                        ca_file=bmis.ca_file, cert_file=bmis.cert_file, key_file=bmis.key_file,
                        keepalive_s=bmis.keepalive_s, session_expiry_s=bmis.session_expiry_s,
                        reconnect_min_s=bmis.reconnect_min_s, reconnect_max_s=bmis.reconnect_max_s,
                        max_inflight=bmis.max_inflight,
                        max_packet_size=(bmis.command_max_payload_mb << 20) + PACKET_HEADROOM)


def connection_factory(settings: MqttSettings) -> ConnectionFactory:
    def make(callbacks: Callbacks, subscriptions: tuple[str, ...], will: Will) -> MqttConnection:
        return MqttConnection(settings, callbacks, subscriptions=subscriptions, will=will)
    return make


def outbox_limits(config: GateConfig) -> OutboxLimits:
    bmis = config.bmis
    return OutboxLimits(max_messages=bmis.outbox_max_messages, max_bytes=bmis.outbox_max_mb * 1024 * 1024,
                        max_age_s=bmis.outbox_max_age_h * 3600.0, min_free_bytes=bmis.outbox_min_free_mb << 20,
                        receipt_timeout_s=bmis.receipt_timeout_s if bmis.require_receipts else None)


def open_outbox(config: GateConfig, *, clock: Clock = utc_now, id_source: IdSource = uuid4_source,
                data_dir: Path | None = None) -> Outbox:
    identity = Identity(config.device.id, config.device.post_id, config.bmis.prefix)
    path = (data_dir or config.device.data_dir) / OUTBOX_FILE
    return Outbox(path, identity, clock=clock, id_source=id_source, limits=outbox_limits(config))


def build_link(config: GateConfig, *, handle_command: CommandHandler = nack_not_implemented,
               clock: Clock = utc_now, id_source: IdSource = uuid4_source, data_dir: Path | None = None,
               health_source: HealthSource | None = None, health_info=None) -> BmisLink:
    settings = mqtt_settings(config)
    outbox = open_outbox(config, clock=clock, id_source=id_source, data_dir=data_dir)
    return BmisLink(outbox, connection_factory=connection_factory(settings), handle_command=handle_command,
                    window=config.bmis.max_inflight, retry_no_subscribers=config.bmis.retry_no_subscribers,
                    retry_delay_s=config.bmis.retry_delay_s, health_source=health_source,
                    health_interval_s=config.bmis.health_interval_s, ack_timeout_s=config.bmis.ack_timeout_s,
                    health_info=health_info)
