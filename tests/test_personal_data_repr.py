"""Objects that carry personal or biometric data keep it out of their repr (logs, tracebacks)."""
from __future__ import annotations

import numpy as np
import pytest

from drivers.camera.base import Frame
from firmware_app.bmis.alerts.entries import parse_document, parse_person, person_query
from firmware_app.bmis.contract import MessageKind
from firmware_app.bmis.outbox.queue import PendingMessage
from firmware_app.emrtd.report import ChipReport, Verdict
from firmware_app.face.quality import QualityReport
from firmware_app.face.verifier import FaceSample, Inspection
from firmware_app.mrz.compose import MrzFields
from firmware_app.mrz.names import split_name_field

NAME, GIVEN, NUMBER, BIRTH = "ZEYNALOVA", "MIRANDA", "Q8R7T6W5", "1983-11-27"
# A recognisable pixel / embedding value that numpy would print.
MARK = 0.123456


def _quality() -> QualityReport:
    return QualityReport(issues=())


CASES = {
    "mrz name parts": lambda: split_name_field(f"{NAME}<<{GIVEN}"),
    "mrz fields": lambda: MrzFields("P", "UTO", NUMBER, "831127", "F", "310101", "UTO", NAME, GIVEN, "OPT123"),
    "alert document": lambda: parse_document({"id": "d1", "issuing_state": "UTO", "number": NUMBER}),
    "alert person": lambda: parse_person({"id": "p1", "primary": NAME, "secondary": GIVEN, "birth_date": BIRTH}),
    "alert query": lambda: person_query(NAME, GIVEN, "831127"),
    "chip report": lambda: ChipReport(Verdict.PASSED, {"dg1": {"primary_identifier": NAME}}),
    "outbox message": lambda: PendingMessage("m1", MessageKind.CROSSING, 1, "t", NUMBER.encode(), False, None, 0),
    "camera frame": lambda: Frame(np.full((2, 2, 3), 211, np.uint8), 0.0, 1),
    "face sample": lambda: FaceSample(None, _quality(), np.full(4, MARK, np.float32)),
    "face inspection": lambda: Inspection(None, np.full((2, 2), MARK, np.float32), _quality()),
}
SECRETS = (NAME, GIVEN, NUMBER, "831127", "1983", "OPT123", "0.1234", "211")


@pytest.mark.parametrize("name", sorted(CASES))
def test_repr_shows_no_personal_data(name):
    text = repr(CASES[name]())
    assert [secret for secret in SECRETS if secret in text] == []
