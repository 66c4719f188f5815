"""Builders shared by the policy and lane tests: a good traveller's evidence, and variations."""
from __future__ import annotations

from datetime import date, datetime, timezone

from firmware_app.emrtd.auth import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.lds import Dg1Check
from firmware_app.emrtd.pa import PaResult
from firmware_app.face.capture import CaptureOutcome
from firmware_app.face.pad import PadStatus
from firmware_app.mrz import parse
from firmware_app.policy import ChipEvidence, ChipStatus, FaceEvidence
from tests.mrz_helpers import specimen

TODAY = date(2026, 11, 26)
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def mrz(**overrides):
    return parse(specimen("TD3", **overrides), today=TODAY)


def good_chip() -> ChipEvidence:
    return ChipEvidence(ChipStatus.READ, "PACE", "PACE_OFFERED",
                        PaResult(True, True, True, checked_groups=(1, 2)), Dg1Check.MATCH,
                        ChipCheckResult.ok(ChipCheck.ACTIVE_AUTHENTICATION),
                        ChipCheckResult.not_performed(ChipCheck.CHIP_AUTHENTICATION, ChipCheckReason.NOT_OFFERED))


def good_face() -> FaceEvidence:
    return FaceEvidence(CaptureOutcome.MATCH, 0.71, 0.36, "sface-2021dec", PadStatus.NOT_PERFORMED, (), 1)
