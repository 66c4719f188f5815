"""One-stop border post end to end (issue 17): the lane runner on the real gate driver (gpiozero
MockFactory pins), each authority's real BMIS side (its own SQLite outbox, alert store, command
journal) and link to its own real mosquitto (own CA, TLS client certificate, ACL), and a reference
consumer per authority. Chip and face stages are fakes (their own tests cover them).

Travellers: one passes; one has an exit ban in the exit country's lists; one lacks the visa the
entry country requires; one is on the entry country's watch list; one is an impostor. Each BMIS
receives exactly its own record of each once, and nothing of the other's alert data reaches it;
neither authority's alert data reaches what the device shows both: its log (every level, DEBUG
included), the kiosk's events and `gatectl status`' last events."""
from __future__ import annotations

import base64
import hashlib
import http.server
import json
import logging
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gpiozero.pins.mock import MockFactory

from drivers.gate import Door, DoorPins, GateDriver, GateLayout, LayoutKind
from firmware_app.appliance.field_ops import TappedOutbox, recent_events
from firmware_app.appliance.onestop import build_onestop
from firmware_app.bmis.commands.signing import TrustStore, public_key_pem
from firmware_app.config import parse_config
from firmware_app.config.onestop import authorities_by_role
from firmware_app.deploy.joint_requests import JointRequestRunner
from firmware_app.deploy.requests import UpdateRequestInvalid, UpdateRequests
from firmware_app.deploy.wiring import updater_from_config
from firmware_app.face.capture import CaptureOutcome
from firmware_app.kiosk.view import Screen
from firmware_app.lane import events as ev
from firmware_app.lane.journal import LaneJournal
from firmware_app.lane.ports import LanePorts
from firmware_app.lane.runner import LaneRunner
from firmware_app.lane.state import LaneSettings, LaneTimeouts, State
from firmware_app.lane.views import state_view
from firmware_app.policy.onestop import Role
from simulator.bmis_broker import BrokerUnavailable, MosquittoBroker
from simulator.bmis_consumer import BmisConsumer
from simulator.bmis_pki import make_test_pki
from tests.broker_fixtures import consumer_settings, wait_until
from tests.lane_helpers import good_chip, good_face, mrz
from tests.onestop_trust_helpers import TrustedChips
from tests.onestop_trust_helpers import arc as arc_pki
from tests.onestop_trust_helpers import uto as uto_pki

DEVICE = "osbp-lane-01"
ENTRY_RELAY, ENTRY_SENSOR, EXIT_RELAY, EXIT_SENSOR, PRESENCE, EMERGENCY = 17, 27, 22, 23, 24, 25
FAST = LaneTimeouts(document_s=3, chip_s=1, face_s=3, decision_s=3, officer_s=2, enter_s=3, exit_s=3,
                    tailgate_s=3, refer_s=0.3, held_open_s=3, retreat_s=0.3)
# Each authority's alert data: none of it may reach the other side, the log or the kiosk.
UTO_SECRETS = ("uto-ban-91", "exit-bans", "court-order-uto", "exit_ban")
ARC_SECRETS = ("arc-secret-77", "arc-watch", "interpol-red-arc", "visa_required")
TRAVELLERS = {   # name -> (MRZ fields, face outcome)
    "passes": (dict(), CaptureOutcome.MATCH),
    "exit_ban": (dict(primary_identifier="BANNED", secondary_identifier="BOB", document_number="EB0000001"),
                 CaptureOutcome.MATCH),
    "no_visa": (dict(nationality="XXA", document_number="VX0000002"), CaptureOutcome.MATCH),
    "watched": (dict(document_number="AW0000003"), CaptureOutcome.MATCH),
    "impostor": (dict(document_number="IM0000004"), CaptureOutcome.NO_MATCH),
}


