"""The people of a one-stop lane, piece by piece (issue 17): the lane's referral review and what an
officer may clear (on the real relays), the split of one case between the authorities' desks, each
authority's record of its own officer, the [authority.officers] / [authority.kiosk] config rules
(`gatectl config check`), and each authority's wording served by the real kiosk while the referral
screen stays the lane's neutral one. End to end on real brokers: tests/test_onestop_officers.py."""
from __future__ import annotations

import dataclasses
import json
import urllib.request

import pytest

from firmware_app.appliance.parts import build_kiosk
from firmware_app.config import parse_config
from firmware_app.errors import ConfigError
from firmware_app.kiosk.assets import load_translation
from firmware_app.lane import events as ev
from firmware_app.lane.state import State
from firmware_app.onestop.decider import JointDecisions, Verdict
from firmware_app.onestop.records import Agreement, authority_record
from firmware_app.onestop.reviews import OnestopReviews
from firmware_app.policy import Decision, Evidence, Finding, Outcome, ReasonCode
from firmware_app.policy.evidence import TrustView
from firmware_app.policy.onestop import JointDecision, Role
from simulator.local_process import free_port
from tests.lane_helpers import good_chip, mrz
from tests.lane_rig import ENTRY_RELAY, Rig
from tests.polling import wait_until
from tests.test_onestop_config import BASE, authority

VISA = Decision.from_findings((Finding(ReasonCode.VISA_REQUIRED, Outcome.REFER),))
BAN = Decision.from_findings((Finding(ReasonCode.EXIT_BAN, Outcome.REFER),))
EXPIRED = Decision.from_findings((Finding(ReasonCode.DOCUMENT_EXPIRED, Outcome.REJECT),))
PASS = Decision(Outcome.PASS)


# --- the lane: a one-stop referral is reviewed, and cleared only by an identified ACCEPT ---------
class Desk:
    def __init__(self):
        self.requests = []

    def request_review(self, txn_id, decision, evidence=None):
        self.requests.append((txn_id, decision))

    def discard(self, txn_id):
        pass


@pytest.fixture
def reviewing_lane():
    rig = Rig()
    rig.decision = JointDecision(PASS, VISA).lane
    rig.runner.ports.decider = lambda request: rig.decision
    rig.runner.settings = dataclasses.replace(rig.runner.settings, referral_review=True)
    rig.desk = rig.runner.ports.officer = Desk()
    rig.runner.start()
    yield rig
    rig.close()


def review(rig) -> str:
    rig.runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: rig.desk.requests and rig.state() is State.OFFICER_REVIEW)
    return rig.desk.requests[-1][0]


def test_an_identified_accept_clears_a_one_stop_referral(reviewing_lane):
    rig = reviewing_lane
    rig.runner.submit(ev.OfficerDecision(review(rig), ev.OfficerVerdict.ACCEPT, "entry"))
    assert wait_until(lambda: rig.pin(ENTRY_RELAY).state is True)
    assert rig.runner.data.txn.decision.reasons == (ReasonCode.VISA_REQUIRED, ReasonCode.OFFICER_CLEARED)


@pytest.mark.parametrize("decision, officer", [(JointDecision(PASS, VISA).lane, ""),         # nobody answerable
                                               (JointDecision(EXPIRED, PASS).lane, "exit")])  # a reject finding
def test_no_accept_clears_a_reject_nor_an_unidentified_one(reviewing_lane, decision, officer):
    rig = reviewing_lane
    rig.decision = decision
    rig.runner.submit(ev.OfficerDecision(review(rig), ev.OfficerVerdict.ACCEPT, officer))
    assert wait_until(lambda: rig.outbox.crossings)
    assert rig.outbox.crossings[-1].outcome in ("referred", "rejected") and rig.pin(ENTRY_RELAY).state is False


# --- the split: each desk sees only its own part ---------------------------------------------
class Recorder:
    def __init__(self):
        self.requests, self.discarded, self.evidence = [], [], []

    def request_review(self, txn_id, decision, evidence=None, *, clearable=False):
        self.requests.append((txn_id, decision, clearable))
        self.evidence.append(evidence)

    def discard(self, txn_id):
        self.discarded.append(txn_id)


def split(exit_: Decision, entry: Decision, assisted=(), evidence=None):
    memory, lane = JointDecisions(), []
    memory.remember("t1", JointDecision(exit_, entry))
    reviews = OnestopReviews(memory, lambda role: role in assisted, lane.append)
    desks = {role: Recorder() for role in Role}
    for role, desk in desks.items():
        reviews.add_desk(role, desk)
    reviews.request_review("t1", JointDecision(exit_, entry).lane, evidence)
    return reviews, desks, lane, memory


