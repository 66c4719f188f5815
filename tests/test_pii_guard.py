"""The personal-data guard's own checks (simulator/pii_guard.py), fast and without a bench: each kind
of a traveller's data is found where a leak would put it (a log record of this process, a line of
gate-app's or gate-safety's log, a BMIS message), only at INFO and above, never inside the crossing
record's document, and a hit shows the line masked. The end-to-end runs that use it: the library's
fast files (in-process) and the power-cut run (gate-app as its own process), see tests/pii_helpers.py."""
from __future__ import annotations

import base64
import datetime as dt
import io
import logging

import numpy as np
import pytest
from PIL import Image

from firmware_app.appliance.journal import TEXT_FORMAT
from simulator.passport_factory import chip_portrait
from simulator.pii_guard import Issued, LogCapture, bmis_hits, needles_of, portrait_of, process_log, search
from simulator.scenario import parse_scenario
from simulator.scenario_traveller import mrz_lines, printed_lines

TODAY = dt.date(2026, 12, 6)


@pytest.fixture(scope="module")
def issued() -> Issued:
    spec = parse_scenario({"traveller": [{"label": "t", "person": "hopper"}]}).travellers[0]
    lines = mrz_lines(3, spec, TODAY)
    noise = np.random.default_rng(3).integers(0, 255, (320, 240, 3), dtype=np.uint8)
    photo = io.BytesIO()
    Image.fromarray(noise).save(photo, "PNG")
    return Issued(3, lines, printed_lines(spec, lines), chip_portrait(photo.getvalue()))


def _kinds(text: str, issued: Issued, level: int = logging.INFO) -> set[str]:
    from simulator.pii_guard import Record
    return {kind for hit in search([Record("x", level, text)], needles_of([issued])) for kind in hit.kinds}


def test_every_kind_of_personal_data_is_found_as_the_run_issued_it(issued):
    portrait = issued.portrait
    middle = len(portrait) // 2
    cases = {
        "surname": "holder TRAVELLER", "given_names": "given DEMO D", "name_field": "TRAVELLER<<DEMO<D",
        "document_number": "doc GS0000003 read", "birth_date": "born 850315",
        "mrz_line": issued.lines[1],
        "portrait": f"dg2 {portrait[:40].hex()}",
        "chip_data": f"R-APDU 61135f1f {b'P<UTO'.hex()}{b'GS0000003'.hex().upper()}9000",
    }
    for kind, text in cases.items():
        assert kind in _kinds(text, issued), kind
    assert "birth_date" in _kinds("born 1985-03-15", issued)
    assert "portrait" in _kinds(base64.b64encode(portrait).decode(), issued)                      # whole, aligned
    assert "portrait" in _kinds(base64.b64encode(portrait[middle - 1:middle + 60]).decode(), issued)  # any slice
    assert "portrait" in _kinds(repr(portrait[middle:middle + 40]), issued)
    assert "portrait" in _kinds(portrait[:40].hex().upper(), issued)


def test_what_is_not_personal_data_is_not_a_hit(issued):
    for text in ("traveller referred: face_not_matched", "txn a850315f done", "score 0.850315",
                 "gate-lane-01 DEMO E", "document GS0000004", "port 8503"):
        assert _kinds(text, issued) == set(), text


def test_a_planted_info_record_is_caught_masked_and_a_debug_one_is_not_captured(issued):
    with LogCapture() as captured:
        logging.getLogger("firmware_app.lane.flow").info("read %s born %s", "GS0000003", "1985-03-15")
        logging.getLogger("firmware_app.lane.flow").debug("mrz %s", issued.lines)
    assert [r.level for r in captured.records] == [logging.INFO]        # DEBUG: not even made
    (hit,) = search(captured.records, needles_of([issued]))
    assert hit.source == "firmware_app.lane.flow" and set(hit.kinds) == {"document_number", "birth_date"}
    assert "GS0000003" not in hit.line() and "1985" not in hit.line()
    assert hit.line() == "firmware_app.lane.flow INFO [document_number, birth_date]: " \
                         "read <document_number> born <birth_date>"
    assert "GS0000003" not in repr(issued) and "TRAVELLER" not in repr(issued)


