"""ICAO Doc 9303 machine readable zones: parse, validate, repair OCR slips, compose.

    from firmware_app.mrz import parse
    result = parse(lines, today=clock_date, expiry_future_years=cfg.mrz.expiry_future_years,
                   repair=cfg.mrz.ocr_repair, max_repairs=cfg.mrz.max_repairs)
    result.valid, result.errors, result.warnings, result.repairs, result.mrz_information
    result.candidates   # when invalid: readings unconfirmed repairs give, for the chip to try

Only input that cannot be an MRZ raises (MrzUnreadable and subclasses); everything else is
reported in the result. `gatectl mrz parse [--json] LINE...` is the CLI; `python -m bench mrz`
measures it. Modules: reading (input -> lines), formats (layouts as data), validate (checks),
repair (OCR substitutions), dates, names, countries, doccodes, compose, result, errors.
"""
from .charset import check_digit, weighted_sum
from .compose import MrzFields, compose
from .errors import MrzBadCharset, MrzComposeError, MrzError, MrzTooLarge, MrzUnreadable, MrzWrongLength
from .formats import LAYOUTS, MrzFormat, composite_input
from .names import name_variants, names_match, normalise_name
from .parse import parse
from .result import Confirmation, Issue, IssueCode, MrzResult, Repair, confirmed_by_chip

__all__ = [
                     "LAYOUTS",
                     "Confirmation",
                     "Issue",
                     "IssueCode",
                     "MrzBadCharset",
                     "MrzComposeError",
                     "MrzError",
                     "MrzFields",
                     "MrzFormat",
                     "MrzResult",
                     "MrzTooLarge",
                     "MrzUnreadable",
                     "MrzWrongLength",
                     "Repair",
                     "check_digit",
                     "compose",
                     "composite_input",
                     "confirmed_by_chip",
                     "name_variants",
                     "names_match",
                     "normalise_name",
                     "parse",
                     "weighted_sum",
]
