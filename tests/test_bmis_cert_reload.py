"""A renewed client certificate is used by the running BMIS link from its next connection, without a
restart: against the real TLS mosquitto (use_identity_as_username), whose log names the CN of the
certificate each connection presented. Also the reloadable TLS context on its own."""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import time
import uuid
from dataclasses import replace
from pathlib import Path

import pytest

from firmware_app.bmis.client_tls import ClientTls
from firmware_app.bmis.contract import Identity
from firmware_app.bmis.errors import MqttSettingsError
from firmware_app.bmis.link import BmisLink
from firmware_app.bmis.outbox.queue import Outbox
from firmware_app.bmis.wiring import connection_factory
from tests.broker_fixtures import PREFIX, broker, device_settings  # noqa: F401  (fixture)
from tests.polling import wait_until


def _identity(tmp_path: Path, pair) -> tuple[Path, Path]:
    """The gate's own copies of a pair, where gatectl keeps them."""
    directory = tmp_path / "identity"
    directory.mkdir(exist_ok=True)
    cert, key = directory / "client.crt", directory / "client.key"
    shutil.copy(pair.cert, cert)
    shutil.copy(pair.key, key)
    return cert, key


def _swap_in(pair, cert: Path, key: Path) -> None:
    """As `gatectl cert renew` swaps: written beside, then renamed, the key first."""
    for source, target in ((pair.key, key), (pair.cert, cert)):
        pending = target.with_name(target.name + ".new")
        shutil.copy(source, pending)
        os.replace(pending, target)


def _connections_as(broker, client_id: str) -> list[str]:
    """The CNs (usernames) mosquitto saw for `client_id`'s connections, in order."""
    log = (broker.workdir / "mosquitto.log").read_text()
    return re.findall(rf"connected from \S+ as {re.escape(client_id)} \([^)]*u'([^']+)'\)", log)


def _link(broker, tmp_path: Path, cert: Path, key: Path) -> BmisLink:
    settings = replace(device_settings(broker, "gate-a"), cert_file=cert, key_file=key)
    outbox = Outbox(tmp_path / "outbox.db", Identity("gate-a", "post-t", PREFIX),
                    clock=lambda: dt.datetime.now(dt.UTC), id_source=uuid.uuid4)
    return BmisLink(outbox, connection_factory=connection_factory(settings), retry_delay_s=0.2)


@pytest.fixture
def gate_a_link(broker, tmp_path):
    """A started link connected as gate-a from its own copies of the pair: (link, cert, key)."""
    cert, key = _identity(tmp_path, broker.pki.devices["gate-a"])
    link = _link(broker, tmp_path, cert, key)
    link.start()
    try:
        assert wait_until(lambda: link.connected)
        yield link, cert, key
    finally:
        link.stop()
        link.outbox.close()


def test_a_running_link_reconnects_with_the_replaced_certificate(broker, gate_a_link):
    link, cert, key = gate_a_link
    assert not link.reload_identity()                       # nothing changed: no reconnection
    assert wait_until(lambda: _connections_as(broker, "gate-a") == ["gate-a"])
    # Another certificate of the same CA, told apart by its CN in the broker's view.
    _swap_in(broker.pki.devices["gate-b"], cert, key)
    assert link.reload_identity()
    assert wait_until(lambda: _connections_as(broker, "gate-a") == ["gate-a", "gate-b"])
    assert wait_until(lambda: link.connected) and link.identity_reloads == 1


def test_a_natural_reconnection_also_takes_the_new_certificate(broker, gate_a_link):
    link, cert, key = gate_a_link
    _swap_in(broker.pki.devices["gate-b"], cert, key)
    broker.restart()                                        # the link is dropped, not asked
    assert wait_until(lambda: "gate-b" in _connections_as(broker, "gate-a"), timeout_s=15)
    assert link.identity_reloads == 1


def test_a_half_swapped_pair_keeps_the_previous_certificate(broker, gate_a_link):
    link, _, key = gate_a_link
    shutil.copy(broker.pki.devices["gate-b"].key, key)       # the key renamed, the certificate not yet
    assert link.reload_identity()
    assert wait_until(lambda: len(_connections_as(broker, "gate-a")) == 2)
    assert _connections_as(broker, "gate-a") == ["gate-a", "gate-a"] and link.identity_reloads == 0
    assert wait_until(lambda: link.connected)


def test_client_tls_rebuilds_only_when_the_files_change(broker, tmp_path):
    cert, key = _identity(tmp_path, broker.pki.devices["gate-a"])
    tls = ClientTls(broker.pki.ca, cert, key)
    assert not tls.changed() and not tls.refresh()
    shutil.copy(broker.pki.devices["gate-b"].key, key)
    assert tls.changed() and not tls.refresh() and tls.reloads == 0      # mismatched: not loaded
    time.sleep(0.01)
    shutil.copy(broker.pki.devices["gate-b"].cert, cert)
    assert tls.refresh() and tls.reloads == 1 and not tls.changed()
    key.unlink()
    with pytest.raises(MqttSettingsError):
        ClientTls(broker.pki.ca, cert, key)
