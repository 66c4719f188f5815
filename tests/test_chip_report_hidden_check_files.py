"""The `gatectl chip read` report when a clone hides its signed DG15/DG14: the report fails."""
from __future__ import annotations

import pytest

from firmware_app.emrtd.access import AccessProtocol, AccessReason, AccessResult
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.reader import DocumentRead
from firmware_app.emrtd.report import Verdict, build_report
from firmware_app.emrtd.session import ApduLog
from passport_helpers import NOW, TD3, passport, store_for


def _read(document, without: tuple[int, ...]) -> DocumentRead:
    files = {LdsFile.SOD: document.files["EF.SOD"]}
    for number, content in document.data_groups.items():
        if number not in without:
            files[LdsFile(f"DG{number}")] = content
    access = AccessResult(AccessProtocol.BAC, AccessReason.NO_CARD_ACCESS, None)
    return DocumentRead(access, files, [], False, 0, ApduLog())


def _report(read, document):
    return build_report(read, list(TD3), store_for(document.pki), NOW, lambda lines: {"lines": len(lines)})


def test_all_groups_presented_without_checks_run_is_not_failed_by_this_rule():
    document = passport()
    report = _report(_read(document, ()), document)
    assert report.data["passive_auth"]["result"] == "passed"
    assert not report.data["active_auth"]["performed"]


@pytest.mark.parametrize("hidden, check", [(15, "active_auth"), (14, "chip_auth")])
def test_signed_check_file_not_presented_fails_the_report(hidden, check):
    document = passport()
    assert hidden in document.data_groups  # the factory signs DG14 and DG15 into the SOD
    report = _report(_read(document, (hidden,)), document)
    assert report.data["passive_auth"]["result"] == "passed"  # the hashes of what was read agree
    assert report.verdict is Verdict.CHECK_FAILED
    assert report.data[check]["performed"] and not report.data[check]["passed"]
