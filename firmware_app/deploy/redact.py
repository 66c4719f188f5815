"""Removing personal data from text bound for a support bundle.

What it recognises: MRZ lines (runs of 30 or more of A-Z 0-9 < with a filler), the values of
fields that name personal data (surname, given names, document number, birth date, nationality,
MRZ, portraits and images; as JSON members, key=value or key: value), and long base64 or hex
runs (images, chip files, APDU traces). A name written into free text without a field name cannot
be recognised: by the project's rule such text is logged at DEBUG only, and the bundle leaves out
DEBUG entries altogether.
"""
from __future__ import annotations

import re
from collections import Counter

PERSONAL_KEYS = ("surname", "given_names", "given_name", "names", "holder", "holder_name", "primary_identifier",
                 "secondary_identifier", "document_number", "doc_number", "personal_number", "optional_data",
                 "date_of_birth", "birth_date", "dob", "date_of_expiry", "nationality", "sex", "mrz",
                 "mrz_lines", "mrz_text", "portrait", "image", "photo", "dg1", "dg2", "dg11")
_KEYS = "|".join(sorted(PERSONAL_KEYS, key=len, reverse=True))
_JSON_VALUE = r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\{[^}]*\}|[-\w.]+'
RULES: tuple[tuple[str, re.Pattern, str], ...] = (
    ("json_field", re.compile(rf'("(?:{_KEYS})"\s*:\s*)(?:{_JSON_VALUE})', re.IGNORECASE), r'\1"[REDACTED]"'),
    ("key_value", re.compile(rf"(?<![\w\"])((?:{_KEYS})\s*[=:]\s*)(?:'[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE),
     r"\1[REDACTED]"),
    # A run of MRZ characters at least one line long with a filler in it, however long (two lines
    # logged without a separator are one run).
    ("mrz_line", re.compile(r"(?<![A-Z0-9<])(?=[A-Z0-9<]{30})(?=[A-Z0-9]*<)[A-Z0-9<]+"), "[MRZ REDACTED]"),
    ("base64_blob", re.compile(r"[A-Za-z0-9+/]{80,}={0,2}"), "[BINARY REDACTED]"),
    ("hex_blob", re.compile(r"\b(?:[0-9A-Fa-f]{2}[ :]?){32,}"), "[HEX REDACTED] "),
)


def redact(text: str, counts: Counter | None = None) -> str:
    for name, pattern, replacement in RULES:
        text, n = pattern.subn(replacement, text)
        if counts is not None and n:
            counts[name] += n
    return text
