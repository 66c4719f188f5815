"""Access keys from every MRZ layout that carries a chip: TD3, TD2 and TD1, with document numbers
longer than 9 characters continued in the optional data (ICAO 9303-11 Appendix D.2)."""
from __future__ import annotations

import time

import pytest

from firmware_app.emrtd.access import AccessProtocol
from firmware_app.emrtd.errors import AuthenticationError
from firmware_app.emrtd.files import LdsFile
from firmware_app.emrtd.keys import mrz_key_from_lines
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.emrtd.reader import DocumentReader
from firmware_app.emrtd.session import Session
from simulator.passport_factory import AaKind, PassportSpec, build_passport
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config
from simulator.vchip.transport import InProcessTransceiver
from tests.chip_fixtures import counter_rng
from tests.passport_helpers import NOW, pki, portrait

# 9303-11 D.2: the four MRZs and their MRZ_information; both ERIKSSON ones give K_seed 239AB9CB...
D2_EXAMPLES = [
    (["I<UTOSTEVENSON<<PETER<JOHN<<<<<<<<<<", "D23145890<UTO3407127M95071227349<<<8"],
     "D23145890734934071279507122"),
    (["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "L898902C<3UTO6908061F9406236<<<<<<<8"],
     "L898902C<369080619406236"),
    (["I<UTOD23145890<7349<<<<<<<<<<<", "3407127M9507122UTO<<<<<<<<<<<2", "STEVENSON<<PETER<JOHN<<<<<<<<<"],
     "D23145890734934071279507122"),
    (["I<UTOL898902C<3<<<<<<<<<<<<<<<", "6908061F9406236UTO<<<<<<<<<<<1", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<"],
     "L898902C<369080619406236"),
]


@pytest.mark.parametrize("lines, information", D2_EXAMPLES)
def test_appendix_d2_mrz_information(lines, information):
    key = mrz_key_from_lines(lines)
    assert key.information() == information.encode("ascii")
    if information.startswith("L898902C"):
        assert key.seed() == bytes.fromhex("239AB9CB282DAF66231DC5A4DF6BFBAE")


def test_td2_layout_is_not_mistaken_and_bad_lengths_are_refused():
    key = mrz_key_from_lines(D2_EXAMPLES[1][0])
    assert (key.document_number, key.birth_date, key.expiry_date) == ("L898902C", "690806", "940623")
    with pytest.raises(AuthenticationError, match="36"):
        mrz_key_from_lines(["I<UTO", D2_EXAMPLES[1][0][1][:35]])


TD2_PASSPORT = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D23145890<UTO7408122F12041597349<<<4")


@pytest.mark.parametrize("pace", [(), (PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13),)])
def test_td2_document_with_a_long_number_opens_with_bac_and_pace(pace):
    """A TD2-format passport (as Germany's temporary one) with a 12-character document number."""
    document = build_passport(PassportSpec(TD2_PASSPORT, portrait(), aa=AaKind.NONE, pace=pace), pki(), NOW)
    chip = VirtualIcaoChip(chip_config(document), counter_rng("chip"))
    assert chip.config.mrz.document_number == "D23145890734"
    reader = DocumentReader(Session(InProcessTransceiver(chip)), mrz_key_from_lines(list(TD2_PASSPORT)),
                            counter_rng("terminal"), time.monotonic)
    result = reader.read()
    assert result.access.protocol is (AccessProtocol.PACE if pace else AccessProtocol.BAC)
    assert result.files[LdsFile.DG1] == document.files["DG1"]