def authority_toml(role, country, prefix, broker, tmp_path, extra_policy="", csca_dir=None) -> str:
    pair, home = broker.pki.devices[DEVICE], tmp_path / country.lower()
    policy = 'exit_ban_lists = ["exit-bans"]\n' if role == "exit" else 'visa_required = ["XXA"]\n'
    policy += extra_policy
    own_store = f'csca_dir = "{csca_dir}"\n' if csca_dir else ""
    return (f'[[authority]]\nrole = "{role}"\ncountry = "{country}"\ndata_dir = "{home}"\n{own_store}'
            f'[authority.bmis]\nhost = "127.0.0.1"\nport = {broker.device_port}\nprefix = "{prefix}"\n'
            f'ca_file = "{broker.pki.ca}"\ncert_file = "{pair.cert}"\nkey_file = "{pair.key}"\n'
            f'keepalive_s = 5\nreconnect_min_s = 0.1\nreconnect_max_s = 0.5\nretry_delay_s = 0.2\n'
            f'command_keys_dir = "{home}/keys"\n[authority.policy]\n{policy}')


class Post:
    """Two brokers, two consumers, the two authorities' sides and the lane."""

    def __init__(self, tmp_path, entry_policy: str = "", trust: str | None = None, staffed=None,
                 agreement: str = 'update_authority = "entry"\n'):
        """`trust`: None, the chip is a fake; else the real chip stage reads a UTO-signed document
        (onestop_trust_helpers.py), the exit authority trusts UTO's CSCA, the entry authority
        ARC's ("arc") or has an own store that is absent ("absent", the exit then shares the lane's).
        `staffed`: each authority's own officer console too (tests/test_onestop_officers.py).
        `agreement`: more [onestop] keys (by default the entry authority updates the software)."""
        self.brokers, self.consumers = {}, {}
        self.chips = TrustedChips(tmp_path, trust) if trust else None
        for role, country, prefix in ((Role.EXIT, "UTO", "uto-gates"), (Role.ENTRY, "ARC", "arc-gates")):
            pki = make_test_pki(tmp_path / f"{country}-pki", [DEVICE])
            self.brokers[role] = MosquittoBroker(tmp_path / f"{country}-broker", pki, prefix=prefix).start()
            self.consumers[role] = BmisConsumer(tmp_path / f"{country}-bmis.db", consumer_settings(self.brokers[role]),
                                                prefix=prefix)
        people = staffed.toml if staffed is not None else {Role.EXIT: "", Role.ENTRY: ""}
        text = (f'[device]\nid = "{DEVICE}"\npost_id = "osbp"\ndata_dir = "{tmp_path / "lane"}"\n'
                '[reader]\nurl = "sim://"\n[onestop]\nshared_fields = ["document_number", "nationality"]\n'
                + agreement
                + authority_toml("exit", "UTO", "uto-gates", self.brokers[Role.EXIT], tmp_path,
                                 csca_dir=self.chips and self.chips.csca_dirs.get(Role.EXIT)) + people[Role.EXIT]
                + authority_toml("entry", "ARC", "arc-gates", self.brokers[Role.ENTRY], tmp_path, entry_policy,
                                 csca_dir=self.chips and self.chips.csca_dirs.get(Role.ENTRY)) + people[Role.ENTRY])
        self.config = parse_config(text)
        self.staffed = staffed
        self.keys = {role: Ed25519PrivateKey.generate() for role in Role}
        for authority in self.config.authority:     # each BMIS's command-signing key, in its own trust store
            keys_dir = authority.bmis.command_keys_dir
            keys_dir.mkdir(parents=True)
            (keys_dir / "bmis.pem").write_bytes(public_key_pem(self.keys[Role(authority.role.value)].public_key()))
        self.updates = UpdateRequests(self.config.device.data_dir, 1 << 20)     # the device's one updater
        self.onestop = build_onestop(self.config, lambda: datetime.now(UTC), lambda: True, updates=self.updates)
        self.officers = staffed.build(self) if staffed is not None else None
        self._lists()
        self.face_outcome = CaptureOutcome.MATCH
        self.views = []
        self._stopped = False
        self._lane()

    def _lists(self) -> None:
        self.lists = {Role.EXIT: ("exit-bans", "person", [{"id": "uto-ban-91", "primary": "BANNED", "secondary": "BOB",
                                                           "birth_date": "1974-08-12", "category": "court-order-uto"}]),
                      Role.ENTRY: ("arc-watch", "document", [{"id": "arc-secret-77", "issuing_state": "UTO",
                                                              "number": "AW0000003", "category": "interpol-red-arc"}])}
        for role, (list_id, kind, entries) in self.lists.items():
            self.onestop.sides[role].commands.alerts.replace(list_id, kind, 1, entries)

    def _lane(self) -> None:
        self.factory = MockFactory()
        layout = GateLayout(LayoutKind.MANTRAP, {Door.ENTRY: DoorPins(ENTRY_RELAY, ENTRY_SENSOR),
                                                 Door.EXIT: DoorPins(EXIT_RELAY, EXIT_SENSOR)}, (PRESENCE,), EMERGENCY)
        self.runner = None
        self.gate = GateDriver(layout, self.factory, lambda e: self.runner and self.runner.on_gate_event(e))
        for pin in (ENTRY_SENSOR, EXIT_SENSOR, EMERGENCY):
            self.factory.pin(pin).drive_low()
        face = lambda txn, round_no, feedback, cancelled: good_face().__class__(   # noqa: E731
            self.face_outcome, 0.2 if self.face_outcome is CaptureOutcome.NO_MATCH else 0.7, 0.36, "sface", attempts=1)
        chip = self.chips or (lambda txn, mrz_, cancelled: good_chip())
        # as the appliance wires it: the lane's outbox noted for `gatectl status` (field_ops.py)
        self.events = recent_events(self.config)
        self.tapped = TappedOutbox(self.onestop.outbox, self.events, lambda: datetime.now(UTC))
        desk = self.officers.desk if self.officers is not None else None
        ports = LanePorts(gate=self.gate, chip=chip, face=face,
                          decider=self.onestop.decider, kiosk=self, outbox=self.tapped,
                          journal=LaneJournal.in_memory(), observer=self.onestop.lane_changed,
                          officer=desk, biometrics=desk)
        timeouts = self.staffed.timeouts if self.staffed is not None else FAST
        settings = LaneSettings(device_id=DEVICE, timeouts=timeouts, referral_review=desk is not None)
        self.runner = LaneRunner(settings, ports, lambda: datetime.now(UTC))
        self.restored = []
        self.onestop.attach(self.runner, self.chips and self.chips.stage, lambda: self.restored.append(True))

    def show(self, view) -> None:      # the kiosk port
        self.views.append(view)

    def start(self) -> None:
        for consumer in self.consumers.values():
            consumer.start()
        assert wait_until(lambda: all(c.connected for c in self.consumers.values()))
        time.sleep(0.1)     # subscriptions land before the gate publishes
        self.onestop.start()
        self.runner.start()
        if self.officers is not None:
            self.officers.start()
        assert wait_until(lambda: all(self.onestop.reachable(role) for role in Role)), "links did not connect"
        time.sleep(0.3)     # the links' command subscriptions land

    def pin(self, number):
        return self.factory.pin(number)

    def walk_through(self) -> None:
        assert wait_until(lambda: self.pin(ENTRY_RELAY).state is True)
        self.pin(ENTRY_SENSOR).drive_high()
        self.pin(PRESENCE).drive_low()
        assert wait_until(lambda: self.pin(ENTRY_RELAY).state is False)
        self.pin(ENTRY_SENSOR).drive_low()
        assert wait_until(lambda: self.pin(EXIT_RELAY).state is True)
        self.pin(EXIT_SENSOR).drive_high()
        self.pin(PRESENCE).drive_high()
        assert wait_until(lambda: self.pin(EXIT_RELAY).state is False)
        self.pin(EXIT_SENSOR).drive_low()

    def traveller(self, fields: dict, face: CaptureOutcome, passes: bool) -> None:
        assert wait_until(lambda: self.runner.data.state is State.IDLE)
        before = self.runner.data.txn_count
        self.face_outcome = face
        self.runner.submit(ev.DocumentPresented(mrz(**fields)))
        if passes:
            self.walk_through()
        assert wait_until(lambda: self.runner.data.txn_count > before and self.runner.data.state is State.IDLE)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.runner.stop()
        self.gate.close()
        if self.officers is not None:
            self.officers.stop()
        self.onestop.stop()
        for consumer in self.consumers.values():
            consumer.stop()
        for broker in self.brokers.values():
            broker.stop()


