"""The composer writes ICAO lines with every check digit; bad fields get MrzComposeError."""
import pytest

from firmware_app.mrz import MrzComposeError, MrzFields, compose
from mrz_helpers import specimen

BASE = dict(document_code="P", issuing_state="UTO", document_number="L898902C3", birth_date="740812",
            sex="F", expiry_date="120415", nationality="UTO", primary_identifier="ERIKSSON",
            secondary_identifier="ANNA MARIA", optional_data="ZE184226B")


def test_reproduces_the_icao_td3_specimen():
    assert compose("TD3", MrzFields(**BASE)) == (
        "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<", "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def test_reproduces_the_icao_td1_and_td2_specimens():
    fields = {**BASE, "document_code": "I", "document_number": "D23145890", "optional_data": ""}
    assert compose("TD1", MrzFields(**fields)) == (
        "I<UTOD231458907<<<<<<<<<<<<<<<", "7408122F1204159UTO<<<<<<<<<<<6", "ERIKSSON<<ANNA<MARIA<<<<<<<<<<")
    assert compose("TD2", MrzFields(**fields)) == (
        "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6")


def test_line_lengths_of_every_format():
    for fmt, shape in {"TD1": (3, 30), "TD2": (2, 36), "TD3": (2, 44), "MRVA": (2, 44), "MRVB": (2, 36)}.items():
        lines = specimen(fmt)
        assert (len(lines), len(lines[0])) == shape and len(set(map(len, lines))) == 1


@pytest.mark.parametrize("fmt, change", [
    ("TD3", {"document_number": "L898902C3X"}), ("MRVA", {"document_number": "1234567890"}),
    ("TD3", {"primary_identifier": "Müller"}), ("TD3", {"birth_date": "7408121"}),
    ("TD3", {"optional_data": "A" * 15}), ("TD2", {"document_number": "D23145890734", "optional_data": "ABCDE"}),
    ("TD3", {"optional_data_2": "X"}), ("TD3", {"sex": "male"}),
])
def test_fields_that_cannot_be_written_raise(fmt, change):
    with pytest.raises(MrzComposeError):
        compose(fmt, MrzFields(**{**BASE, **change}))


def test_unknown_format_is_a_value_error():
    with pytest.raises(ValueError):
        compose("TD4", MrzFields(**BASE))
