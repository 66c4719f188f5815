"""Writing valid MRZ lines from fields, computing every check digit (simulator, tests)."""
from __future__ import annotations

from dataclasses import dataclass, field

from .charset import FILLER, check_digit, is_mrz_text
from .errors import MrzComposeError
from .formats import LAYOUTS, Layout, MrzFormat, composite_input


# Fields with repr=False hold personal or biometric data: kept out of logs and tracebacks.
@dataclass(frozen=True, slots=True)
class MrzFields:
    """What a document says, in MRZ characters (names may use spaces between components)."""
    document_code: str
    issuing_state: str
    document_number: str = field(repr=False)
    birth_date: str = field(repr=False)
    sex: str
    expiry_date: str = field(repr=False)
    nationality: str
    primary_identifier: str = field(repr=False)
    secondary_identifier: str = field(default="", repr=False)
    optional_data: str = field(default="", repr=False)
    optional_data_2: str = field(default="", repr=False)  # TD1 only
    # Reproduce the issuer deviation that counts the filler in a long number's check digit.
    long_number_filler_in_check: bool = False


def compose(fmt: MrzFormat | str, fields: MrzFields) -> tuple[str, ...]:
    """The MRZ lines of `fields` in format `fmt`; raises MrzComposeError when they do not fit."""
    layout = LAYOUTS[MrzFormat(fmt)]
    rows = [[FILLER] * layout.line_length for _ in range(layout.line_count)]
    for name, value in _field_values(layout, fields).items():
        _put(rows, layout, name, value)
    _put_check_digits(rows, layout, long_number=len(fields.document_number) > 9)
    return tuple("".join(row) for row in rows)


def _field_values(layout: Layout, fields: MrzFields) -> dict[str, str]:
    number, optional = _number_and_optional(layout, fields)
    values = {
        "document_code": fields.document_code, "issuing_state": fields.issuing_state,
        "document_number": number, "nationality": fields.nationality,
        "birth_date": fields.birth_date, "sex": fields.sex, "expiry_date": fields.expiry_date,
        "optional_data": optional, "name": _name_field(fields),
    }
    if "optional_data_2" in layout.fields:
        values["optional_data_2"] = fields.optional_data_2
    elif fields.optional_data_2:
        raise MrzComposeError(f"{layout.format.value} has no second optional data field")
    return values


def _number_and_optional(layout: Layout, fields: MrzFields) -> tuple[str, str]:
    number = fields.document_number
    if len(number) <= 9:
        return number, fields.optional_data
    if not layout.long_number_field:
        raise MrzComposeError(f"{layout.format.value} document numbers have at most 9 characters")
    head, extension = number[:9], number[9:]
    checked = head + FILLER + extension if fields.long_number_filler_in_check else number
    # Parts 5/6: rest of the number, its check digit and a filler open the optional data.
    return head, extension + check_digit(_mrz_text(checked, "document_number")) + FILLER + fields.optional_data


def _name_field(fields: MrzFields) -> str:
    primary = fields.primary_identifier.strip().replace(" ", FILLER)
    secondary = fields.secondary_identifier.strip().replace(" ", FILLER)
    return primary + (FILLER * 2 + secondary if secondary else "")


def _mrz_text(value: str, name: str) -> str:
    if not isinstance(value, str) or not is_mrz_text(value):
        raise MrzComposeError(f"{name}: only A-Z, 0-9 and '<' can be written in an MRZ")
    return value


def _put(rows: list[list[str]], layout: Layout, name: str, value: str) -> None:
    span = layout.fields[name]
    width = span.end - span.start
    value = _mrz_text(value, name)
    if name == "name":
        value = value[:width]  # the issuer truncates long names; the parser flags a full field
    if len(value) > width:
        raise MrzComposeError(f"{name}: {len(value)} characters do not fit in {width}")
    rows[span.line][span.start:span.start + len(value)] = list(value)


def _put_check_digits(rows: list[list[str]], layout: Layout, long_number: bool) -> None:
    def text(name: str) -> str:
        span = layout.fields[name]
        return "".join(rows[span.line][span.start:span.end])

    # A long number's check digit sits in the optional data; its usual position keeps the filler.
    if not long_number:
        _set(rows, layout, "document_number_cd", check_digit(text("document_number")))
    _set(rows, layout, "birth_date_cd", check_digit(text("birth_date")))
    _set(rows, layout, "expiry_date_cd", check_digit(text("expiry_date")))
    if "optional_data_cd" in layout.fields and text("optional_data").strip(FILLER):
        _set(rows, layout, "optional_data_cd", check_digit(text("optional_data")))
    if "composite_cd" in layout.fields:
        lines = tuple("".join(row) for row in rows)
        _set(rows, layout, "composite_cd", check_digit(composite_input(layout, lines)))


def _set(rows: list[list[str]], layout: Layout, name: str, char: str) -> None:
    span = layout.fields[name]
    rows[span.line][span.start] = char