class CapturedLog(logging.Handler):
    """Every record the appliance logs, at every level, formatted as a log file would have it
    (with any traceback)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
        self.lines: list[tuple[int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((record.levelno, self.format(record)))

    def text(self, level: int = logging.DEBUG) -> str:
        return "\n".join(line for levelno, line in self.lines if levelno >= level)


@pytest.fixture
def appliance_log():
    """Everything the appliance logs, DEBUG included, from before it is built to its stop."""
    root, captured = logging.getLogger(), CapturedLog()
    level = root.level
    root.addHandler(captured)
    root.setLevel(logging.DEBUG)
    yield captured
    root.removeHandler(captured)
    root.setLevel(level)


@pytest.fixture
def post(tmp_path, appliance_log, request):
    param = getattr(request, "param", "")
    try:
        made = Post(tmp_path, **(param if isinstance(param, dict) else {"entry_policy": param}))
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    made.start()
    yield made
    made.stop()


def crossings(consumer) -> dict[str, dict]:
    found = {}
    for message in consumer.messages("events/crossing"):
        data = message["data"]
        assert data["transaction_id"] not in found, "a record arrived twice"
        found[data["transaction_id"]] = data
    return found


def test_each_authority_receives_only_its_own_records_and_alert_data(post, appliance_log):
    for role, (list_id, kind, entries) in post.lists.items():    # each list again, through its own BMIS
        replaced = command(post, role, "alerts-replace", {"list_id": list_id, "kind": kind, "version": 2,
                                                          "entries": entries})
        assert replaced["status"] == "ack", replaced
    for name, (fields, face) in TRAVELLERS.items():
        post.traveller(fields, face, passes=name == "passes")
    received = dict.fromkeys(Role)
    assert wait_until(lambda: all(len(post.consumers[r].messages("events/crossing")) >= 5 for r in Role), 20)
    time.sleep(0.3)     # a duplicate would arrive now
    for role in Role:
        received[role] = crossings(post.consumers[role])
        assert len(received[role]) == 5 and post.consumers[role].counts().invalid == 0
    assert received[Role.EXIT].keys() == received[Role.ENTRY].keys()
    by_name = _by_traveller(received)

    uto, arc = by_name["passes"]
    assert (uto["direction"], arc["direction"]) == ("exit", "entry")
    assert uto["outcome"] == arc["outcome"] == "passed"
    assert uto["decision"]["outcome"] == arc["decision"]["outcome"] == "pass"
    assert uto["onestop"]["country"] == "UTO" and arc["onestop"]["partner_country"] == "UTO"
    assert uto["document"]["primary_identifier"] == "" and uto["document"]["document_number"] == "L898902C3"

    uto, arc = by_name["exit_ban"]
    assert uto["outcome"] == arc["outcome"] == "referred"
    assert uto["decision"]["reasons"] == ["exit_ban"] and uto["alert_hit"] is True
    assert uto["decision"]["alert_hits"][0]["entry_id"] == "uto-ban-91"
    assert arc["decision"] == {"outcome": "pass", "reasons": [], "findings": [], "alert_hits": []}
    assert arc["alert_hit"] is False

    uto, arc = by_name["no_visa"]
    assert uto["decision"]["outcome"] == "pass" and arc["decision"]["reasons"] == ["visa_required"]

    uto, arc = by_name["watched"]
    assert arc["decision"]["reasons"] == ["alert_list_hit"]
    assert arc["decision"]["alert_hits"][0]["entry_id"] == "arc-secret-77"
    assert uto["decision"]["outcome"] == "pass" and uto["alert_hit"] is False

    uto, arc = by_name["impostor"]
    assert uto["decision"]["reasons"] == arc["decision"]["reasons"] == ["face_not_matched"]

    _alarms_go_to_their_owner(post, by_name)
    _statistics_are_each_authoritys_own(post)
    post.stop()     # what the stop logs counts too
    assert "BMIS broker connected" in appliance_log.text(logging.INFO)      # the capture saw the appliance's log
    _nothing_of_the_other_side(post, appliance_log)


def _by_traveller(received) -> dict[str, tuple[dict, dict]]:
    numbers = {fields.get("document_number", "L898902C3"): name for name, (fields, _) in TRAVELLERS.items()}
    paired = {}
    for txn_id, uto in received[Role.EXIT].items():
        paired[numbers[uto["document"]["document_number"]]] = (uto, received[Role.ENTRY][txn_id])
    return paired


def _statistics_are_each_authoritys_own(post) -> None:
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours = {now, now - timedelta(hours=1)}        # the run may straddle an hour
    for role in Role:
        reports = [post.onestop.sides[role].commands.stats.report(hour) for hour in hours]
        total = sum(r["total"] for r in reports)
        reasons = {code for r in reports for code in r["reason_counts"]}
        directions = {c["direction"] for r in reports for c in r["counts"]}
        assert total == 5 and directions == {role.value}
        # sex is withheld from both sides' records, yet each counts it from its own control's read
        assert {c["sex"] for r in reports for c in r["counts"]} == {"F"}
        assert ("exit_ban" in reasons) is (role is Role.EXIT)
        assert ("visa_required" in reasons) is (role is Role.ENTRY)


def _alarms_go_to_their_owner(post, by_name) -> None:
    hits = {role: [m["data"].get("transaction_id") for m in post.consumers[role].messages("alarms")
                   if m["data"]["kind"] == "alert_list_hit"] for role in Role}
    assert hits[Role.EXIT] == [by_name["exit_ban"][0]["transaction_id"]]
    assert hits[Role.ENTRY] == [by_name["watched"][1]["transaction_id"]]


# Each authority's alert data: its entries' ids, list names and categories, and the reason its hit gives.
ALERT_DATA = UTO_SECRETS + ARC_SECRETS[:3] + ("alert_list_hit",)
PERSONAL = ("BANNED", "AW0000003")      # the hits' travellers (allowed in DEBUG records only, as everywhere)


def _nothing_of_the_other_side(post, log: CapturedLog) -> None:
    """What each side's BMIS received holds none of the other's alert data; what the device shows
    both (its log at every level, the kiosk's events, `gatectl status`' last events) holds none of
    either's."""
    everything = {role: json.dumps(post.consumers[role].messages()) for role in Role}
    for secret in UTO_SECRETS:
        assert secret not in everything[Role.ENTRY], secret
    for secret in ARC_SECRETS:
        assert secret not in everything[Role.EXIT], secret
    kiosk = json.dumps([view.as_dict() for view in post.views])
    status = json.dumps(post.events.last())
    assert any(levelno == logging.DEBUG for levelno, _ in log.lines) and len(post.events.last()) >= 5   # all seen
    for secret in ALERT_DATA:
        assert secret not in log.text(logging.DEBUG), secret
        assert secret not in kiosk, secret
        assert secret not in status, secret
    for secret in PERSONAL + ARC_SECRETS:
        assert secret not in log.text(logging.INFO), secret
        assert secret not in kiosk, secret
    referrals = {(v.screen, v.instruction) for v in post.views if v.screen is Screen.SEE_OFFICER}
    assert len(referrals) == 1      # the same neutral screen whoever referred and why


