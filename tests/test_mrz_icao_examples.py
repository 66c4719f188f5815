"""Every example of ../shared/data/vectors/mrz_icao_examples.json, checked field by field."""
from __future__ import annotations

import json

import pytest

from firmware_app.mrz import LAYOUTS, IssueCode, MrzFormat, check_digit, composite_input, parse, weighted_sum
from mrz_helpers import TODAY

# Example format -> (our format, lines to add so a partial example forms a full MRZ).
FORMATS = {
    "TD3": (MrzFormat.TD3, None), "TD1": (MrzFormat.TD1, None), "TD2": (MrzFormat.TD2, None),
    "MRV-A": (MrzFormat.MRVA, None),
    "TD3-lower-line-only": (MrzFormat.TD3, ("before", "P<UTOX" + "<" * 38)),
    "TD2-lower-line-only": (MrzFormat.TD2, ("before", "I<UTOX" + "<" * 30)),
    "TD1-upper+middle": (MrzFormat.TD1, ("after", "X" + "<" * 29)),
}
RESULT_FIELDS = {"primary": "primary_identifier", "secondary": "secondary_identifier",
                 "optional_data_1": "optional_data"}
CHECK_DIGIT_FIELDS = ("document_number", "birth_date", "expiry_date", "optional_data", "composite")


def _examples(shared_data):
    return json.loads((shared_data / "vectors" / "mrz_icao_examples.json").read_text())


def _full_lines(example):
    fmt, extra = FORMATS[example["fmt"]]
    lines = tuple(example["lines"])
    if extra:
        lines = (extra[1],) + lines if extra[0] == "before" else lines + (extra[1],)
    return fmt, lines


def test_examples_file_is_covered(shared_data):
    examples = _examples(shared_data)
    assert len(examples) >= 8
    assert {e["fmt"] for e in examples} <= set(FORMATS)


@pytest.mark.parametrize("index", range(8))
def test_icao_example(shared_data, index):
    examples = _examples(shared_data)
    if index >= len(examples):
        pytest.skip("fewer examples in the file")
    example = examples[index]
    fmt, lines = _full_lines(example)
    layout = LAYOUTS[fmt]
    result = parse(lines, today=TODAY, repair=False)
    assert result.format is fmt
    expect = example["expect"]
    for key, value in expect.items():
        if key.endswith("_cd"):
            _assert_check_digit(layout, lines, key, value)
        elif key == "composite_input":
            assert composite_input(layout, lines) == value
        elif key == "composite_sum":
            assert weighted_sum(composite_input(layout, lines)) == value
        elif key == "valid":
            assert result.valid is value, result.errors
        else:
            assert getattr(result, RESULT_FIELDS.get(key, key)) == value, key
    for name, ok in result.checks:
        assert ok in (True, None), name  # every ICAO example passes its check digits


def _assert_check_digit(layout, lines, key, value):
    name = key[:-3]
    assert name in CHECK_DIGIT_FIELDS
    printed = layout.fields[key].take(lines)
    covered = composite_input(layout, lines) if name == "composite" else layout.fields[name].take(lines)
    assert printed == value
    assert check_digit(covered) == value


def test_fictional_yto_is_not_a_country(shared_data):
    # Part 3 examples use 'YTO'; it is in no code list, so a gate must not accept it.
    example = next(e for e in _examples(shared_data) if e["fmt"] == "TD3-lower-line-only")
    result = parse(_full_lines(example)[1], today=TODAY)
    assert not result.valid
    assert [i.field for i in result.errors if i.code is IssueCode.UNKNOWN_COUNTRY] == ["nationality"]
