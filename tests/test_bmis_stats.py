"""Hourly statistics: buckets, SDG breakdown, age bands, percentiles, persistence, schema."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_app.bmis.contract import problems
from firmware_app.bmis.errors import StatsError
from firmware_app.bmis.stats import AgeBand, CrossingStats, age_band, hour_report, percentile, sample_of
from firmware_app.lane.record import CrossingRecord, DocumentFields, PassageFields
from firmware_app.policy.reasons import Decision, Finding, Outcome, ReasonCode

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def record(ended: datetime, *, outcome="passed", direction="entry", sex="F", birth="900101",
           nationality="UTO", reasons=(), timings=None, document=True) -> dict:
    doc = DocumentFields("P", "UTO", "L898902C3", nationality, birth, sex, "300101", "ERIKSSON",
                         "ANNA MARIA", True) if document else None
    decision = Decision.from_findings(tuple(Finding(r, Outcome.REFER) for r in reasons))
    return CrossingRecord(
        transaction_id="t", device_id="gate-01", direction=direction, mode="normal", outcome=outcome,
        started_at=ended - timedelta(seconds=8), ended_at=ended, document=doc, chip=None, face=None,
        decision=decision, officer_id=None,
        passage=PassageFields(outcome == "passed", outcome == "passed", 1),
        timings_ms=timings if timings is not None else {"document": 900.0, "chip": 2500.0}).to_dict()


@pytest.fixture
def stats(tmp_path):
    s = CrossingStats.open(tmp_path / "stats.db")
    yield s
    s.close()


def cell(report, **dims):
    return sum(c["count"] for c in report["counts"] if all(c[k] == v for k, v in dims.items()))


def test_counts_are_disaggregated(stats):
    stats.add(record(T0 + timedelta(minutes=5)), T0)
    stats.add(record(T0 + timedelta(minutes=6), sex="M", nationality="D<<"), T0)
    stats.add(record(T0 + timedelta(minutes=7), outcome="referred", direction="exit",
                     reasons=(ReasonCode.FACE_NOT_MATCHED, ReasonCode.MINOR), birth="100101"), T0)
    report = stats.report(T0)
    assert report["total"] == 3 and sum(c["count"] for c in report["counts"]) == 3
    assert cell(report, direction="entry", outcome="passed") == 2
    assert cell(report, nationality="D") == 1 and cell(report, sex="M") == 1
    assert cell(report, direction="exit", outcome="referred", reason="face_not_matched",
                age_band="15-17") == 1
    assert report["reason_counts"] == {"face_not_matched": 1, "minor_below_age": 1}
    assert (report["period_start"], report["period_end"]) == ("2026-11-26T10:00:00Z", "2026-11-26T11:00:00Z")


def test_hours_are_separate_buckets(stats):
    stats.add(record(T0 + timedelta(minutes=59, seconds=59)), T0)
    stats.add(record(T0 + timedelta(hours=1)), T0)
    assert stats.report(T0)["total"] == 1 and stats.report(T0 + timedelta(hours=1))["total"] == 1


def test_due_reports_include_empty_running_hours_and_are_sent_once(stats):
    stats.tick(T0)
    stats.add(record(T0 + timedelta(hours=1, minutes=3)), T0 + timedelta(hours=1, minutes=3))
    stats.tick(T0 + timedelta(hours=2))
    due = stats.due_reports(T0 + timedelta(hours=2, minutes=1))
    assert [(r["period_start"][11:16], r["total"]) for r in due] == [("10:00", 0), ("11:00", 1)]
    for report in due:
        stats.mark_reported(report["period_start"])
    assert stats.due_reports(T0 + timedelta(hours=2, minutes=2)) == []
    assert [r["total"] for r in stats.due_reports(T0 + timedelta(hours=3))] == [0]


def test_late_record_for_a_reported_hour_counts_in_the_current_hour(stats):
    stats.add(record(T0 + timedelta(minutes=1)), T0)
    stats.mark_reported(stats.due_reports(T0 + timedelta(hours=1))[0]["period_start"])
    stats.add(record(T0 + timedelta(minutes=59)), T0 + timedelta(hours=1, seconds=5))
    assert stats.report(T0 + timedelta(hours=1))["total"] == 1


def test_a_clock_stepped_back_after_an_hour_was_sent_loses_no_crossing(stats):
    for minute in (10, 20):
        stats.add(record(T0 + timedelta(minutes=minute)), T0 + timedelta(minutes=minute))
    sent = []
    for report in stats.due_reports(T0 + timedelta(hours=1, minutes=1)):
        sent.append(report)
        stats.mark_reported(report["period_start"])
    back = T0 + timedelta(minutes=30)       # the wall clock steps back into the hour already sent
    for minute in (30, 31, 32):
        stats.add(record(back + timedelta(minutes=minute - 30)), back + timedelta(minutes=minute - 30))
    assert stats.due_reports(back + timedelta(minutes=5)) == []     # not "due" before its hour ends
    for report in stats.due_reports(T0 + timedelta(hours=2, minutes=1)):
        sent.append(report)
        stats.mark_reported(report["period_start"])
    assert sum(r["total"] for r in sent) == 5
    assert [r["period_start"][11:16] for r in sent] == ["10:00", "11:00"]


def test_counts_survive_reopen(tmp_path):
    first = CrossingStats.open(tmp_path / "s.db")
    first.add(record(T0), T0)
    first.close()
    second = CrossingStats.open(tmp_path / "s.db")
    assert [r["total"] for r in second.due_reports(T0 + timedelta(hours=1))] == [1]


def test_latency_percentiles_per_step(stats):
    for ms in range(1, 101):
        stats.add(record(T0, timings={"chip": float(ms), "face": 2.0 * ms}), T0)
    latency = stats.report(T0)["latency_ms"]
    assert latency["chip"] == {"count": 100, "p50": 50.0, "p90": 90.0, "p99": 99.0, "max": 100.0}
    assert latency["face"]["p50"] == 100.0


@pytest.mark.parametrize("values, pct, expected", [
    ([5.0], 99, 5.0), ([1.0, 2.0], 50, 1.0), ([1.0, 2.0], 51, 2.0), ([1.0, 2.0, 3.0, 4.0], 90, 4.0)])
def test_nearest_rank_percentile(values, pct, expected):
    assert percentile(values, pct) == expected


def test_report_fits_the_stats_schema(stats):
    stats.add(record(T0, reasons=(ReasonCode.ALERT_LIST_HIT,), outcome="referred"), T0)
    stats.add(record(T0, document=False, outcome="abandoned", timings={}), T0)
    message = {"schema": "stats/1.0", "msg_id": "00000000-0000-4000-8000-000000000000",
               "device_id": "gate-01", "post_id": "post-1", "seq": 1, "boot": 1,
               "time": "2026-11-26T11:00:00Z", "data": stats.report(T0)}
    assert problems("stats.json", message) == []


def test_no_personal_data_in_the_report(stats):
    stats.add(record(T0), T0)
    text = repr(stats.report(T0))
    assert "ERIKSSON" not in text and "L898902C3" not in text and "900101" not in text


@pytest.mark.parametrize("birth, expected", [
    ("900101", AgeBand.A35_44), ("101126", AgeBand.A15_17), ("081127", AgeBand.A15_17),
    ("081126", AgeBand.A18_24), ("600101", AgeBand.A65_PLUS), ("200101", AgeBand.A0_14),
    ("90<<<<", AgeBand.A35_44), ("01<<<<", AgeBand.UNKNOWN), ("9001<<", AgeBand.A35_44),
    ("9X0101", AgeBand.UNKNOWN), ("", AgeBand.UNKNOWN), ("901301", AgeBand.UNKNOWN),
])
def test_age_bands(birth, expected):
    assert age_band(birth, date(2026, 11, 26)) is expected


@pytest.mark.parametrize("sex, expected", [("M", "M"), ("F", "F"), ("<", "X"), ("X", "X"), ("?", "unknown")])
def test_sex_values(sex, expected):
    assert sample_of(record(T0, sex=sex)).sex == expected


def test_odd_records_count_as_unknown():
    rec = record(T0)
    rec.update(direction="sideways", outcome="NOT A CODE", timings_ms={"chip": -1, "x y": 3, "face": True})
    rec["document"]["nationality"] = "1234"
    sample = sample_of(rec)
    assert (sample.direction, sample.outcome, sample.nationality, sample.timings_ms) == (
        "unknown", "unknown", "unknown", {})


@pytest.mark.parametrize("bad", [None, [], {"ended_at": 5}, {"ended_at": "yesterday"}])
def test_unusable_records_are_typed_errors(stats, bad):
    with pytest.raises(StatsError):
        stats.add(bad, T0)


def test_bad_period_start_is_a_typed_error(stats):
    with pytest.raises(StatsError):
        stats.mark_reported("10 o'clock")


ANY = st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=8), st.lists(st.text(max_size=4)),
                st.dictionaries(st.text(max_size=4), st.integers(), max_size=2))
DOCUMENTS = st.one_of(ANY, st.dictionaries(
    st.sampled_from(["sex", "nationality", "date_of_birth", "x"]),
    st.one_of(ANY, st.sampled_from(["M", "F", "<", "UTO", "D<<", "900101", "90<<<<", "<<<<<<"])), max_size=4))
TIMES = st.one_of(ANY, st.datetimes(timezones=st.sampled_from([None, UTC,
                                                               timezone(timedelta(hours=-5))]))
                  .map(datetime.isoformat))


@settings(max_examples=120, deadline=None)
@given(rec=st.fixed_dictionaries({}, optional={
    "ended_at": TIMES, "direction": st.one_of(ANY, st.sampled_from(["entry", "exit"])),
    "outcome": ANY, "document": DOCUMENTS,
    "decision": st.one_of(ANY, st.fixed_dictionaries({"reasons": st.one_of(ANY, st.lists(ANY, max_size=3))})),
    "timings_ms": st.one_of(ANY, st.dictionaries(st.sampled_from(["chip", "face", "Bad step", ""]), ANY,
                                                 max_size=3))}))
def test_fuzzed_records_are_counted_or_refused_with_a_typed_error(rec):
    try:
        sample = sample_of(rec)
    except StatsError:
        return
    report = hour_report(sample.hour, [sample])
    assert report["total"] == 1
    message = {"schema": "stats/1.0", "msg_id": "00000000-0000-4000-8000-000000000000",
               "device_id": "gate-01", "post_id": "post-1", "seq": 1, "boot": 1,
               "time": "2026-11-26T11:00:00Z", "data": report}
    assert problems("stats.json", message) == []


def test_a_crossing_without_a_nationality_is_counted_as_unknown_and_the_report_validates():
    sample = sample_of({"direction": "entry", "ended_at": "2026-11-26T10:15:00+00:00",
                        "decision": {"outcome": "refer", "reasons": ["mrz_invalid"]}, "document": {}})
    report = hour_report(sample.hour, [sample])
    message = {"schema": "stats/1.0", "msg_id": "00000000-0000-4000-8000-000000000000",
               "device_id": "gate-01", "post_id": "post-1", "seq": 1, "boot": 1,
               "time": "2026-11-26T11:00:00Z", "data": report}
    assert report["counts"][0]["nationality"] == "unknown"
    assert problems("stats.json", message) == []