@pytest.mark.parametrize("post", ["allow_offline = false\n"], indirect=True)
def test_one_authoritys_link_down_refers_by_its_own_rule_and_the_other_is_unaffected(post):
    post.brokers[Role.ENTRY].stop()
    assert wait_until(lambda: not post.onestop.reachable(Role.ENTRY))
    post.traveller({}, CaptureOutcome.MATCH, passes=False)
    assert wait_until(lambda: len(post.consumers[Role.EXIT].messages("events/crossing")) == 1)
    uto = next(iter(crossings(post.consumers[Role.EXIT]).values()))
    assert uto["outcome"] == "referred" and uto["decision"]["outcome"] == "pass"
    arc_outbox = post.onestop.sides[Role.ENTRY].link.outbox
    assert arc_outbox.has_crossing(uto["transaction_id"])       # kept for when its link returns
    pending = [json.loads(m.payload)["data"] for m in arc_outbox.next_batch(50) if m.kind.suffix == "events/crossing"]
    assert [p["decision"]["reasons"] for p in pending] == [["bmis_unreachable"]]


def command(post, role: Role, name: str, params: dict, key_of: Role | None = None) -> dict:
    consumer = post.consumers[role]
    correlation = consumer.send_command(DEVICE, name, {"params": params, "operator_id": f"{role.value}-officer"},
                                        signing_key=post.keys[key_of or role])
    result = consumer.wait_result(correlation, 10)
    assert result is not None, f"no answer to {name}"
    return result


