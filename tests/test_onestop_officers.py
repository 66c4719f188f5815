"""The people of a one-stop lane (issue 17) end to end: each authority's own officer console (real
HTTPS, real credential file, real SQLite audit in its own data_dir) beside its own BMIS side on its
own real mosquitto (tests/test_onestop_e2e.py's Post, once for the whole module).

A referral reaches only the referring authority's officer, who sees only that authority's findings
and hits; each verdict lands in that authority's audit and record; the lane passes only when every
referring officer accepts; a reject or refer by either keeps the doors secured. Door overrides: each
authority opens only the door its control is in effect at. A search of everything each side's
officers, audit and BMIS got finds none of the other side's alert data or officers."""
from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from datetime import UTC, datetime

import pytest

from firmware_app.appliance.onestop_officers import build_onestop_officers
from firmware_app.lane import events as ev
from firmware_app.lane.stages import PortraitVault
from firmware_app.lane.state import State
from firmware_app.policy.onestop import Role
from simulator.bmis_broker import BrokerUnavailable
from simulator.local_process import free_port
from tests.broker_fixtures import wait_until
from tests.lane_helpers import mrz
from tests.officer_helpers import PASSWORD, ConsoleClient, credential_file, tls_files
from tests.test_onestop_e2e import (
    ARC_SECRETS,
    EMERGENCY,
    ENTRY_RELAY,
    EXIT_RELAY,
    FAST,
    TRAVELLERS,
    UTO_SECRETS,
    Post,
    command,
    crossings,
)

OFFICERS = {Role.EXIT: "uto-officer-1", Role.ENTRY: "arc-officer-1"}


class Staffed:
    """Each authority's [authority.officers]: its own TLS pair, credential file and address."""
    timeouts = dataclasses.replace(FAST, officer_s=12)

    def __init__(self, tmp_path):
        self.ca, self.toml = {}, {}
        for role, name in ((Role.EXIT, "uto"), (Role.ENTRY, "arc")):
            home = tmp_path / f"{name}-console"
            ca, server = tls_files(home)
            self.ca[role] = ca
            self.toml[role] = (f'[authority.officers]\nenabled = true\nbind = "127.0.0.1"\nport = {free_port()}\n'
                               f'cert_file = "{server.cert}"\nkey_file = "{server.key}"\n'
                               f'credential_file = "{credential_file(home, OFFICERS[role])}"\n')

    def build(self, post):
        return build_onestop_officers(post.config, post.onestop, lambda event: post.runner.submit(event),
                                      PortraitVault(keep_live=True), lambda: datetime.now(UTC))


