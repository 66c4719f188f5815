"""The MRZ pipeline: read lines, pick the format, validate every field, repair OCR slips."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from .reading import detect_layout, read_lines
from .repair import try_repair
from .result import MrzResult
from .validate import analyse

DEFAULT_EXPIRY_FUTURE_YEARS = 20
DEFAULT_MAX_REPAIRS = 2


def parse(text_or_lines: str | bytes | Sequence[str | bytes], *, today: date | None = None,
          expiry_future_years: int = DEFAULT_EXPIRY_FUTURE_YEARS, repair: bool = True,
          max_repairs: int = DEFAULT_MAX_REPAIRS) -> MrzResult:
    """Parse and validate an MRZ.

    Content problems (check digits, dates, codes) are reported in the result; only input that
    cannot be an MRZ at all raises MrzUnreadable. `today` anchors century inference and expiry;
    callers inside the appliance pass their injected clock's date. None means the host's date,
    for interactive tools only. An expiry more than `expiry_future_years` ahead is accepted with
    an EXPIRY_FAR_FUTURE warning (expiry centuries lean to the future, birth to the past).
    """
    lines = read_lines(text_or_lines)
    layout = detect_layout(lines)
    today = today if today is not None else date.today()
    result = analyse(lines, layout, today, expiry_future_years)
    if repair and max_repairs > 0 and not result.valid:
        result = try_repair(result, layout, today, expiry_future_years, max_repairs)
    return result
