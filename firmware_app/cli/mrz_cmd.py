"""`gatectl mrz parse [--json] LINE...` (or lines on stdin): fields, checks, errors, warnings.

Exit 0 when valid, 1 when invalid, 2 when the input is not an MRZ at all or on usage errors.
"""
from __future__ import annotations

import json
import sys
from datetime import date

from ..mrz import MrzResult, MrzUnreadable, parse
from ..mrz.reading import MAX_INPUT_CHARS
from . import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError


def register(groups) -> None:
    mrz = groups.add_parser("mrz", help="machine readable zone tools")
    actions = mrz.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    cmd = actions.add_parser("parse", help="parse and validate an MRZ; exit 1 when invalid")
    cmd.add_argument("lines", nargs="*", metavar="LINE", help="MRZ lines (default: read stdin)")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.add_argument("--today", type=iso_date, help="reference date YYYY-MM-DD (default: today)")
    cmd.add_argument("--expiry-future-years", type=int, default=20, metavar="N",
                     help="expiry further ahead than N years is flagged expiry_far_future")
    cmd.add_argument("--no-repair", action="store_true", help="do not attempt OCR repair")
    cmd.set_defaults(func=run_parse)


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a date: {text}") from None


def _read_input(args) -> str | bytes:
    if args.lines:
        return "\n".join(args.lines)
    # Bytes, bounded: the parser reports non-ASCII and oversized input as unreadable.
    stream = getattr(sys.stdin, "buffer", None)
    text = stream.read(MAX_INPUT_CHARS + 1) if stream else sys.stdin.read(MAX_INPUT_CHARS + 1)
    if not text.strip():
        raise UsageError("no MRZ lines given (as arguments or on stdin)")
    return text


def run_parse(args) -> int:
    if not 1 <= args.expiry_future_years <= 99:
        raise UsageError("--expiry-future-years must be between 1 and 99")
    try:
        result = parse(_read_input(args), today=args.today,
                       expiry_future_years=args.expiry_future_years, repair=not args.no_repair)
    except MrzUnreadable as exc:
        if args.json:
            print(json.dumps({"valid": False, "unreadable": str(exc)}))
        print(f"gatectl: unreadable MRZ: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        print(_human(result))
    return EXIT_OK if result.valid else EXIT_FAILED


def _human(result: MrzResult) -> str:
    data = result.to_json()
    rows = [f"{'VALID' if result.valid else 'INVALID'} {data['format']} MRZ"]
    for key in ("document_code", "issuing_state", "document_number", "nationality",
                "primary_identifier", "secondary_identifier", "sex", "birth_date_iso",
                "expiry_date_iso", "optional_data", "optional_data_2", "mrz_information"):
        if data[key] not in (None, ""):
            rows.append(f"  {key:22} {data[key]}")
    checks = ", ".join(f"{name}={_mark(ok)}" for name, ok in data["checks"].items())
    rows.append(f"  {'checks':22} {checks}")
    rows += [f"  error    {i['code']}: {i['message']}" for i in data["errors"]]
    rows += [f"  warning  {i['code']}: {i['message']}" for i in data["warnings"]]
    rows += [f"  repaired line {r['line']} col {r['column']}: {r['from']} -> {r['to']} ({r['field']}, "
             f"confirmed by {r['confirmed_by']})" for r in data["repairs"]]
    for number, candidate in enumerate(data["candidates"], 1):
        edits = "; ".join(f"line {r['line']} col {r['column']}: {r['from']} -> {r['to']} ({r['field']})"
                          for r in candidate["repairs"])
        rows.append(f"  candidate {number} (unconfirmed; a gate tries it as a BAC key): {edits}")
    return "\n".join(rows)


def _mark(ok: bool | None) -> str:
    return "n/a" if ok is None else ("ok" if ok else "FAIL")