@pytest.fixture(scope="module")
def staffed(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("osbp-staffed")
    try:
        post = Post(tmp_path, staffed=Staffed(tmp_path))
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    post.start()
    post.seen = {role: [] for role in Role}     # every page each side's officer was shown
    post.clients = {}
    for role in Role:
        console = post.officers.consoles[role].console
        client = ConsoleClient(console.port, post.staffed.ca[role])
        assert client.login(OFFICERS[role], PASSWORD).status == 303
        post.clients[role] = client
    yield post
    post.stop()


def page(post, role: Role) -> str:
    text = post.clients[role].get("/").text
    post.seen[role].append(text)
    return text


def present(post, name: str) -> str:
    """The traveller puts the document down; returns the transaction id once the lane waits for review."""
    assert wait_until(lambda: post.runner.data.state is State.IDLE)
    fields, face = TRAVELLERS[name]
    post.face_outcome = face
    post.runner.submit(ev.DocumentPresented(mrz(**fields)))
    assert wait_until(lambda: post.runner.data.state is State.OFFICER_REVIEW), post.runner.data.state
    return post.runner.data.txn.txn_id


def answer(post, role: Role, txn_id: str, verdict: str) -> None:
    assert wait_until(lambda: txn_id in page(post, role))
    assert post.clients[role].decide(txn_id, verdict).status == 303


def finished(post, before: int) -> None:
    assert wait_until(lambda: post.runner.data.txn_count > before and post.runner.data.state is State.IDLE)


@pytest.fixture(scope="module")
def referred(staffed) -> dict[str, str]:
    """Four travellers through the staffed post (once per module): traveller name -> transaction id."""
    post, done = staffed, staffed.runner.data.txn_count
    # exit ban in UTO: only UTO's officer sees it, with UTO's hit; clearing it lets the traveller through
    txn = present(post, "exit_ban")
    assert "uto-ban-91" in page(post, Role.EXIT) and "exit_ban" in post.seen[Role.EXIT][-1]
    assert "No traveller waiting" in page(post, Role.ENTRY)
    answer(post, Role.EXIT, txn, "accept")
    post.walk_through()
    finished(post, done)
    ids = {"exit_ban": txn}
    # ARC's watch list: only ARC's officer sees it; ARC's reject keeps the doors shut
    txn = present(post, "watched")
    assert "arc-secret-77" in page(post, Role.ENTRY) and "No traveller waiting" in page(post, Role.EXIT)
    answer(post, Role.ENTRY, txn, "reject")
    finished(post, done + 1)
    assert post.pin(ENTRY_RELAY).state is False and post.pin(EXIT_RELAY).state is False
    ids["watched"] = txn
    # an impostor is both authorities' referral: one accept is not enough; the lane passes on both
    txn = present(post, "impostor")
    answer(post, Role.EXIT, txn, "accept")
    time.sleep(0.3)
    assert post.runner.data.state is State.OFFICER_REVIEW and post.pin(ENTRY_RELAY).state is False
    answer(post, Role.ENTRY, txn, "accept")
    post.walk_through()
    finished(post, done + 2)
    ids["impostor"] = txn
    # the visa ARC requires: ARC's officer refers it on; UTO's never sees it
    txn = present(post, "no_visa")
    assert "visa_required" in page(post, Role.ENTRY) and "No traveller waiting" in page(post, Role.EXIT)
    answer(post, Role.ENTRY, txn, "refer")
    finished(post, done + 3)
    ids["no_visa"] = txn
    return ids


def test_each_referral_goes_to_the_referring_authoritys_officer_only(staffed, referred):
    _records_carry_each_authoritys_own_officer(staffed, referred)
    _audits_are_each_authoritys_own(staffed, referred)


def _records_carry_each_authoritys_own_officer(post, ids) -> None:
    assert wait_until(lambda: all(set(ids.values()) <= set(crossings(post.consumers[r])) for r in Role), 20)
    uto, arc = (crossings(post.consumers[role]) for role in Role)
    rec = lambda side, name: (side[ids[name]]["outcome"], side[ids[name]]["decision"]["reasons"],   # noqa: E731
                              side[ids[name]]["officer_id"], side[ids[name]]["officer_decision"])
    assert rec(uto, "exit_ban") == ("passed", ["exit_ban", "officer_cleared"], OFFICERS[Role.EXIT], "accept")
    assert rec(arc, "exit_ban") == ("passed", [], None, None)
    assert rec(arc, "watched") == ("rejected", ["alert_list_hit", "officer_rejected"], OFFICERS[Role.ENTRY], "reject")
    assert rec(uto, "watched") == ("rejected", [], None, None)
    assert rec(uto, "impostor") == ("passed", ["face_not_matched", "officer_cleared"], OFFICERS[Role.EXIT], "accept")
    assert rec(arc, "impostor") == ("passed", ["face_not_matched", "officer_cleared"], OFFICERS[Role.ENTRY], "accept")
    assert rec(arc, "no_visa") == ("referred", ["visa_required", "officer_refused"], OFFICERS[Role.ENTRY], "refer")
    assert rec(uto, "no_visa") == ("referred", [], None, None)


def audit_rows(post, role: Role) -> list[tuple]:
    path = post.config.authority[0 if role is Role.EXIT else 1].data_dir / "officer-audit.db"
    with sqlite3.connect(path) as db:
        return db.execute("SELECT officer, action, txn_id, verdict, applied FROM officer_audit ORDER BY id").fetchall()


def _audits_are_each_authoritys_own(post, ids) -> None:
    decided = {role: [(r[0], r[2], r[3]) for r in audit_rows(post, role) if r[1] == "decision"] for role in Role}
    uto, arc = OFFICERS[Role.EXIT], OFFICERS[Role.ENTRY]
    assert decided[Role.EXIT] == [(uto, ids["exit_ban"], "accept"), (uto, ids["impostor"], "accept")]
    assert decided[Role.ENTRY] == [(arc, ids["watched"], "reject"), (arc, ids["impostor"], "accept"),
                                   (arc, ids["no_visa"], "refer")]


def test_assisted_mode_asks_only_the_authority_that_set_it(staffed):
    post, done = staffed, staffed.runner.data.txn_count
    assert command(post, Role.EXIT, "set-mode", {"mode": "assisted"})["status"] == "ack"
    assert wait_until(lambda: post.runner.data.mode.value == "assisted")
    try:
        txn = present(post, "passes")
        assert "No traveller waiting" in page(post, Role.ENTRY) and "Accept: let the traveller" in page(post, Role.EXIT)
        answer(post, Role.EXIT, txn, "accept")
        post.walk_through()
        finished(post, done)
        txn = present(post, "watched")      # assisted by UTO, referred by ARC: both are asked
        assert "arc-secret-77" not in page(post, Role.EXIT) and "arc-secret-77" in page(post, Role.ENTRY)
        answer(post, Role.EXIT, txn, "accept")
        answer(post, Role.ENTRY, txn, "refer")
        finished(post, done + 1)
    finally:
        assert command(post, Role.EXIT, "set-mode", {"mode": "normal"})["status"] == "ack"
    assert wait_until(lambda: post.runner.data.mode.value == "normal")


def test_overrides_open_only_the_door_under_the_commanding_authoritys_control(staffed):
    post = staffed
    assert wait_until(lambda: post.runner.data.state is State.IDLE)
    refused = command(post, Role.ENTRY, "override", {"action": "open", "door": "entry"})
    assert refused["status"] == "nack" and "under the exit authority's control" in refused["detail"]
    both = command(post, Role.EXIT, "override", {"action": "open", "door": "all"})
    assert both["status"] == "nack" and "needs both authorities" in both["detail"]
    assert post.pin(ENTRY_RELAY).state is False and post.pin(EXIT_RELAY).state is False
    assert command(post, Role.EXIT, "override", {"action": "open", "door": "entry"})["status"] == "ack"
    assert wait_until(lambda: post.pin(ENTRY_RELAY).state is True)
    assert command(post, Role.ENTRY, "override", {"action": "close", "door": "all"})["status"] == "ack"  # either
    assert wait_until(lambda: post.pin(ENTRY_RELAY).state is False)
    refused = command(post, Role.EXIT, "override", {"action": "open", "door": "exit"})
    assert refused["status"] == "nack" and "under the entry authority's control" in refused["detail"]
    assert command(post, Role.ENTRY, "override", {"action": "open", "door": "exit"})["status"] == "ack"
    assert wait_until(lambda: post.pin(EXIT_RELAY).state is True)
    assert command(post, Role.EXIT, "override", {"action": "close", "door": "exit"})["status"] == "ack"
    assert wait_until(lambda: post.pin(EXIT_RELAY).state is False and post.runner.data.override is None)
    post.pin(EMERGENCY).drive_high()        # the fire loop opens: every door released, whoever commands
    try:
        assert wait_until(lambda: post.pin(ENTRY_RELAY).state is True and post.pin(EXIT_RELAY).state is True)
        during = command(post, Role.EXIT, "override", {"action": "open", "door": "entry"})
        assert during["status"] == "nack" and "emergency" in during["detail"]      # the lane's own rule
        closing = command(post, Role.ENTRY, "override", {"action": "close", "door": "all"})
        assert closing["status"] == "nack" and "emergency" in closing["detail"]    # nobody re-locks a fire exit
        assert post.pin(ENTRY_RELAY).state is True and post.pin(EXIT_RELAY).state is True   # still released
    finally:
        post.pin(EMERGENCY).drive_low()
    assert wait_until(lambda: post.pin(ENTRY_RELAY).state is False and post.pin(EXIT_RELAY).state is False)


def test_nothing_of_one_side_reaches_the_other_sides_officers_audit_or_bmis(staffed, referred):
    post = staffed
    side = {role: json.dumps(post.consumers[role].messages()) + "".join(post.seen[role])
            + json.dumps(audit_rows(post, role)) for role in Role}
    for secret in UTO_SECRETS + (OFFICERS[Role.EXIT],):
        assert secret not in side[Role.ENTRY], secret
    for secret in ARC_SECRETS + (OFFICERS[Role.ENTRY],):
        assert secret not in side[Role.EXIT], secret
    assert "uto-ban-91" in side[Role.EXIT] and "arc-secret-77" in side[Role.ENTRY]     # the search can find
    kiosk = json.dumps([view.as_dict() for view in post.views])
    for secret in UTO_SECRETS[:3] + ARC_SECRETS[:3] + tuple(OFFICERS.values()):
        assert secret not in kiosk, secret
    referrals = {(v.screen, v.instruction) for v in post.views if v.screen.value == "see_officer"}
    assert len(referrals) == 1      # rejected by ARC or referred on by its officer: the same neutral screen
