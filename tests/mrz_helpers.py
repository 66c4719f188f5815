"""Shared helpers for the MRZ tests: a fixed date and a composed specimen per format."""
from __future__ import annotations

from datetime import date

from firmware_app.mrz import MrzFields, compose

TODAY = date(2026, 11, 26)


def specimen(fmt: str, **overrides) -> tuple[str, ...]:
    values = dict(document_code={"TD3": "P", "MRVA": "V", "MRVB": "V"}.get(fmt, "I"),
                  issuing_state="UTO", document_number="L898902C3", birth_date="740812",
                  sex="F", expiry_date="320415", nationality="UTO",
                  primary_identifier="ERIKSSON", secondary_identifier="ANNA MARIA",
                  optional_data="ZE184226B" if fmt in ("TD3", "MRVA") else "")
    values.update(overrides)
    return compose(fmt, MrzFields(**values))
