"""7-3-1 check digits and the composite input of each format (ICAO 9303 Part 3, 4.9)."""
from firmware_app.mrz import LAYOUTS, MrzFormat, check_digit, composite_input, weighted_sum


def test_check_digit_of_icao_specimen_fields():
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"
    assert check_digit("ZE184226B<<<<<") == "1"


def test_part3_worked_example_sum():
    # Part 3, 4.9.3: 520727 -> 5*7 + 2*3 + 0*1 + 7*7 + 2*3 + 7*1 = 103 -> 3
    assert weighted_sum("520727") == 103
    assert check_digit("520727") == "3"


def test_filler_and_letters_take_their_values():
    assert weighted_sum("<") == 0
    assert weighted_sum("A") == 70 and weighted_sum("Z") == 35 * 7
    assert check_digit("") == "0"


def test_bytes_and_text_agree():
    assert weighted_sum(b"HA672242<6") == weighted_sum("HA672242<6")


def test_td3_composite_input_skips_nationality_and_sex():
    lines = ("P" * 44, "HA672242<6YTO5802254M9601086<<<<<<<<<<<<<<08")
    assert composite_input(LAYOUTS[MrzFormat.TD3], lines) == "HA672242<658022549601086<<<<<<<<<<<<<<0"


def test_visas_have_no_composite():
    assert composite_input(LAYOUTS[MrzFormat.MRVA], ("V" * 44, "0" * 44)) == ""
    assert not LAYOUTS[MrzFormat.MRVB].has_check("composite")
