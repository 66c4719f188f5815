"""OCR repair: unique candidates only, reported, bounded by field classes, never names."""
import pytest

from firmware_app.mrz import Confirmation, IssueCode, confirmed_by_chip, parse
from mrz_helpers import TODAY, specimen

TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def with_char(lines, line, column, char):
    changed = list(lines)
    changed[line] = changed[line][:column] + char + changed[line][column + 1:]
    return tuple(changed)


def test_letter_in_a_date_is_repaired_and_reported():
    result = parse(with_char(TD3, 1, 15, "O"), today=TODAY)
    assert result.valid
    assert result.lines == TD3
    assert [(r.field, r.line, r.column, r.found, r.replaced_by) for r in result.repairs] == [
        ("birth_date", 2, 16, "O", "0")]
    assert result.has_issue(IssueCode.OCR_REPAIRED)


def assert_only_candidate(result, lines):
    """Invalid as printed; the original reading offered for the chip, itself invalid until confirmed."""
    assert not result.valid and not result.repairs
    assert result.has_issue(IssueCode.OCR_REPAIR_CANDIDATES)
    assert lines in [c.lines for c in result.candidates]
    for candidate in result.candidates:
        assert not candidate.valid and candidate.has_issue(IssueCode.REPAIR_UNCONFIRMED)
        assert candidate.repairs and not all(r.verified for r in candidate.repairs)
    return next(c for c in result.candidates if c.lines == lines)


def test_digit_misread_as_letter_in_document_number_is_only_a_candidate():
    # 'L898902C3': the 0 at column 6 read as O. O is allowed in a document number, so the one
    # check digit that flagged the slip cannot also confirm O->0: the chip must.
    result = parse(with_char(TD3, 1, 5, "O"), today=TODAY)
    candidate = assert_only_candidate(result, TD3)
    assert candidate.document_number == "L898902C3"
    assert [(r.field, r.found, r.replaced_by, r.confirmed_by) for r in candidate.repairs] == [
        ("document_number", "O", "0", None)]
    confirmed = confirmed_by_chip(candidate)
    assert confirmed.valid and confirmed.has_issue(IssueCode.OCR_REPAIRED_BY_CHIP)
    assert [r.confirmed_by for r in confirmed.repairs] == [Confirmation.CHIP]


def test_misread_check_digit_never_changes_correct_data():
    # Issue 9: a visa's document number check digit misread; the old search "fixed" the correct
    # number L8988901C into L89889O1C to match it and called the MRZ valid.
    visa = specimen("MRVB", document_number="L8988901C")
    cd_column = 9
    for digit in "0123456789".replace(visa[1][cd_column], ""):
        result = parse(with_char(visa, 1, cd_column, digit), today=TODAY)
        assert not result.valid, digit
        candidate = assert_only_candidate(result, visa)
        assert [(r.field, r.found) for r in candidate.repairs] == [("document_number_cd", digit)]


def test_composite_misread_never_changes_optional_data():
    # Issue 9: a TD1 personal number (optional data, covered by the composite only) gained a
    # letter O to match a misread composite digit.
    card = specimen("TD1", document_number="SW8596582", optional_data="198303012388")
    column = 29
    invented = []
    for digit in "0123456789".replace(card[1][column], ""):
        result = parse(with_char(card, 1, column, digit), today=TODAY)
        invented += [digit] if result.valid else []
        assert_only_candidate(result, card)
    assert invented == []


def test_two_fitting_candidates_are_both_offered_neither_applied():
    # The 8 at column 2 read as B: B->8 fits, and so does 2->Z at column 7 (the TD3 composite
    # weighs the number exactly like its own check digit). Guessing would be wrong half the time;
    # the two readings have different BAC keys, so the chip tells which (if either) is right.
    result = parse(with_char(TD3, 1, 1, "B"), today=TODAY)
    assert result.has_issue(IssueCode.REPAIR_AMBIGUOUS)
    assert_only_candidate(result, TD3)
    assert len({c.mrz_information for c in result.candidates}) == len(result.candidates) >= 2


def test_check_digit_misread_is_repaired():
    result = parse(with_char(TD3, 1, 9, "G"), today=TODAY)  # document number check digit 6 -> G
    assert result.valid and result.lines == TD3


@pytest.mark.parametrize("column, char", [(0, "1"), (35, "G"), (40, "K")])
def test_confusions_invisible_to_check_digits_pass_unnoticed(column, char):
    # L/1, G/6 and K/< differ by a multiple of 10 in value: no ICAO check digit can see them.
    # Documented limitation; the chip's BAC (keyed by this MRZ) is what catches such a slip.
    result = parse(with_char(TD3, 1, column, char), today=TODAY)
    assert result.valid and not result.repairs