def test_each_authority_commands_only_its_own_part_and_either_may_close(post):
    lane_mode = lambda: post.runner.data.mode.value       # noqa: E731
    shown = len(post.views)
    assert command(post, Role.ENTRY, "set-mode", {"mode": "closed"})["status"] == "ack"
    assert wait_until(lambda: lane_mode() == "closed")
    assert wait_until(lambda: post.views[-1].screen is Screen.CLOSED)
    closed_by_entry = post.views[shown:]
    assert command(post, Role.EXIT, "set-mode", {"mode": "normal"})["status"] == "ack"     # its own mode only
    time.sleep(0.2)
    assert lane_mode() == "closed"
    forged = command(post, Role.EXIT, "set-mode", {"mode": "normal"}, key_of=Role.ENTRY)    # the other's key
    assert (forged["status"], forged["reason"]) == ("nack", "unknown_key")
    opened = command(post, Role.ENTRY, "override", {"action": "open", "door": "entry"})    # the exit's door
    assert opened["status"] == "nack" and post.pin(ENTRY_RELAY).state is False
    entries = [{"id": "arc-new-1", "issuing_state": "UTO", "number": "NW0000001", "category": "lost"}]
    replaced = command(post, Role.ENTRY, "alerts-replace",
                       {"list_id": "arc-lost", "kind": "document", "version": 1, "entries": entries})
    assert replaced["status"] == "ack"
    assert post.onestop.sides[Role.ENTRY].commands.alerts.check_document("UTO", "NW0000001")
    assert not post.onestop.sides[Role.EXIT].commands.alerts.check_document("UTO", "NW0000001")
    assert command(post, Role.ENTRY, "set-mode", {"mode": "normal"})["status"] == "ack"
    assert wait_until(lambda: lane_mode() == "normal")
    _the_closed_screen_is_the_same_whoever_closed(post, closed_by_entry)
    _only_the_agreed_authority_updates_the_software(post)


