"""One-stop statistics (issue 17): each authority counts its own crossings; sex, age band and
nationality come from the document its own control read ([onestop] statistics = "own_control",
the default) even when the agreement withholds them from its records, or from its records only
("shared_fields": a withheld field counts as unknown). The stored record is the same either way.
Real SQLite outbox and statistics store."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from firmware_app.appliance.bmis_side import local_link
from firmware_app.appliance.onestop_stats import AuthorityLaneOutbox
from firmware_app.bmis.stats import CrossingStats, hour_of
from firmware_app.config import parse_config
from firmware_app.config.onestop import StatisticsBasis
from firmware_app.lane.record import CrossingRecord, DocumentFields, PassageFields
from firmware_app.onestop.records import Agreement, authority_record
from firmware_app.policy import Decision, Outcome
from firmware_app.policy.onestop import JointDecision, Role
from tests.lane_helpers import mrz

NOW = datetime.now(UTC)


def _record() -> CrossingRecord:
    return CrossingRecord("t1", "osbp-1", "entry", "normal", "passed", NOW, NOW,
                          DocumentFields.from_mrz(mrz(nationality="XXA")), None, None, Decision(Outcome.PASS), None,
                          PassageFields(True, True, 1))


@pytest.mark.parametrize("basis, dims", [
    (StatisticsBasis.OWN_CONTROL, {("F", "XXA")}),
    (StatisticsBasis.SHARED_FIELDS, {("unknown", "unknown")}),
])
def test_withheld_fields_count_from_the_own_control_or_as_unknown(tmp_path, basis, dims):
    config = parse_config(f'[device]\nid = "osbp-1"\npost_id = "p"\ndata_dir = "{tmp_path}"\n[reader]\nurl = "sim://"\n')
    agreement = Agreement(frozenset({"document_number"}), {Role.EXIT: "UTO", Role.ENTRY: "ARC"},
                          basis is StatisticsBasis.OWN_CONTROL)
    link, stats = local_link(config, lambda: NOW), CrossingStats.open(tmp_path / "stats.db")
    joint = JointDecision(Decision(Outcome.PASS), Decision(Outcome.PASS))
    try:
        own = authority_record(_record(), joint, Role.ENTRY, agreement)
        AuthorityLaneOutbox(link, stats, lambda: NOW).crossing(own)
        [stored] = [json.loads(m.payload)["data"] for m in link.outbox.next_batch(10)
                    if m.kind.suffix == "events/crossing"]
        report = stats.report(hour_of(NOW))
    finally:
        link.outbox.close()
        stats.close()
    document = stored["document"]
    assert (document["sex"], document["nationality"], document["date_of_birth"]) == ("", "", "")   # withheld
    assert {(c["sex"], c["nationality"]) for c in report["counts"]} == dims
    assert {c["age_band"] == "unknown" for c in report["counts"]} == {basis is StatisticsBasis.SHARED_FIELDS}
    assert report["total"] == 1 and {c["direction"] for c in report["counts"]} == {"entry"}


def test_the_agreement_defaults_to_counting_the_own_control():
    config = parse_config('[device]\nid = "g"\npost_id = "p"\n[reader]\nurl = "sim://"\n'
                          '[onestop]\nshared_fields = []\n'
                          '[[authority]]\nrole = "exit"\ncountry = "UTO"\ndata_dir = "var/u"\n'
                          '[authority.bmis]\nport = 1\ncommand_keys_dir = "var/u/k"\n'
                          '[[authority]]\nrole = "entry"\ncountry = "ARC"\ndata_dir = "var/a"\n'
                          '[authority.bmis]\nport = 2\ncommand_keys_dir = "var/a/k"\n')
    assert config.onestop.statistics is StatisticsBasis.OWN_CONTROL