def test_the_capture_opens_the_root_logger_to_info_and_restores_it():
    root = logging.getLogger()
    before = root.level
    root.setLevel(logging.WARNING)
    try:
        with LogCapture():
            assert root.getEffectiveLevel() == logging.INFO
        assert root.level == logging.WARNING
    finally:
        root.setLevel(before)


def _line(name: str, level: int, message: str, exc: bool = False) -> str:
    record = logging.LogRecord(name, level, __file__, 1, message, None, None)
    if exc:
        try:
            raise ValueError("bad " + message)
        except ValueError:
            import sys
            record.exc_info = sys.exc_info()
    return logging.Formatter(TEXT_FORMAT).format(record)


def test_a_process_log_is_read_record_by_record_as_gate_app_writes_it(issued):
    text = "\n".join(["--- start 1",
                      _line("firmware_app.bmis.link", logging.INFO, "BMIS broker connected"),
                      _line("firmware_app.lane.flow", logging.DEBUG, "mrz " + issued.lines[0]),
                      _line("firmware_app.emrtd", logging.ERROR, "chip of TRAVELLER", exc=True),
                      "a bare print of 1985-03-15",
                      _line("drivers.gate.safety", logging.WARNING, "door held")])
    records = process_log("gate-app", text)
    assert [(r.source, r.level) for r in records] == [
        ("gate-app:firmware_app.bmis.link", logging.INFO), ("gate-app:firmware_app.lane.flow", logging.DEBUG),
        ("gate-app:firmware_app.emrtd", logging.ERROR), ("gate-app:stderr", logging.WARNING),
        ("gate-app:drivers.gate.safety", logging.WARNING)]
    assert "Traceback" in records[2].text and "ValueError: bad chip of TRAVELLER" in records[2].text
    hits = search(records, needles_of([issued]))
    assert [(h.source, h.kinds) for h in hits] == [("gate-app:firmware_app.emrtd", ("surname",)),
                                                   ("gate-app:stderr", ("birth_date",))]


def _crossing(document: dict, **data) -> dict:
    return {"kind": "events/crossing", "msg_id": "m1", "data": {"transaction_id": "t1", "document": document,
                                                               "face": None, **data}}


def test_bmis_messages_may_carry_the_document_only_in_a_crossing_record(issued):
    needles = needles_of([issued])
    document = {"document_number": "GS0000003", "primary_identifier": "TRAVELLER", "date_of_birth": "850315"}
    assert bmis_hits([_crossing(document)], needles) == []
    leaks = [_crossing(document, face={"portrait": base64.b64encode(issued.portrait).decode()}),
             {"kind": "events/exception", "msg_id": "m2", "data": {"detail": "mrz GS0000003 unreadable"}},
             {"kind": "alarms", "msg_id": "m3", "data": {"kind": "alert_list_hit", "detail": "TRAVELLER"}},
             _crossing({**document, "portrait": issued.portrait[:40].hex()})]
    hits = bmis_hits(leaks, needles)
    assert sorted((h.source, h.kinds) for h in hits) == [
        ("bmis:alarms", ("surname",)), ("bmis:events/crossing", ("portrait",)),
        ("bmis:events/crossing", ("portrait",)), ("bmis:events/exception", ("document_number",))]


def test_the_portrait_is_found_inside_a_dg2(issued):
    assert portrait_of(b"\x75\x82\x01\x00" + b"\x5f\x2e" + issued.portrait) == issued.portrait
    assert portrait_of(b"no image") == b"no image"


def test_records_and_documents_print_without_their_text(issued):
    from simulator.pii_guard import Record
    record = Record("firmware_app.lane", logging.INFO, "read GS0000003")
    assert "GS0000003" not in repr(record) and "GS0000003" not in repr([issued, record])