def _the_closed_screen_is_the_same_whoever_closed(post, closed_by_entry) -> None:
    """The exit authority closes now, the entry authority too, the exit reopens: the screen stays
    the lane's one neutral closed screen until neither has the lane closed."""
    lane_state = lambda: post.runner.data.state     # noqa: E731
    shown = len(post.views)
    assert command(post, Role.EXIT, "set-mode", {"mode": "closed"})["status"] == "ack"
    assert wait_until(lambda: lane_state() is State.CLOSED)
    assert command(post, Role.ENTRY, "set-mode", {"mode": "closed"})["status"] == "ack"
    assert command(post, Role.EXIT, "set-mode", {"mode": "normal"})["status"] == "ack"   # the entry's still holds
    time.sleep(0.2)
    assert lane_state() is State.CLOSED
    closed_by_exit = post.views[shown:]
    assert command(post, Role.ENTRY, "set-mode", {"mode": "normal"})["status"] == "ack"
    assert wait_until(lambda: lane_state() is State.IDLE and post.views[-1].screen is Screen.WELCOME)
    assert [v.as_dict() for v in closed_by_entry] == [v.as_dict() for v in closed_by_exit] == [state_view(
        State.CLOSED).as_dict()]        # one view, the lane's: no country, no authority, no reason


UPDATE = {"url": "http://127.0.0.1:9/border-gate_9.9_arm64.deb", "sha256": "ab" * 32, "version": "9.9"}


