"""The scenario bench for a one-stop lane (issue 17): the same assembled appliance, with two
authorities, each with its own mosquitto (own CA, TLS, ACL), reference BMIS consumer, command key
and data directory; `staffed`: each also with its own officer console (its broker CA's server pair,
its own credential file) and a simulated officer signed in on it.

    with OnestopBench(workdir, faces_dir, staffed=True) as bench:
        bench.consumers[Role.EXIT] ...       # what the exit country's BMIS received
        bench.officers[Role.ENTRY].answer(txn_id, "accept")
"""
from __future__ import annotations

import subprocess
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from firmware_app.appliance.onestop import OnestopSides
from firmware_app.bmis.commands.signing import public_key_pem
from firmware_app.bmis.mqtt_client import MqttSettings
from firmware_app.policy.onestop import Role
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from simulator.bmis_consumer import BmisConsumer
from simulator.bmis_pki import make_test_pki
from simulator.local_process import free_port
from simulator.officer_agent import OfficerAgent
from simulator.scenario_bench import DEVICE_ID, Bench, BenchUnavailable, bench_config_text, write_trust_files

COUNTRIES = {Role.EXIT: "UTO", Role.ENTRY: "ARC"}
EXIT_BAN_LIST, ENTRY_WATCH_LIST = "exit-bans", "arc-watch"
VISA_NATIONALITY = "XXA"        # the entry country asks a visa of these nationals
OFFICERS = {Role.EXIT: "uto-officer-sim", Role.ENTRY: "arc-officer-sim"}


def prefix(role: Role) -> str:
    return f"{COUNTRIES[role].lower()}-gates"


class OnestopBench(Bench):
    def __init__(self, *args, staffed: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.brokers: dict[Role, MosquittoBroker] = {}
        self.consumers: dict[Role, BmisConsumer] = {}
        self.keys = {role: Ed25519PrivateKey.generate() for role in Role}
        self.staffed = staffed
        self.officers: dict[Role, OfficerAgent] = {}       # staffed: each authority's officer, signed in
        self._console_ports = {role: free_port() for role in Role}

    def start(self) -> None:
        super().start()
        for role in Role if self.staffed else ():
            self.officers[role] = OfficerAgent("127.0.0.1", self._console_ports[role], self.brokers[role].pki.ca,
                                               OFFICERS[role], self._password)

    def _officer_password(self) -> str:
        """Each authority's credential file names only its own officer (one password: a bench)."""
        from firmware_app.officer import OfficerStore
        self._password = super()._officer_password()
        for role in Role if self.staffed else ():
            OfficerStore(self._home(role) / "officers").add(OFFICERS[role], self._password)
        return self._password

    def _home(self, role: Role) -> Path:
        home = self.workdir / COUNTRIES[role].lower()
        home.mkdir(parents=True, exist_ok=True)
        return home

    def config_text(self, kiosk_port: int) -> str:
        # the single-authority text without its [bmis] (the authorities have their own)
        base = bench_config_text(self.workdir, self.brokers[Role.EXIT], kiosk_port, self.framing, self.pad)
        base = base[:base.index("[bmis]")] + base[base.index("[kiosk]"):]
        return (base + '[onestop]\nshared_fields = ["document_code", "issuing_state", "document_number", '
                '"nationality", "date_of_expiry"]\n' + "".join(self._authority(role) for role in Role))

    def _authority(self, role: Role) -> str:
        broker, home = self.brokers[role], self.workdir / COUNTRIES[role].lower()
        pair = broker.pki.devices[DEVICE_ID]
        policy = (f'exit_ban_lists = ["{EXIT_BAN_LIST}"]\n' if role is Role.EXIT
                  else f'visa_required = ["{VISA_NATIONALITY}"]\n')
        return (f'[[authority]]\nrole = "{role.value}"\ncountry = "{COUNTRIES[role]}"\ndata_dir = "{home}"\n'
                f'[authority.bmis]\nhost = "127.0.0.1"\nport = {broker.device_port}\nprefix = "{prefix(role)}"\n'
                f'ca_file = "{broker.pki.ca}"\ncert_file = "{pair.cert}"\nkey_file = "{pair.key}"\n'
                f'keepalive_s = 5\nreconnect_min_s = 0.1\nreconnect_max_s = 1.0\nretry_delay_s = 0.2\n'
                f'command_keys_dir = "{home / "bmis-keys"}"\n[authority.policy]\n{policy}' + self._console(role))

    def _console(self, role: Role) -> str:
        """Staffed: the authority's own officer console ([authority.officers], config/onestop_people.py)."""
        if not self.staffed:
            return ""
        server = self.brokers[role].pki.server
        return (f'[authority.officers]\nenabled = true\nbind = "127.0.0.1"\nport = {self._console_ports[role]}\n'
                f'cert_file = "{server.cert}"\nkey_file = "{server.key}"\n'
                f'credential_file = "{self._home(role) / "officers"}"\n')

    def _start_bmis(self) -> None:
        for role in Role:
            country = COUNTRIES[role].lower()
            pki = make_test_pki(self.workdir / f"{country}-mqtt-pki", [DEVICE_ID])
            try:
                broker = MosquittoBroker(self.workdir / f"{country}-broker", pki, prefix=prefix(role)).start()
            except (BrokerUnavailable, OSError, subprocess.CalledProcessError) as exc:
                raise BenchUnavailable(f"mosquitto: {exc}") from exc
            self.brokers[role] = broker
            ep = broker.endpoints
            settings = MqttSettings(host=ep.host, port=ep.bmis_port, client_id=f"bmis-{country}", ca_file=ep.ca_file,
                                    username=ep.bmis_user, password=ep.bmis_password, keepalive_s=5,
                                    reconnect_min_s=0.1, reconnect_max_s=0.5)
            self.consumers[role] = BmisConsumer(self.workdir / f"{country}-bmis.db", settings, prefix=prefix(role))
            self.consumers[role].start()
        self.broker, self.consumer = self.brokers[Role.EXIT], self.consumers[Role.EXIT]   # Bench's own names

    def _write_trust_files(self) -> None:
        super()._write_trust_files()
        for role in Role:
            keys = self.workdir / COUNTRIES[role].lower() / "bmis-keys"
            keys.parent.mkdir(parents=True, exist_ok=True)
            write_trust_files(keys, {"bmis.pem": public_key_pem(self.keys[role].public_key())})

    def links_up(self) -> bool:
        sides = self.appliance.bmis      # OnestopSides: both authorities' links, each subscribed
        consumers = all(c.listening for c in self.consumers.values())
        return isinstance(sides, OnestopSides) and consumers and \
            all(side.link is not None and side.link.listening for side in sides.sides.values())

    def stop(self) -> None:
        super().stop()
        for part in list(self.consumers.values()) + list(self.brokers.values()):
            if part is not self.consumer and part is not self.broker:
                try:
                    part.stop()
                except Exception:
                    pass

    def command(self, role: Role, name: str, params: dict) -> dict | None:
        """A signed command from one authority's BMIS to the lane; returns its result."""
        consumer = self.consumers[role]
        correlation = consumer.send_command(DEVICE_ID, name, {"params": params}, signing_key=self.keys[role])
        return consumer.wait_result(correlation, timeout_s=10.0)
