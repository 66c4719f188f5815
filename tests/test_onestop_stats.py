"""One-stop statistics (issue 17): each authority counts its own crossings; sex, age band and
nationality come from the document its own control read ([onestop] statistics = "own_control",
the default) even when the agreement withholds them from its records, or from its records only
("shared_fields": a withheld field counts as unknown). The stored record is the same either way.
Real SQLite outbox and statistics store."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from firmware_app.appliance.bmis_side import local_link
from firmware_app.appliance.onestop import build_onestop
from firmware_app.appliance.onestop_stats import AuthorityLaneOutbox
from firmware_app.bmis.contract import problems
from firmware_app.bmis.stats import CrossingStats, hour_of
from firmware_app.config import parse_config
from firmware_app.config.onestop import StatisticsBasis
from firmware_app.lane.record import CrossingRecord, DocumentFields, PassageFields
from firmware_app.onestop.records import Agreement, authority_record
from firmware_app.policy import Decision, Outcome
from firmware_app.policy.onestop import JointDecision, Role
from tests.lane_helpers import mrz

NOW = datetime.now(UTC)


def _record(nationality: str = "XXA") -> CrossingRecord:
    return CrossingRecord("t1", "osbp-1", "entry", "normal", "passed", NOW, NOW,
                          DocumentFields.from_mrz(mrz(nationality=nationality)), None, None, Decision(Outcome.PASS),
                          None, PassageFields(True, True, 1))


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


def _onestop(tmp_path, onestop: str) -> str:
    return (f'[device]\nid = "osbp-1"\npost_id = "p"\ndata_dir = "{tmp_path / "var"}"\n[reader]\nurl = "sim://"\n'
            f'[onestop]\nshared_fields = ["document_number"]\n{onestop}'
            f'[[authority]]\nrole = "exit"\ncountry = "UTO"\ndata_dir = "{tmp_path / "u"}"\n'
            f'[authority.bmis]\nport = 1\ncommand_keys_dir = "{tmp_path / "u/k"}"\n'
            f'[[authority]]\nrole = "entry"\ncountry = "ARC"\ndata_dir = "{tmp_path / "a"}"\n'
            f'[authority.bmis]\nport = 2\ncommand_keys_dir = "{tmp_path / "a/k"}"\n')


@pytest.mark.parametrize("onestop, suppressed", [("", True), ('statistics = "shared_fields"\n', False),
                                                 ("statistics_min_cell = 1\n", False)])
def test_own_control_reports_suppress_the_withheld_fields_of_small_cells(tmp_path, onestop, suppressed):
    """Five XXA crossings stay a cell of their own; the one YYB crossing would name the nationality
    the agreement withholds from ARC's records: its withheld fields leave the device as null."""
    config = parse_config(_onestop(tmp_path, onestop))
    clock = [NOW]
    sides = build_onestop(config, lambda: clock[0], lambda: True)
    agreement = Agreement(frozenset({"document_number"}), {Role.EXIT: "UTO", Role.ENTRY: "ARC"},
                          config.onestop.statistics is StatisticsBasis.OWN_CONTROL)
    side = sides.sides[Role.ENTRY]
    try:
        for nationality in ("XXA",) * 5 + ("YYB",):
            joint = JointDecision(Decision(Outcome.PASS), Decision(Outcome.PASS))
            side.outbox.crossing(authority_record(_record(nationality), joint, Role.ENTRY, agreement))
        clock[0] = NOW + timedelta(hours=1)
        assert side.stats_publisher.publish_due() >= 1
        [message] = [json.loads(m.payload) for m in side.link.outbox.next_batch(100) if m.kind.suffix == "stats"
                     and json.loads(m.payload)["data"]["total"]]
    finally:
        sides.stop()
    assert problems("stats.json", message) == [] and message["schema"] == "stats/1.1"
    cells = {(c["nationality"], c["sex"], c["age_band"]): c["count"] for c in message["data"]["counts"]}
    assert message["data"]["total"] == 6
    if suppressed:
        assert message["data"]["suppressed"] == {"min_cell": 5, "fields": ["age_band", "nationality", "sex"],
                                                 "cells": 1, "crossings": 1}
        assert cells[(None, None, None)] == 1 and "YYB" not in json.dumps(message)
        assert [n for (nationality, _, _), n in cells.items() if nationality == "XXA"] == [5]
    else:
        assert "suppressed" not in message["data"]