def _only_the_agreed_authority_updates_the_software(post) -> None:
    """[onestop] update_authority = "entry": the exit authority's signed update-apply is refused
    with the reason; the entry authority's, with its own key, is taken (its download then fails:
    nothing is served here)."""
    refused = command(post, Role.EXIT, "update-apply", UPDATE)
    assert (refused["status"], refused["reason"]) == ("nack", "lane_refused")
    assert 'update_authority = "entry"' in refused["detail"] and "exit authority's" in refused["detail"]
    forged = command(post, Role.ENTRY, "update-apply", UPDATE, key_of=Role.EXIT)
    assert (forged["status"], forged["reason"]) == ("nack", "unknown_key")
    taken = command(post, Role.ENTRY, "update-apply", UPDATE)
    assert taken["status"] == "ack" and taken["result"]["state"] == "downloading", taken
    post.updates.last_thread.join(timeout=10)


def _pki_file(pki) -> dict:
    return {"name": "uto-csca.der", "data": base64.b64encode(pki.csca.der).decode()}


def _passive(data: dict) -> tuple[bool, list[str]]:
    """Each record's own passive authentication result: (passed, reasons)."""
    passive = data["chip"]["passive_auth"]
    return passive["result"] == "passed", passive["reasons"]


@pytest.mark.parametrize("post", [{"trust": "arc"}], indirect=True)
def test_each_authority_judges_the_one_chip_read_by_its_own_trust_store_and_updates_only_its_own(post):
    post.traveller({"document_number": "TS0000001"}, CaptureOutcome.MATCH, passes=False)
    assert wait_until(lambda: all(len(post.consumers[r].messages("events/crossing")) == 1 for r in Role))
    uto_rec, arc_rec = (next(iter(crossings(post.consumers[r]).values())) for r in Role)
    assert uto_rec["decision"]["outcome"] == "pass" and _passive(uto_rec)[0] is True     # UTO trusts its own CSCA
    assert arc_rec["decision"]["reasons"] == ["passive_auth_failed"] and arc_rec["decision"]["outcome"] == "refer"
    assert _passive(arc_rec)[0] is False and any("DS_NOT_TRUSTED" in r for r in _passive(arc_rec)[1])
    exit_store = post.onestop.stores.trust.store("exit")
    exit_files = sorted(p.name for p in post.chips.csca_dirs[Role.EXIT].iterdir())
    refused = command(post, Role.EXIT, "pki-update", {"files": [_pki_file(uto_pki())]}, key_of=Role.ENTRY)
    assert (refused["status"], refused["reason"]) == ("nack", "unknown_key")    # ARC's key cannot touch UTO's
    added = command(post, Role.ENTRY, "pki-update", {"files": [_pki_file(uto_pki())]})   # ARC now trusts UTO's CSCA
    assert added["status"] == "ack" and added["result"]["anchors"] == 2, added
    assert post.onestop.stores.trust.store("exit") is exit_store
    assert sorted(p.name for p in post.chips.csca_dirs[Role.EXIT].iterdir()) == exit_files
    post.traveller({"document_number": "TS0000002"}, CaptureOutcome.MATCH, passes=True)
    assert wait_until(lambda: all(len(post.consumers[r].messages("events/crossing")) == 2 for r in Role))
    for role in Role:
        second = crossings(post.consumers[role])
        data = next(d for d in second.values() if d["document"]["document_number"] == "TS0000002")
        assert data["outcome"] == "passed" and _passive(data)[0] is True, role


@pytest.mark.parametrize("post", [{"trust": "absent"}], indirect=True)
def test_an_authority_whose_own_store_is_absent_refers_by_its_own_rule_and_the_other_is_unaffected(post):
    assert "trust_store_entry" in post.onestop.side_health() and post.onestop.trust_faults() == []  # allow_offline
    post.traveller({"document_number": "TA0000001"}, CaptureOutcome.MATCH, passes=False)
    assert wait_until(lambda: all(len(post.consumers[r].messages("events/crossing")) == 1 for r in Role))
    uto_rec, arc_rec = (next(iter(crossings(post.consumers[r]).values())) for r in Role)
    assert uto_rec["decision"]["outcome"] == "pass" and _passive(uto_rec)[0] is True      # the lane's store, shared
    assert arc_rec["decision"]["reasons"] == ["passive_auth_failed"] and arc_rec["decision"]["outcome"] == "refer"
    assert _passive(arc_rec)[0] is False and any("NO_TRUST_STORE" in r for r in _passive(arc_rec)[1])
    shared = command(post, Role.EXIT, "pki-update", {"files": [_pki_file(arc_pki())]})
    assert shared["status"] == "nack"           # no store of its own: the shared one is not UTO's to change
    restored = command(post, Role.ENTRY, "pki-update", {"files": [_pki_file(uto_pki())]})
    assert restored["status"] == "ack" and post.restored == [True], restored
    assert post.onestop.side_health()["trust_store_entry"]["status"] != "failed"
    post.traveller({"document_number": "TA0000002"}, CaptureOutcome.MATCH, passes=True)
    assert wait_until(lambda: all(len(post.consumers[r].messages("events/crossing")) == 2 for r in Role))


