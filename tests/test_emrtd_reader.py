"""The document reader against the in-process virtual chip: BAC/PACE, block sizes, recovery."""
from __future__ import annotations

import math
import time

import pytest

from firmware_app.emrtd.access import AccessProtocol, AccessReason
from firmware_app.emrtd.errors import AuthenticationError, CardRemovedDuringRead, UnsupportedProtocol
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import CanKey, MrzKey
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.emrtd.reader import DocumentReader, ReadOptions, read_document
from firmware_app.emrtd.session import Session
from simulator.vchip.applet import ChipFaults
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import CAN, PACE_BRAINPOOL_AES128, counter_rng, make_chip, mrz_key


def _read(chip, key=None, remove_after=None, options=ReadOptions(), hint=None):
    transport = InProcessTransceiver(chip, remove_after)
    reader = DocumentReader(Session(transport), key or mrz_key(), counter_rng("terminal"), time.monotonic,
                            options, extended_hint=hint)
    return reader.read()


def _expected_files(chip):
    return {f: chip.config.files[f.fid] for f in
            (LdsFile.COM, LdsFile.SOD, LdsFile.DG1, LdsFile.DG2, LdsFile.DG14, LdsFile.DG15)}


def _reads(result, label):
    return sum(1 for e in result.log.entries if e.step in (f"read {label}", f"read {label} (B1)"))


def test_bac_short_length_reads_everything_with_223_byte_blocks():
    chip = make_chip()
    result = _read(chip)
    assert result.access.protocol is AccessProtocol.BAC
    assert result.access.reason is AccessReason.NO_CARD_ACCESS
    assert result.files == _expected_files(chip) and not result.extended_length
    size = len(chip.config.files[LdsFile.DG2.fid])
    assert _reads(result, "DG2") == math.ceil(size / 223) + 1
    assert max(e.ne for e in result.log.entries if e.protected and e.step.startswith("read ")) <= 223


def test_pace_with_extended_length_reads_each_file_in_two_blocks():
    chip = make_chip([PACE_BRAINPOOL_AES128], extended=True)
    result = _read(chip, hint=True)
    assert result.access.protocol is AccessProtocol.PACE and result.extended_length
    assert result.files == _expected_files(chip)
    for label in ("EF.COM", "EF.SOD", "DG1", "DG2", "DG14", "DG15"):
        assert _reads(result, label) <= 2, label


def test_extended_length_declared_in_atr_info():
    atr_info = bytes.fromhex("7F66 08 0202FFFF 0202FFFF".replace(" ", ""))
    result = _read(make_chip([PACE_BRAINPOOL_AES128], extended=True, atr_info=atr_info))
    assert result.extended_length and _reads(result, "DG2") == 2


PACE_VARIANTS = [(f"0.4.0.127.0.7.2.2.4.2.{c}", p) for c, p in (
    (2, 8), (2, 9), (1, 10), (3, 11), (1, 12), (2, 13), (4, 14), (3, 15), (4, 16), (4, 17), (2, 18))]
PACE_VARIANTS += [(f"0.4.0.127.0.7.2.2.4.1.{c}", p) for c, p in ((1, 0), (2, 1), (4, 2))]


@pytest.mark.parametrize("oid, param", PACE_VARIANTS)
def test_pace_variants_with_mrz_and_can(oid, param):
    # 2048-bit DH public values exceed a short APDU: without extended length they go by command chaining
    chip = make_chip([PaceInfo(oid, 2, param)], dg2_size=500, extended=False)
    for key in (mrz_key(), CanKey(CAN)):
        chip.reset()
        result = _read(chip, key)
        assert result.access.protocol is AccessProtocol.PACE
        assert result.files[LdsFile.DG1] == chip.config.files[LdsFile.DG1.fid]


def test_unsupported_pace_falls_back_to_bac_and_says_why():
    # integrated mapping on NIST P-224 (p = 1 mod 4) has no Appendix B point encoding
    chip = make_chip([PaceInfo("0.4.0.127.0.7.2.2.4.4.2", 2, 10)], dg2_size=300)
    result = _read(chip)
    assert result.access.protocol is AccessProtocol.BAC
    assert result.access.reason is AccessReason.PACE_PARAMETERS_UNSUPPORTED
    with pytest.raises(UnsupportedProtocol):
        _read(make_chip(dg2_size=300), CanKey(CAN))


