"""A renewal reaches a running gate-app without a restart: `gatectl cert renew` swaps the pair,
`systemctl reload gate-app` (SIGHUP, what gate-cert-renew.service sends) makes its BMIS link
reconnect, and that connection presents the renewed certificate (real mosquitto, real openssl CA)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.deploy_helpers import helper_script, needs_openssl, run_cli
from tests.polling import wait_until
from tests.test_deploy_renew import _enrolled_gate, _set_helper, _state, post  # noqa: F401  (fixture)

pytestmark = needs_openssl
ROOT = Path(__file__).resolve().parents[1]


def _device_connections(broker) -> int:
    log = (broker.workdir / "mosquitto.log").read_text()
    return log.count(" as gate-a (")


def test_sighup_after_a_renewal_reconnects_the_running_app_with_the_new_certificate(tmp_path, capsys, post):
    ca, broker = post
    config = _enrolled_gate(tmp_path, capsys, ca, broker)
    _set_helper(config, helper_script(tmp_path, ca, days=60))
    err_path = tmp_path / "gate-app.err"
    with open(err_path, "wb") as err:
        app = subprocess.Popen([sys.executable, "-m", "firmware_app", "--config", str(config), "--log-level", "INFO"],
                               cwd=ROOT, env={**os.environ, "WATCHDOG_USEC": "400000"},
                               stdout=subprocess.DEVNULL, stderr=err)
    try:
        assert wait_until(lambda: _device_connections(broker) == 1, timeout_s=60), err_path.read_text()[-2000:]
        code, out, cli_err = run_cli(capsys, "cert", "renew", "--config", str(config), "--json")
        assert code == 0 and json.loads(out)["outcome"] == "renewed", out + cli_err
        time.sleep(1.0)
        assert _device_connections(broker) == 1                  # renewed on disk, still the old connection
        app.send_signal(signal.SIGHUP)
        assert wait_until(lambda: "reconnecting with the renewed client certificate" in err_path.read_text(),
                          timeout_s=10), err_path.read_text()[-2000:]
        assert wait_until(lambda: _device_connections(broker) == 2, timeout_s=10)
        assert "client certificate reloaded" in err_path.read_text()
        app.send_signal(signal.SIGHUP)                           # nothing changed since: no reconnection
        assert wait_until(lambda: "client certificate unchanged" in err_path.read_text(), timeout_s=10)
        assert _device_connections(broker) == 2
    finally:
        app.send_signal(signal.SIGTERM)
        try:
            app.wait(timeout=20)
        except subprocess.TimeoutExpired:
            app.kill()
    assert app.returncode == 0, err_path.read_text()[-2000:]


def test_health_judges_the_certificate_the_connection_loaded(tmp_path):
    from datetime import UTC, datetime

    from firmware_app.deploy.cert_expiry import CertificateWatch
    from tests.deploy_helpers import make_openssl_ca
    cert = tmp_path / "client.crt"
    cert.write_bytes(make_openssl_ca(tmp_path / "old", days=5).cert.read_bytes())
    watch, now = CertificateWatch(cert), datetime.now(UTC)
    cert.write_bytes(make_openssl_ca(tmp_path / "new", days=400).cert.read_bytes())    # renewed on disk
    waiting = watch.entry(now, reloads=0)
    assert waiting is not None and waiting["detail"] == "cert_expires_within_7d"
    assert "next reconnection" in waiting["note"]
    loaded = watch.entry(now, reloads=1)                    # the link reconnected with it
    assert loaded == {"status": "ok", "detail": loaded["detail"]} and loaded["detail"].startswith("expires_")