@pytest.mark.parametrize("post", [{"agreement": 'update_authority = "both"\n'}], indirect=True)
def test_an_update_both_authorities_must_agree_is_fetched_once_both_signed_it(post, served_package):
    """The same request from each authority's own BMIS, each signed with its own key: the first
    waits, kept on disk across a restart of gate-app; a different one does not complete it, the
    matching one fetches the package and leaves both signed commands for root, which verifies each
    with its own authority's keys."""
    url, digest = served_package
    params = {"url": url, "sha256": digest, "version": "9.9"}
    first = command(post, Role.EXIT, "update-apply", params)
    assert first["status"] == "ack" and first["result"]["state"] == "awaiting_other_authority", first
    assert first["result"]["awaiting"] == "entry"
    pending = post.config.device.data_dir / "updates" / "pending"
    assert [p.name for p in pending.iterdir()] == ["exit.json"]
    _restart_the_authorities_sides(post)        # gate-app restarted: the exit's half read back
    other = command(post, Role.ENTRY, "update-apply", {**params, "version": "9.8"})
    assert other["result"]["state"] == "awaiting_other_authority" and other["result"]["other_differs"], other
    assert post.updates.last_thread is None
    agreed = command(post, Role.ENTRY, "update-apply", params)
    assert agreed["status"] == "ack" and agreed["result"]["state"] == "downloading", agreed
    post.updates.last_thread.join(timeout=10)
    assert list(pending.iterdir()) == []
    [stored] = list((post.config.device.data_dir / "updates" / "requests").glob("*.json"))
    assert len(json.loads(stored.read_text())["commands"]) == 2
    authorities = authorities_by_role(post.config.authority)
    roots = [f"{a.bmis.prefix}/v1/{DEVICE}" for a in authorities]
    keys = [TrustStore.from_directory(a.bmis.command_keys_dir) for a in authorities]
    runner = JointRequestRunner(updater_from_config(post.config), list(zip(roots, keys)))
    applied: list[str] = []
    verified = runner.verify(stored, applied)        # what root checks before installing
    assert verified.params.sha256 == digest and verified.file.read_bytes() == PACKAGE
    assert len(verified.command_ids) == 2 and stored.stem.split("+") == list(verified.command_ids)
    swapped = JointRequestRunner(updater_from_config(post.config), list(zip(roots, reversed(keys))))
    with pytest.raises(UpdateRequestInvalid, match="signature"):
        swapped.verify(stored, applied)     # each command needs its own authority's key


def _restart_the_authorities_sides(post) -> None:
    """What a restart of gate-app does to the update halves: both authorities' sides (links,
    command processors, the device's updater) stopped and built again from the same config and
    disk, on the same brokers; ready once each link is subscribed to its commands."""
    post.onestop.stop()
    post.updates = UpdateRequests(post.config.device.data_dir, 1 << 20)
    post.onestop = build_onestop(post.config, lambda: datetime.now(UTC), lambda: True, updates=post.updates)
    post.onestop.attach(post.runner, None, lambda: None)
    post.onestop.start()
    assert wait_until(lambda: all(side.link.listening for side in post.onestop.sides.values())), "no link"


PACKAGE = b"!<arch>\n" + b"x" * 2048      # root's updater checks it; here only its hash matters


@pytest.fixture
def served_package(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "border-gate_9.9_arm64.deb").write_bytes(PACKAGE)
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(www))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/border-gate_9.9_arm64.deb", hashlib.sha256(PACKAGE).hexdigest()
    server.shutdown()
