"""Issue 9's measurement as a test: every check-digit misread and every OCR confusion of the
ICAO examples (and of a few seeded composed documents) is either restored exactly (a check digit
confirmed the repair), rejected, or invisible to check digits; never valid with changed data."""
from __future__ import annotations

from bench.mrz_misread_bench import check_digit_misreads, composed_documents, confusion_misreads, documents, sweep


def test_icao_examples_never_come_back_valid_with_changed_data(shared_data):
    docs = documents(shared_data)
    assert len(docs) == 8
    digits = sweep(docs, check_digit_misreads).counts
    assert digits["total"] == 306 and digits["invented"] == 0
    # a check-digit misread leaves the data right: the original is always a chip key candidate
    assert digits["candidate"] == digits["total"]
    confusions = sweep(docs, confusion_misreads).counts
    assert confusions["invented"] == 0 and confusions["restored"] > 0


def test_composed_documents_never_come_back_valid_with_changed_data():
    docs = composed_documents(15)
    for misreads in (check_digit_misreads, confusion_misreads):
        counts = sweep(docs, misreads).counts
        assert counts["total"] > 100 and counts["invented"] == 0, counts
