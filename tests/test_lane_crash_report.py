"""One transaction is never reported twice (issue 10: 11 of 80 SIGKILLs left both a crossing and a
"voided: unfinished at restart" for one transaction). The outbox insert and the journal close are
two commits in two files; the process is killed between them here (os._exit in the journal's close,
right after the crossing was committed to the real SQLite outbox), and the next start must see the
stored crossing and close the transaction without voiding it."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

from firmware_app.appliance.bmis_side import LaneOutbox
from firmware_app.bmis.contract import Identity
from firmware_app.bmis.link import BmisLink
from firmware_app.bmis.outbox.queue import Outbox
from firmware_app.lane.journal import RECORDED_BEFORE_RESTART, LaneJournal
from tests.lane_rig import Rig
from tests.polling import wait_until

ROOT = Path(__file__).resolve().parents[1]
CRASHING_LANE = textwrap.dedent("""
    import os, sys, time
    from tests.test_lane_crash_report import lane_outbox
    from tests.lane_rig import Rig
    from tests.lane_helpers import good_chip, mrz
    from firmware_app.lane import events as ev
    from firmware_app.lane.journal import LaneJournal

    directory = sys.argv[1]
    journal = LaneJournal.open(directory + "/lane.db")
    journal.end = lambda *args, **kwargs: os._exit(9)      # the crash: after the outbox commit, before the close
    rig = Rig(journal=journal, chip=lambda txn, mrz_, cancelled: (cancelled.wait(5), good_chip())[1])
    rig.outbox = rig.runner.ports.outbox = lane_outbox(directory)
    rig.runner.start()
    rig.runner.submit(ev.DocumentPresented(mrz()))
    rig.runner.submit(ev.DocumentRemoved())
    time.sleep(20)
    sys.exit(0)
""")


class _Offline:
    connected = False


def lane_outbox(directory: str) -> LaneOutbox:
    outbox = Outbox(Path(directory) / "outbox.db", Identity("gate-l", "post-l"),
                    clock=lambda: dt.datetime.now(dt.UTC), id_source=uuid.uuid4)
    return LaneOutbox(BmisLink(outbox, connection_factory=lambda *args: _Offline()))


def reports(directory: Path) -> list[dict]:
    box = lane_outbox(str(directory))._link.outbox
    try:
        return [json.loads(m.payload) for m in box.next_batch(100)]
    finally:
        box.close()


def test_a_crash_between_the_outbox_commit_and_the_journal_close_reports_the_transaction_once(tmp_path):
    crashed = subprocess.run([sys.executable, "-c", CRASHING_LANE, str(tmp_path)], cwd=ROOT, capture_output=True,
                             timeout=60)
    assert crashed.returncode == 9, crashed.stderr.decode()[-2000:]
    (open_txn,) = LaneJournal.open(tmp_path / "lane.db").open_transactions()
    crossings = [m for m in reports(tmp_path) if m["schema"].startswith("events/crossing/")]
    assert [m["data"]["transaction_id"] for m in crossings] == [open_txn.txn_id]

    again = Rig(journal=LaneJournal.open(tmp_path / "lane.db"))
    again.outbox = again.runner.ports.outbox = lane_outbox(str(tmp_path))
    again.runner.start()
    try:
        assert wait_until(lambda: again.runner.data is not None)
    finally:
        again.close()
        again.outbox._link.outbox.close()
    journal = LaneJournal.open(tmp_path / "lane.db")
    assert journal.open_transactions() == [] and journal.outcome(open_txn.txn_id) == RECORDED_BEFORE_RESTART
    about_txn = [m for m in reports(tmp_path) if m["data"].get("transaction_id") == open_txn.txn_id]
    assert [m["schema"].split("/1.")[0] for m in about_txn] == ["events/crossing"], "reported twice"
