"""Turn a DocumentRead plus the checks into the `gatectl chip read --json` report (pure)."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from firmware_app.emrtd.chip_auth.card_security import confirm_chain
from firmware_app.emrtd.chip_auth.pace_match import authentic_copies, check_pace_parameters
from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.errors import LdsError
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.lds import Dg1Check, compare_with_printed, parse_dg1, parse_sod
from firmware_app.emrtd.pa import PaResult, TrustStore, passive_authenticate
from firmware_app.emrtd.reader import DocumentRead


class Verdict(enum.Enum):
    PASSED = "passed"
    CHECK_FAILED = "check_failed"


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True)
class ChipReport:
    verdict: Verdict
    data: dict = field(repr=False)


def build_report(read: DocumentRead, printed_mrz: list[str] | None, trust_store: TrustStore | None,
                 now: datetime, mrz_to_json) -> ChipReport:
    """`mrz_to_json(lines) -> dict` renders DG1 the same way as `gatectl mrz parse --json`."""
    dg1_json, dg1_check = _dg1(read, printed_mrz, mrz_to_json)
    pa = _passive(read, trust_store, now)
    chip_auth, active_auth = _unless_hidden(read, 14, read.chip_auth), _unless_hidden(read, 15, read.active_auth)
    # PACE-CAM's key counts only if EF.CardSecurity's signer chains like the SOD's
    chip_auth = confirm_chain(chip_auth, read.card_security, pa["chain_valid"], trust_store, now)
    pace = _pace_parameters(read, pa["result"] == "passed", chip_auth)
    data = {
        "access": read.access.protocol.value,
        "access_reason": read.access.reason.name,
        "access_detail": read.access.detail,
        "extended_length": read.extended_length,
        "files": {file.value: {"size": len(content)} for file, content in read.files.items()},
        "missing": [file.value for file in read.missing],
        "dg1": dg1_json,
        "dg1_check": dg1_check,
        "passive_auth": pa,
        "chip_auth": chip_auth.to_json(),
        "active_auth": active_auth.to_json(),
        "pace_parameters": pace.to_json(),
        "apdus": read.log.count,
        "bytes": read.log.bytes_sent + read.log.bytes_received,
        "reauthentications": read.reauthentications,
        "timings_ms": {step: round(ms, 1) for step, ms in read.timings_ms.items()},
    }
    failed = (pa["result"] != "passed" or dg1_check == Dg1Check.DG1_MISMATCH.value
              or _failed(chip_auth) or _failed(active_auth) or _failed(pace) or dg1_json is None)
    return ChipReport(Verdict.CHECK_FAILED if failed else Verdict.PASSED, data)


def _unless_hidden(read: DocumentRead, number: int, result: ChipCheckResult) -> ChipCheckResult:
    """EF.COM is not signed: a clone may leave DG14/DG15 out of it to skip CA/AA. A check file
    hashed in the SOD but not presented fails its check (as the lane's chip stage does)."""
    if number in read.data_groups or result.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING:
        return result  # a chip that passed PACE-CAM has proved its key without DG14
    try:
        signed = parse_sod(read.files[LdsFile.SOD]).dg_hashes
    except (KeyError, LdsError):
        return result  # passive authentication reports the missing or malformed SOD
    if number not in signed:
        return result
    check = ChipCheck.CHIP_AUTHENTICATION if number == 14 else ChipCheck.ACTIVE_AUTHENTICATION
    return ChipCheckResult.failed(check, ChipCheckReason.CHIP_REFUSED,
                                  f"DG{number} signed in the SOD but not presented")


def _pace_parameters(read: DocumentRead, passive_passed: bool, chip_auth: ChipCheckResult) -> ChipCheckResult:
    """EF.CardAccess against the signed PACEInfos (DG14 under passive authentication, EF.CardSecurity
    under a confirmed PACE-CAM), as the lane's chip stage checks it."""
    cam = chip_auth.check is ChipCheck.CHIP_AUTHENTICATION_MAPPING and chip_auth.passed
    copies = authentic_copies(read.files.get(LdsFile.DG14), passive_passed, read.card_security, cam)
    return check_pace_parameters(read.card_access, copies)


def _failed(check) -> bool:
    return check.performed and not check.passed


def _dg1(read: DocumentRead, printed: list[str] | None, mrz_to_json) -> tuple[dict | None, str | None]:
    try:
        dg1 = parse_dg1(read.files[LdsFile.DG1])
    except LdsError:
        return None, "DG1_UNREADABLE"
    check = compare_with_printed(dg1, printed).value if printed else None
    return mrz_to_json(list(dg1.lines)), check


def _passive(read: DocumentRead, trust_store: TrustStore | None, now: datetime) -> dict:
    result: PaResult = passive_authenticate(read.files[LdsFile.SOD], read.data_groups, trust_store, now)
    # without a trust store chain_valid is null and the result is failed (NO_TRUST_STORE):
    # a valid signature by an unknown signer proves nothing
    return {
        "result": "passed" if result.passed else "failed",
        "signature_valid": result.signature_valid,
        "hashes_valid": result.hashes_valid,
        "chain_valid": result.chain_valid,
        "reasons": [reason.value for reason in result.reasons],
        "warnings": list(result.warnings),  # e.g. an SOD content type other than ICAO's
        "trust_store": trust_store is not None,
    }
