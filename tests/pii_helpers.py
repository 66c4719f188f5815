"""The personal-data guard's checks, shared by the scenario tests that run travellers end to end
(tests/test_sim_library.py in-process, tests/test_sim_power_cut.py with gate-app and gate-safety as
their own processes). simulator/pii_guard.py does the searching; these make it impossible to pass
vacuously: the capture must hold the appliance's own records, and the same search must find the
run's own personal data when it is logged at DEBUG with DEBUG capture on."""
from __future__ import annotations

import base64
import logging

from firmware_app.mrz import parse
from simulator.pii_guard import Issued, LogCapture, Record, bmis_hits, needles_of, process_log, search

PLANTED_BY = "firmware_app.lane"     # an appliance logger: the plant goes the way a leak would
MUST_FIND = {"mrz_line", "name_field", "surname", "given_names", "document_number", "birth_date", "portrait"}


def assert_no_personal_data(records: list[Record], messages: list[dict], issued: list[Issued]) -> None:
    """No log record at INFO or above, and no BMIS message beyond what the contract allows, carries
    any traveller's personal data; a hit names where, at what level, which kind, the line masked."""
    needles = needles_of(issued)
    assert issued and needles, "the run issued no documents: nothing was searched for"
    hits = search(records, needles) + bmis_hits(messages, needles)
    assert not hits, "personal data above DEBUG:\n" + "\n".join(hit.line() for hit in hits[:20])


def assert_bmis_search_bites(messages: list[dict], issued: list[Issued]) -> None:
    """The crossing records do carry the documents (which the guard lets through): the same needles
    find them in the unfiltered records, so a filter that dropped everything could not pass."""
    crossings = [Record("bmis:events/crossing", logging.INFO, repr(m["data"].get("document")))
                 for m in messages if m["kind"] == "events/crossing"]
    found = {kind for hit in search(crossings, needles_of(issued)) for kind in hit.kinds}
    assert {"document_number", "birth_date", "surname"} <= found, found


def plant_at_debug(captured: LogCapture, issued: Issued) -> None:
    """Log the traveller's data at DEBUG through an appliance logger with the capture at DEBUG
    (attached again for the plant when its run is over)."""
    root = logging.getLogger()
    levels, attached = (root.level, captured.level), captured in root.handlers
    root.addHandler(captured)
    root.setLevel(logging.DEBUG)
    captured.setLevel(logging.DEBUG)
    try:
        middle = len(issued.portrait) // 2      # a run from inside the portrait, base64 at its own alignment
        fields = parse(list(issued.lines), repair=False)
        logging.getLogger(PLANTED_BY).debug("guard self-check: %s, %s; %s; %s (%s) mrz=%s portrait=%s b64=%s",
                                            fields.primary_identifier, fields.secondary_identifier,
                                            fields.document_number, fields.birth_date, fields.birth_date_iso,
                                            list(issued.lines), issued.portrait[:32].hex(),
                                            base64.b64encode(issued.portrait[middle - 7:middle + 41]).decode())
    finally:
        root.setLevel(levels[0])
        captured.setLevel(levels[1])
        if not attached:
            root.removeHandler(captured)


def run_records(captured: LogCapture, bench) -> list[Record]:
    """The run's records: this process's; the log files of gate-app and gate-safety when the appliance
    ran as its own processes (simulator/gate_app_bench.py; stdout and stderr go there); and what
    mosquitto and pcscd wrote (not ours to keep clean, but a leak there is a leak all the same)."""
    records = list(captured.records)
    pcscd = bench.pcscd or bench.lent_pcscd
    logs = {"gate-app": bench.workdir / "gate-app.log", "gate-safety": bench.workdir / "gate-safety.log",
            "mosquitto": bench.workdir / "broker" / "mosquitto.log"}
    if pcscd is not None:
        logs["pcscd"] = pcscd.workdir / "pcscd.log"
    for process, path in logs.items():
        if path.exists():
            records += process_log(process, path.read_text(errors="replace"))
    return records


def assert_capture_bites(captured: LogCapture, records: list[Record], issued: list[Issued]) -> None:
    """The capture saw the appliance's own INFO records (in this process or in gate-app's log), and
    the DEBUG plant is found by the same search at DEBUG (and only there)."""
    assert any("firmware_app" in r.source and r.level >= logging.INFO for r in records), \
        "no INFO record of the appliance was captured"
    plant_at_debug(captured, issued[0])
    planted = [hit for hit in search(captured.records, needles_of(issued), level=logging.DEBUG)
               if hit.level == logging.DEBUG and hit.source == PLANTED_BY]
    assert len(planted) == 1 and set(planted[0].kinds) >= MUST_FIND, planted
