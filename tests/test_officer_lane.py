"""The review desk as the lane runner's OfficerPort, on the real relays (gpiozero MockFactory):
the desk gets the evidence, an officer's ACCEPT opens the entry, the transaction's end empties the
desk, and a console that throws leaves the lane working (the review times out and refers)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from firmware_app.lane import events as ev
from firmware_app.lane.state import State
from firmware_app.officer import OfficerAudit, ReviewDesk
from firmware_app.policy import LaneMode, ReasonCode
from tests.lane_helpers import mrz
from tests.lane_rig import ENTRY_RELAY, Rig
from tests.polling import wait_until


def utc_now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def assisted(tmp_path):
    rig = Rig()
    audit = OfficerAudit.open(tmp_path / "audit.db", utc_now)
    desk = ReviewDesk(rig.runner.submit, audit, officer_s=2.0, clock=utc_now)
    rig.runner.ports.officer = rig.runner.ports.biometrics = desk
    rig.runner.mode = LaneMode.ASSISTED
    rig.runner.start()
    yield rig, desk
    rig.close()
    audit.close()


def test_the_officer_s_accept_on_the_desk_opens_the_entry(assisted):
    rig, desk = assisted
    rig.runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: desk.pending() is not None)
    review = desk.pending()
    assert rig.state() is State.OFFICER_REVIEW and rig.pin(ENTRY_RELAY).state is False
    assert review.evidence.mrz.document_number == mrz().document_number and review.evidence.face is not None
    desk.decide(review.txn_id, ev.OfficerVerdict.ACCEPT, "officer-7")
    assert wait_until(lambda: rig.pin(ENTRY_RELAY).state is True)      # released for the traveller
    assert rig.runner.data.txn.officer_id == "officer-7"
    rig.runner.submit(ev.DocumentRemoved())
    assert wait_until(lambda: rig.outbox.crossings)


def test_a_console_that_throws_leaves_the_lane_working_and_the_traveller_is_referred(assisted):
    rig, desk = assisted

    class Broken:
        def request_review(self, txn_id, decision, evidence):
            raise RuntimeError("console bug")
    rig.runner.ports.officer = Broken()
    rig.runner.submit(ev.DocumentPresented(mrz()))
    assert wait_until(lambda: rig.outbox.crossings, timeout_s=8.0)
    record = rig.outbox.crossings[0]
    assert record.outcome == "referred" and ReasonCode.OFFICER_NO_ANSWER in record.decision.reasons
    assert rig.runner.healthy() and rig.pin(ENTRY_RELAY).state is False