def test_repair_can_be_switched_off():
    result = parse(with_char(TD3, 1, 15, "O"), today=TODAY, repair=False)
    assert not result.valid and not result.repairs
    assert parse(with_char(TD3, 1, 15, "O"), today=TODAY, max_repairs=0).valid is False


def test_names_are_never_repaired():
    result = parse(with_char(TD3, 0, 6, "8"), today=TODAY)  # ERIKSSON -> E8IKSSON
    assert not result.valid and not result.repairs


def test_two_slips_in_separate_fields_are_both_repaired():
    broken = with_char(with_char(TD3, 1, 14, "A"), 1, 22, "Z")  # birth 4->A, expiry 2->Z
    result = parse(broken, today=TODAY)
    assert result.valid and result.lines == TD3 and len(result.repairs) == 2


def test_too_many_forced_substitutions_in_one_field_give_up():
    # three letters in the birth date share one check digit: they count against the cap
    broken = with_char(with_char(with_char(TD3, 1, 13, "T"), 1, 14, "A"), 1, 15, "O")
    assert not parse(broken, today=TODAY, max_repairs=2).valid
    assert parse(broken, today=TODAY, max_repairs=3).lines == TD3


def test_independent_slips_each_confirmed_by_its_own_check_digit_do_not_count_against_the_cap():
    # issue 9: a letter in the number's check digit, the birth date and the expiry date, each
    # confirmed by its own check digit (and by the composite), used to hit the global cap of 2
    broken = with_char(with_char(with_char(TD3, 1, 9, "G"), 1, 14, "A"), 1, 22, "Z")
    result = parse(broken, today=TODAY, max_repairs=2)
    assert result.valid and result.lines == TD3 and len(result.repairs) == 3
    assert all(r.confirmed_by is Confirmation.CHECK_DIGIT for r in result.repairs)
    # even with a cap of 1 (none of them counts)
    assert parse(broken, today=TODAY, max_repairs=1).lines == TD3


def test_unconfirmed_substitutions_still_count_against_the_cap():
    # a country-code fix (no check digit) plus two letters in one date: three counted, cap 2
    broken = with_char(with_char(with_char(TD3, 1, 12, "0"), 1, 14, "A"), 1, 15, "O")
    result = parse(broken, today=TODAY, max_repairs=2)
    assert not result.valid and not result.candidates
    assert parse(broken, today=TODAY, max_repairs=3).candidates[0].lines == TD3


def test_country_code_fix_is_unverified_until_the_chip_confirms_it():
    # UT0 -> UTO: the code table leaves one reading, but no check digit covers a country code
    # (nor does the BAC key): valid only once the chip's DG1 agrees.
    result = parse(with_char(TD3, 1, 12, "0"), today=TODAY)
    assert result.has_issue(IssueCode.UNKNOWN_COUNTRY)
    candidate = assert_only_candidate(result, TD3)
    assert candidate.nationality == "UTO" and candidate.mrz_information == result.mrz_information
    assert confirmed_by_chip(candidate).valid


def test_hopeless_input_stays_bounded_and_invalid():
    noise = ("P<UTO" + "<" * 39, "0" * 44)
    result = parse(noise, today=TODAY, max_repairs=4)
    assert not result.valid


@pytest.mark.parametrize("fmt", ["TD1", "TD2", "MRVA", "MRVB"])
def test_repair_in_every_format(fmt):
    lines = specimen(fmt)
    row = 1 if fmt != "TD1" else 0
    column = 5 if fmt != "TD1" else 10  # the '0' of L898902C3
    result = parse(with_char(lines, row, column, "O"), today=TODAY)
    assert_only_candidate(result, lines)
    # a letter in a date is impossible there: its own check digit confirms the fix in every format
    date_row, date_column = (1, 15) if fmt != "TD1" else (1, 2)
    repaired = parse(with_char(lines, date_row, date_column, "O"), today=TODAY)
    assert repaired.valid and repaired.lines == lines and repaired.repairs[0].confirmed_by is Confirmation.CHECK_DIGIT


def test_search_limit_is_reported(monkeypatch):
    from firmware_app.mrz import repair
    monkeypatch.setattr(repair, "MAX_EVALUATIONS", 3)
    result = parse(with_char(TD3, 1, 1, "B"), today=TODAY)  # needs more than 3 candidates tried
    assert not result.valid and result.has_issue(IssueCode.REPAIR_LIMIT)