def test_offsets_beyond_32767_use_odd_ins_b1():
    chip = make_chip([PACE_BRAINPOOL_AES128], dg2_size=40000)
    result = _read(chip)
    assert result.files[LdsFile.DG2] == chip.config.files[LdsFile.DG2.fid]
    assert any(e.step == "read DG2 (B1)" for e in result.log.entries)
    chip = make_chip(extended=True, dg2_size=70000)
    result = _read(chip, hint=True)
    assert result.files[LdsFile.DG2] == chip.config.files[LdsFile.DG2.fid]


def test_bad_response_mac_leads_to_reauthentication_and_complete_read():
    for pace in ([], [PACE_BRAINPOOL_AES128]):
        chip = make_chip(pace, faults=ChipFaults(corrupt_mac_on_read=5))
        result = _read(chip)
        assert result.reauthentications == 1
        assert result.files == _expected_files(chip)


def test_failed_block_is_retried():
    chip = make_chip(faults=ChipFaults(fail_read_once_at=223 * 3 + 4))
    result = _read(chip)
    assert result.files == _expected_files(chip) and result.reauthentications == 0


def test_card_removed_mid_read_is_typed():
    with pytest.raises(CardRemovedDuringRead):
        _read(make_chip(), remove_after=20)


def test_wrong_mrz_is_an_authentication_error():
    wrong = MrzKey("L898902C", "690806", "940624")
    with pytest.raises(AuthenticationError, match="refused"):
        _read(make_chip(), wrong)
    with pytest.raises(AuthenticationError):
        _read(make_chip([PACE_BRAINPOOL_AES128]), wrong)


class _ClosingTransport(InProcessTransceiver):
    closed = 0

    def close(self) -> None:
        self.closed += 1


def test_read_document_closes_the_transport_after_a_read_and_after_a_failure():
    good = _ClosingTransport(make_chip())
    read = read_document(good, mrz_key(), counter_rng("terminal"), time.monotonic)
    assert LdsFile.DG2 in read.files and good.closed == 1
    bad = _ClosingTransport(make_chip())
    with pytest.raises(AuthenticationError):
        read_document(bad, MrzKey("L898902C", "690806", "940624"), counter_rng("terminal"), time.monotonic)
    assert bad.closed == 1


def test_apdu_log_is_redacted():
    result = _read(make_chip(dg2_size=300))
    text = "\n".join(e.redacted() for e in result.log.entries)
    assert "L898902C" not in text and "ERIKSSON" not in text and "A0000002471001" not in text


def test_extended_length_probe_on_capable_and_old_chips():
    result = _read(make_chip([PACE_BRAINPOOL_AES128], extended=True), options=ReadOptions(probe_extended=True))
    assert result.extended_length and result.reauthentications == 0 and _reads(result, "DG2") == 2
    old = make_chip(faults=ChipFaults(extended_kills_sm=True))
    result = _read(old, options=ReadOptions(probe_extended=True))
    assert not result.extended_length and result.reauthentications == 1
    assert result.files == _expected_files(old)
    assert not _read(make_chip(extended=True)).extended_length  # no probe, nothing declared: short


def test_pace_refused_falls_back_to_bac_and_says_so():
    from dataclasses import replace

    from simulator.vchip.applet import VirtualIcaoChip
    from simulator.vchip.documents import encode_card_access
    chip = make_chip(dg2_size=300)
    # EF.CardAccess advertises PACE but the applet refuses MSE:Set AT (a chip with a broken PACE)
    broken = VirtualIcaoChip(replace(chip.config, card_access=encode_card_access([PACE_BRAINPOOL_AES128])),
                             counter_rng("chip"))
    result = _read(broken)
    assert result.access.protocol is AccessProtocol.BAC
    assert result.access.reason is AccessReason.PACE_FAILED_FALLBACK
    with pytest.raises(AuthenticationError, match="Set AT"):
        _read(broken, options=ReadOptions(fallback_to_bac=False))
