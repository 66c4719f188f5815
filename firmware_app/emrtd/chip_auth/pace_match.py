"""PACE downgrade check (ICAO 9303-11 9.2; BSI TR-03110-3 A.1.2): EF.CardAccess is read in plain
before PACE, so a man in the middle can rewrite it to drop the strongest mapping, name a weaker
domain, or hide PACE altogether so the lane falls back to BAC. The Document Signer signs the same
PACEInfos again, in DG14 (vouched for by the SOD) and in EF.CardSecurity (read after PACE-CAM);
after the read the offer the lane acted on is compared with every signed copy.

Pure and bounded: the caller says which signed copies are authentic (passive authentication for
DG14, the confirmed CAM check for EF.CardSecurity); unauthenticated copies prove nothing.
"""
from __future__ import annotations

from dataclasses import dataclass

from asn1crypto import core

from firmware_app.emrtd.chip_auth.card_security import MAX_INFOS, parse_card_security
from firmware_app.emrtd.chip_auth.result import ChipCheck, ChipCheckReason, ChipCheckResult
from firmware_app.emrtd.errors import LdsError, LdsFormatError
from firmware_app.emrtd.files import DG_TAGS
from firmware_app.emrtd.lds import asn1
from firmware_app.emrtd.lds.common import file_errors, unwrap
from firmware_app.emrtd.pace.info import PaceInfo, is_pace_info_oid

CHECK = ChipCheck.PACE_PARAMETERS
MAX_DETAIL = 240  # a hostile file may hold 32 PACEInfos: the record keeps a bounded summary


@dataclass(frozen=True)
class SignedPaceInfos:
    source: str  # "DG14" | "EF.CardSecurity"
    infos: frozenset[PaceInfo] | None  # None: the authentic file could not be parsed


def from_dg14(dg14: bytes) -> SignedPaceInfos:
    return _signed("DG14", lambda: unwrap(dg14, DG_TAGS[14], "DG14"))


def from_card_security(data: bytes) -> SignedPaceInfos:
    return _signed("EF.CardSecurity", lambda: parse_card_security(data).content)


def _signed(source: str, content) -> SignedPaceInfos:
    try:
        with file_errors(source):
            return SignedPaceInfos(source, _pace_infos(content(), source))
    except LdsError:
        return SignedPaceInfos(source, None)


def _pace_infos(der: bytes, source: str) -> frozenset[PaceInfo]:
    """Only the PACEInfos of a SET OF SecurityInfo (other infos, e.g. keys, are not looked at)."""
    infos = asn1.SecurityInfos.load(der, strict=True)
    if len(infos) > MAX_INFOS:
        raise LdsFormatError(source, f"more than {MAX_INFOS} SecurityInfos")
    found = set()
    for info in infos:
        oid = info["protocol"].dotted
        if is_pace_info_oid(oid):
            optional = info["optional_data"]
            parameter = None if isinstance(optional, core.Void) else optional.parse(core.Integer).native
            found.add(PaceInfo(oid, info["required_data"].parse(core.Integer).native, parameter))
    return frozenset(found)


def check_pace_parameters(card_access: list[PaceInfo] | None,
                          signed: list[SignedPaceInfos]) -> ChipCheckResult:
    """Passed when every authentic signed copy that names PACE equals EF.CardAccess's offer (the
    chip's order aside). A copy naming PACE while the chip showed no EF.CardAccess is a downgrade
    to BAC. Nothing signed to compare with: not performed (older chips sign no PACEInfo)."""
    offered = frozenset(card_access or ())
    speaking = [copy for copy in signed if copy.infos is None or copy.infos]
    if not speaking:
        return ChipCheckResult.not_performed(CHECK, ChipCheckReason.NOT_OFFERED, "no signed PACEInfo")
    for copy in speaking:
        if copy.infos is None:
            return ChipCheckResult.failed(CHECK, ChipCheckReason.PARAMETERS_MISMATCH, f"{copy.source} unreadable")
        if copy.infos != offered:
            detail = f"EF.CardAccess [{_names(offered)}] != {copy.source} [{_names(copy.infos)}]"
            return ChipCheckResult.failed(CHECK, ChipCheckReason.PARAMETERS_MISMATCH, detail[:MAX_DETAIL])
    return ChipCheckResult.ok(CHECK)


def _names(infos: frozenset[PaceInfo]) -> str:
    return ", ".join(sorted(info.describe() for info in infos)) or "none"


def authentic_copies(dg14: bytes | None, dg14_authentic: bool, card_security: bytes | None,
                     card_security_authentic: bool) -> list[SignedPaceInfos]:
    """The signed copies to compare with: DG14 when passive authentication vouched for it,
    EF.CardSecurity when its signature and chain were confirmed (PACE-CAM)."""
    copies = []
    if dg14 is not None and dg14_authentic:
        copies.append(from_dg14(dg14))
    if card_security is not None and card_security_authentic:
        copies.append(from_card_security(card_security))
    return copies
