"""Does the broker accept this certificate? A real MQTT connection with it (TLS with the client
certificate, CONNECT, a successful CONNACK), under its own client id with a clean session, so the
running gate-app's session and its queued commands are never taken over. The first attempt decides:
a refusal (CONNACK failure, TLS handshake refused, dropped before the CONNACK) fails at once
instead of waiting out the timeout while paho retries."""
from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

from ..bmis.errors import MqttSettingsError
from ..bmis.mqtt_client import Callbacks, MqttConnection, MqttSettings
from ..bmis.wiring import mqtt_settings
from ..config.model import GateConfig
from .errors import RenewalError

PROBE_SUFFIX = "-certcheck"


def _probe_settings(config: GateConfig, cert: Path, key: Path, timeout_s: float) -> MqttSettings:
    try:
        return replace(mqtt_settings(config), cert_file=cert, key_file=key,
                       client_id=f"{config.device.id}{PROBE_SUFFIX}", clean_start=True,
                       session_expiry_s=0, reconnect_min_s=timeout_s, reconnect_max_s=timeout_s)
    except MqttSettingsError as exc:
        raise RenewalError(f"cannot try the broker: {exc}") from None


def probe_broker(config: GateConfig, cert: Path, key: Path, timeout_s: float) -> None:
    """Return when the broker accepted a connection with (cert, key); raise RenewalError otherwise."""
    settings = _probe_settings(config, cert, key, timeout_s)
    answered, failures = threading.Event(), list[str]()

    def failed(reason: str) -> None:
        failures.append(reason)
        answered.set()
    callbacks = Callbacks(on_ack=lambda *_: None, on_connected=lambda _present: answered.set(),
                          on_connect_failed=failed)
    try:
        connection = MqttConnection(settings, callbacks)
    except MqttSettingsError as exc:
        raise RenewalError(f"cannot try the broker: {exc}") from None
    connection.start()
    try:
        answered.wait(timeout_s)
    finally:
        connection.stop()
    if failures:
        raise RenewalError(f"the broker {settings.host}:{settings.port} did not accept the new certificate "
                           f"({failures[0]})")
    if not answered.is_set():
        raise RenewalError(f"the broker {settings.host}:{settings.port} did not accept the new certificate "
                           f"within {timeout_s:g} s (no answer)")