def test_only_the_referring_authority_is_asked_and_sees_only_its_own_decision():
    reviews, desks, lane, _ = split(BAN, PASS)
    assert desks[Role.EXIT].requests == [("t1", BAN, True)] and desks[Role.ENTRY].requests == []
    reviews.answer(Role.ENTRY, ev.OfficerDecision("t1", ev.OfficerVerdict.ACCEPT, "arc-1"))    # not theirs
    assert lane == []
    reviews.answer(Role.EXIT, ev.OfficerDecision("t1", ev.OfficerVerdict.ACCEPT, "uto-1"))
    assert lane == [ev.OfficerDecision("t1", ev.OfficerVerdict.ACCEPT, "exit")]


def test_the_lane_hears_the_first_refusal_at_once_and_accept_only_when_all_accepted():
    reviews, desks, lane, memory = split(BAN, VISA)
    reviews.answer(Role.EXIT, ev.OfficerDecision("t1", ev.OfficerVerdict.ACCEPT, "uto-1"))
    assert lane == []
    reviews.answer(Role.ENTRY, ev.OfficerDecision("t1", ev.OfficerVerdict.REFER, "arc-1"))
    assert lane == [ev.OfficerDecision("t1", ev.OfficerVerdict.REFER, "entry+exit")]
    assert memory.verdicts("t1") == {Role.EXIT: Verdict("uto-1", ev.OfficerVerdict.ACCEPT),
                                     Role.ENTRY: Verdict("arc-1", ev.OfficerVerdict.REFER)}
    reviews, desks, lane, _ = split(BAN, VISA)
    reviews.answer(Role.EXIT, ev.OfficerDecision("t1", ev.OfficerVerdict.REJECT, "uto-1"))
    assert lane == [ev.OfficerDecision("t1", ev.OfficerVerdict.REJECT, "exit")]
    assert desks[Role.ENTRY].discarded == ["t1"]         # withdrawn from the other desk at once


def test_an_accept_of_an_own_reject_counts_as_refer_and_assisted_mode_asks_its_authority():
    reviews, desks, lane, _ = split(EXPIRED, PASS)
    assert desks[Role.EXIT].requests == [("t1", EXPIRED, False)]      # not offered as clearable
    reviews.answer(Role.EXIT, ev.OfficerDecision("t1", ev.OfficerVerdict.ACCEPT, "uto-1"))
    assert lane[0].verdict is ev.OfficerVerdict.REFER
    _, desks, _, _ = split(PASS, PASS, assisted=(Role.ENTRY,))
    assert desks[Role.EXIT].requests == [] and desks[Role.ENTRY].requests == [("t1", PASS, False)]


def test_a_case_not_attributable_to_an_authority_is_referred_and_shown_to_nobody():
    lane, desks = [], {role: Recorder() for role in Role}
    reviews = OnestopReviews(JointDecisions(), lambda role: True, lane.append)
    for role, desk in desks.items():
        reviews.add_desk(role, desk)
    reviews.request_review("unknown", BAN)
    assert lane[0].verdict is ev.OfficerVerdict.REFER and not any(d.requests for d in desks.values())


def test_each_record_carries_its_own_officer_and_verdict_only():
    from tests.test_onestop_parts import record as record_of
    joint = JointDecision(BAN, VISA)
    lane = joint.lane.with_finding(Finding(ReasonCode.OFFICER_REFUSED, Outcome.REFER))
    record = dataclasses.replace(record_of(lane), officer_id="entry+exit", officer_decision="refer")
    verdicts = {Role.EXIT: Verdict("uto-1", ev.OfficerVerdict.ACCEPT), Role.ENTRY: Verdict("arc-1",
                                                                                          ev.OfficerVerdict.REFER)}
    agreement = Agreement(frozenset({"document_number"}), {Role.EXIT: "UTO", Role.ENTRY: "ARC"})
    uto, arc = (authority_record(record, joint, role, agreement, verdicts).to_dict() for role in Role)
    assert (uto["officer_id"], uto["officer_decision"]) == ("uto-1", "accept")
    assert uto["decision"]["reasons"] == ["exit_ban", "officer_cleared"] and uto["decision"]["outcome"] == "refer"
    assert (arc["officer_id"], arc["decision"]["reasons"]) == ("arc-1", ["visa_required", "officer_refused"])
    assert "uto-1" not in json.dumps(arc) and "arc-1" not in json.dumps(uto)


# --- config ----------------------------------------------------------------------------------
def staffed_text(tmp_path, exit_extra="", entry_extra="", lane="") -> str:
    def officers(name, port):
        return (f'[authority.officers]\nenabled = true\nport = {port}\ncert_file = "{tmp_path}/{name}.pem"\n'
                f'key_file = "{tmp_path}/{name}.key"\ncredential_file = "{tmp_path}/{name}-officers"\n')
    return (BASE + lane + '[onestop]\nshared_fields = ["document_number"]\n' + authority()
            + officers("uto", 8443) + exit_extra
            + authority(role="entry", country="ARC") + officers("arc", 8444) + entry_extra)


