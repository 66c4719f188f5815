"""Debian's mosquitto as the post's MQTT broker on loopback, for tests, `gatesim` and benchmarks.

Two TLS listeners on free ports: gates authenticate with their client certificate (the certificate
CN is the username, `use_identity_as_username`) and may write only their own topics and read only
their own commands and receipts; the BMIS consumer logs in with a password and is the only one
that may publish receipts and commands. Persistence is on by default, so the BMIS's persistent
session survives a broker restart (as it must at a real post); fault tests turn it off and
`kill()` the broker to lose everything it held.
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from simulator.bmis_pki import TestPki
from simulator.local_process import free_port, stop_process

BMIS_USER = "bmis"
# The bmis-ingest workers' account: reads what gates publish, writes only receipts.
INGEST_USER = "bmis-ingest"
# What a gate may publish under {prefix}/v1/{its id}/ (commands flow the other way).
DEVICE_WRITE_TOPICS = ("status", "health", "events/#", "alarms", "stats", "cmd-result/#")  # # covers cmd-result
# What a gate may read under its own id: commands and the BMIS's receipts (written only by the BMIS).
DEVICE_READ_TOPICS = ("cmd/#", "receipt")


# The largest packet the broker accepts from anyone (the default bmis.command_max_payload_mb plus
# headroom): a peer cannot make it buffer and forward 100 MB messages.
MAX_PACKET_SIZE = 16 * 1024 * 1024 + 64 * 1024


class BrokerUnavailable(RuntimeError):
    """mosquitto is not installed or did not start."""


@dataclass(frozen=True)
class BrokerEndpoints:
    host: str
    device_port: int
    bmis_port: int
    ca_file: Path
    bmis_user: str
    bmis_password: str
    ingest_user: str = INGEST_USER
    ingest_password: str = ""


def _device_acl(prefix: str, read_topics: tuple[str, ...] = DEVICE_READ_TOPICS) -> str:
    lines = [f"pattern write {prefix}/v1/%u/{topic}" for topic in DEVICE_WRITE_TOPICS]
    lines += [f"pattern read {prefix}/v1/%u/{topic}" for topic in read_topics]
    return "\n".join(lines) + "\n"


def _bmis_acl(prefix: str) -> str:
    return (f"user {BMIS_USER}\ntopic read {prefix}/v1/#\ntopic write {prefix}/v1/+/cmd/#\n"
            f"topic write {prefix}/v1/+/receipt\n") + _ingest_acl(prefix)


def _ingest_acl(prefix: str) -> str:
    reads = "".join(f"topic read {prefix}/v1/+/{topic}\n" for topic in DEVICE_WRITE_TOPICS)
    return f"user {INGEST_USER}\n{reads}topic write {prefix}/v1/+/receipt\n"


class MosquittoBroker:
    def __init__(self, workdir: Path, pki: TestPki, prefix: str = "gates", bmis_password: str = "bmis-test",
                 max_packet_size: int = MAX_PACKET_SIZE, *, persistence: bool = True,
                 device_read_topics: tuple[str, ...] = DEVICE_READ_TOPICS, ingest_password: str = "ingest-test"):
        self.workdir, self.pki, self.prefix, self.bmis_password = workdir, pki, prefix, bmis_password
        self.max_packet_size = max_packet_size
        self.persistence, self.device_read_topics = persistence, device_read_topics
        self.ingest_password = ingest_password
        self.device_port, self.bmis_port = free_port(), free_port()
        self.process: subprocess.Popen | None = None
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def endpoints(self) -> BrokerEndpoints:
        return BrokerEndpoints("127.0.0.1", self.device_port, self.bmis_port, self.pki.ca, BMIS_USER,
                               self.bmis_password, INGEST_USER, self.ingest_password)

    def _tls_lines(self) -> str:
        return (f"cafile {self.pki.ca}\ncertfile {self.pki.server.cert}\nkeyfile {self.pki.server.key}\n"
                "tls_version tlsv1.2\n")

    def _write_config(self) -> Path:
        binary = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
        passwd = self.workdir / "passwd"
        subprocess.run([binary, "-b", "-c", str(passwd), BMIS_USER, self.bmis_password], check=True,
                       capture_output=True)
        subprocess.run([binary, "-b", str(passwd), INGEST_USER, self.ingest_password], check=True,
                       capture_output=True)
        (self.workdir / "acl_devices").write_text(_device_acl(self.prefix, self.device_read_topics))
        (self.workdir / "acl_bmis").write_text(_bmis_acl(self.prefix))
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"per_listener_settings true\nuser root\npersistence {str(self.persistence).lower()}\n"
            f"persistence_location {self.workdir}/\nlog_dest file {self.workdir}/mosquitto.log\n"
            "log_type error\nlog_type warning\nlog_type notice\nmax_inflight_messages 100\n"
            f"max_queued_messages 100000\nmax_packet_size {self.max_packet_size}\n"
            f"listener {self.device_port} 127.0.0.1\n{self._tls_lines()}require_certificate true\n"
            f"use_identity_as_username true\nallow_anonymous false\nacl_file {self.workdir}/acl_devices\n"
            f"listener {self.bmis_port} 127.0.0.1\n{self._tls_lines()}require_certificate false\n"
            f"allow_anonymous false\npassword_file {passwd}\nacl_file {self.workdir}/acl_bmis\n")
        return conf

    def start(self, timeout_s: float = 10.0) -> MosquittoBroker:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise BrokerUnavailable("mosquitto is not installed (apt-get install mosquitto)")
        conf = self._write_config()
        self.process = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE)
        self._wait_listening(time.monotonic() + timeout_s)
        return self

    def _wait_listening(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerUnavailable(f"mosquitto exited: {self.process.stderr.read().decode(errors='replace')}")
            if all(_accepts(port) for port in (self.device_port, self.bmis_port)):
                return
            time.sleep(0.02)
        self.stop()
        raise BrokerUnavailable("mosquitto did not open its listeners in time")

    def stop(self) -> None:
        """SIGTERM: mosquitto saves its persistence file (sessions, queued messages) on the way out."""
        process, self.process = self.process, None
        stop_process(process, timeout_s=10)

    def kill(self) -> None:
        """SIGKILL: the broker saves nothing (with persistence off, every queued message is lost)."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


def _accepts(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0