def problems(text: str) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(text)
    return " | ".join(err.value.problems)


def test_each_authority_has_its_own_console_credentials_and_audit(tmp_path):
    config = parse_config(staffed_text(tmp_path))
    assert [a.officers.port for a in config.authority] == [8443, 8444]
    assert "own address" in problems(staffed_text(tmp_path).replace("port = 8444\n", "port = 8443\n"))
    assert "own credential_file" in problems(staffed_text(tmp_path).replace("arc-officers", "uto-officers"))
    lane_console = f'[officer]\nenabled = true\ncert_file = "{tmp_path}/l.pem"\nkey_file = "{tmp_path}/l.key"\n'
    assert "no [officer] console of its own" in problems(staffed_text(tmp_path, lane=lane_console))
    one = staffed_text(tmp_path).replace("enabled = true\nport = 8444", "enabled = false\nport = 8444")
    assert "both authorities or neither" in problems(one)


WELCOME = '[authority.kiosk.texts.en]\n"title.welcome" = "Leaving Utopia"\n'
PROCEED = '[authority.kiosk.texts.en]\n"title.please_proceed" = "Welcome to Arcadia"\n' \
          '"body.please_proceed@id_card" = "Take your ID card: welcome to Arcadia."\n'


@pytest.mark.parametrize("entry_extra, says", [
    ('[authority.kiosk.texts.en]\n"title.see_officer" = "Arcadia refused you"\n', "stay neutral"),
    ('[authority.kiosk.texts.en]\n"body.closed" = "Arcadia has closed its border"\n', "or closed the lane"),
    ('[authority.kiosk.texts.en]\n"title.welcome" = "Hello"\n', "may word only please_proceed"),
    ('[authority.kiosk.texts.de]\n"title.please_proceed" = "Willkommen"\n', "not one of [kiosk] languages"),
    ('[authority.kiosk.texts.en]\n"title.please_proceed" = "a\\u0007b"\n', "no control characters"),
    ('[authority.kiosk.texts.en]\n"ui.more_time" = "More"\n', "not a screen text key"),
])
def test_an_authority_words_only_its_own_screens(tmp_path, entry_extra, says):
    assert says in problems(staffed_text(tmp_path, WELCOME, entry_extra))


def test_config_check_refuses_a_worded_referral_screen(tmp_path):
    from firmware_app.cli import main as gatectl
    bad = tmp_path / "bad.toml"
    bad.write_text(staffed_text(tmp_path, WELCOME, '[authority.kiosk.texts.en]\n"body.see_officer" = "x"\n'))
    good = tmp_path / "good.toml"
    good.write_text(staffed_text(tmp_path, WELCOME, PROCEED))
    assert gatectl(["config", "check", str(bad)]) == 2
    assert gatectl(["config", "check", str(good)]) == 0


def test_the_kiosk_serves_each_authoritys_wording_and_the_neutral_referral(tmp_path):
    config = parse_config(staffed_text(tmp_path, WELCOME, PROCEED).replace(
        "[onestop]", f"[kiosk]\nport = {free_port()}\nlanguages = [\"en\", \"fr\"]\n[onestop]"))
    kiosk = build_kiosk(config, lambda event: None)
    kiosk.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{kiosk.port}/i18n/en.json", timeout=5) as answer:
            served = json.loads(answer.read())
        with urllib.request.urlopen(f"http://127.0.0.1:{kiosk.port}/i18n/fr.json", timeout=5) as answer:
            french = json.loads(answer.read())
    finally:
        kiosk.stop()
    default = load_translation("en")
    assert served["title.welcome"] == "Leaving Utopia" and served["title.please_proceed"] == "Welcome to Arcadia"
    assert served["body.please_proceed@id_card"] == "Take your ID card: welcome to Arcadia."
    changed = {key for key in default if served[key] != default[key]}
    assert changed == {"title.welcome", "title.please_proceed", "body.please_proceed@id_card"}
    assert french == load_translation("fr")          # no wording given: the lane's own texts



def test_each_desk_sees_the_chip_as_its_own_trust_store_judged_it():
    chip = dataclasses.replace(good_chip(), views=((Role.EXIT.value, TrustView(None, None, None)),))
    _, desks, _, _ = split(BAN, VISA, evidence=Evidence(None, chip))
    uto, arc = (desks[role].evidence[-1].chip for role in Role)
    assert uto.passive is None and uto.views == ()               # UTO's own store's view, nothing else
    assert arc.passive is chip.passive and chip.passive is not None     # ARC has no own view: the lane's
