"""Misread sweep: does OCR repair ever turn a misread MRZ into valid, different data?

    .venv/bin/python -m bench mrz_misread [--data DIR]

Over every ICAO example of DIR/vectors/mrz_icao_examples.json (default ../shared/data), two sweeps:
- check-digit misreads: each check digit replaced by each of the 9 other digits;
- OCR confusions: each character a check digit covers replaced by each character OCR confuses it
  with (the repair table's pairs).
Each misread is parsed (repair on, defaults) and counted once as: valid with the original data
(repaired and confirmed, or the slip was invisible... never, see below), valid with CHANGED data
(invented: must be 0), or rejected; among rejected, how many offer the original MRZ as a BAC key
candidate (the chip may confirm it). Misreads that no 7-3-1 check digit can see (values equal
modulo 10, e.g. '<' for 'K') are counted apart: they are not repair failures.
"""
from __future__ import annotations

import argparse
import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from firmware_app.mrz import LAYOUTS, MrzFields, MrzFormat, compose, parse
from firmware_app.mrz.charset import VALUES
from firmware_app.mrz.formats import FIELD_CLASSES
from firmware_app.mrz.repair import CONFUSIONS, covered

TODAY = date(2026, 11, 26)
DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
# Example format -> (our format, line to add so a partial example forms a full MRZ, before/after).
_FORMATS = {
    "TD3": (MrzFormat.TD3, None), "TD1": (MrzFormat.TD1, None), "TD2": (MrzFormat.TD2, None),
    "MRV-A": (MrzFormat.MRVA, None), "MRV-B": (MrzFormat.MRVB, None),
    "TD3-lower-line-only": (MrzFormat.TD3, ("before", "P<UTOX" + "<" * 38)),
    "TD2-lower-line-only": (MrzFormat.TD2, ("before", "I<UTOX" + "<" * 30)),
    "TD1-upper+middle": (MrzFormat.TD1, ("after", "X" + "<" * 29)),
}
_CHECK_DIGITS = ("document_number_cd", "birth_date_cd", "expiry_date_cd", "optional_data_cd", "composite_cd")


@dataclass
class Tally:
    counts: Counter

    def line(self) -> str:
        c = self.counts
        return (f"{c['total']:5d} misreads: {c['invented']} valid with changed data, "
                f"{c['restored']} repaired and confirmed, {c['rejected']} rejected "
                f"({c['candidate']} of them offer the original as a BAC key candidate), "
                f"{c['invisible']} invisible to check digits")


def full_lines(example: dict) -> tuple[MrzFormat, tuple[str, ...]]:
    fmt, extra = _FORMATS[example["fmt"]]
    lines = tuple(example["lines"])
    if extra:
        lines = (extra[1],) + lines if extra[0] == "before" else lines + (extra[1],)
    return fmt, lines


def documents(data_dir: Path) -> list[tuple[MrzFormat, tuple[str, ...]]]:
    """The examples that parse valid as printed (a sweep needs a known-good original).

    Part 3's examples print the fictional code YTO, which no list holds; the sweep reads it as
    UTO (Part 4-7's fictional state). No check digit covers a country code, so nothing else moves.
    """
    examples = json.loads((data_dir / "vectors" / "mrz_icao_examples.json").read_text())
    found = [full_lines(e) for e in examples if e["fmt"] in _FORMATS]
    found = [(fmt, tuple(line.replace("YTO", "UTO") for line in lines)) for fmt, lines in found]
    return [(fmt, lines) for fmt, lines in found if parse(lines, today=TODAY, repair=False).valid]


def composed_documents(count: int, seed: int = 9303) -> list[tuple[MrzFormat, tuple[str, ...]]]:
    """`count` documents composed from a seeded generator, every format in turn: numbers and
    personal numbers mostly digits with a letter or two (as issuers print them), so O/0-style
    slips have somewhere to land. Reproducible: the same seed gives the same documents."""
    rng, docs = random.Random(seed), []
    for index in range(count):
        fmt = list(MrzFormat)[index % len(MrzFormat)]
        fields = MrzFields(
            document_code={"TD3": "P", "MRVA": "V", "MRVB": "V"}.get(fmt.value, "I"), issuing_state="UTO",
            document_number=_alnum(rng, 9), birth_date=f"{rng.randint(40, 99):02d}{rng.randint(1, 12):02d}"
            f"{rng.randint(1, 28):02d}", sex=rng.choice("MF"), expiry_date=f"{rng.randint(27, 36):02d}"
            f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}", nationality="UTO",
            primary_identifier="SPECIMEN", secondary_identifier="TEST",
            optional_data=_alnum(rng, {"TD1": 12, "TD2": 7, "TD3": 14, "MRVA": 12, "MRVB": 8}[fmt.value]))
        docs.append((fmt, compose(fmt.value, fields)))
    return docs


def _alnum(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("0123456789" * 4 + "ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(size))


def check_digit_misreads(fmt: MrzFormat, lines: tuple[str, ...]):
    """(line, column, new character, field) for every digit-for-digit check-digit misread."""
    layout = LAYOUTS[fmt]
    for name in _CHECK_DIGITS:
        span = layout.fields.get(name)
        if span is None or not lines[span.line][span.start].isdigit():
            continue
        for digit in "0123456789".replace(lines[span.line][span.start], ""):
            yield span.line, span.start, digit, name


def confusion_misreads(fmt: MrzFormat, lines: tuple[str, ...]):
    """Every OCR-confusable substitution in a field some check digit covers (an MRV's optional
    data has none: its slips are invisible by design, not repair failures)."""
    layout = LAYOUTS[fmt]
    for name, span in layout.fields.items():
        if name in ("name", "sex") or not covered(name, layout):
            continue
        for column in range(span.start, span.end):
            for new in CONFUSIONS.get(lines[span.line][column], ()):
                yield span.line, column, new, name


def classify(lines: tuple[str, ...], line: int, column: int, new: str, field: str, today: date) -> str:
    old = lines[line][column]
    broken = list(lines)
    broken[line] = lines[line][:column] + new + lines[line][column + 1:]
    result = parse(tuple(broken), today=today)
    if result.valid:
        if result.lines == lines:
            return "invisible" if tuple(broken) == result.lines and not result.repairs else "restored"
        if new in FIELD_CLASSES[field].value and (VALUES[new] - VALUES[old]) % 10 == 0:
            return "invisible"
        return "invented"
    offered = any(c.lines == lines for c in getattr(result, "candidates", ()))
    return "candidate" if offered else "rejected"


def sweep(docs, misreads, today: date = TODAY) -> Tally:
    counts: Counter = Counter()
    for fmt, lines in docs:
        for line, column, new, field in misreads(fmt, lines):
            outcome = classify(lines, line, column, new, field, today)
            counts["total"] += 1
            counts[outcome] += 1
            if outcome == "candidate":
                counts["rejected"] += 1
    return Tally(counts)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench mrz_misread")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="shared data directory")
    parser.add_argument("--composed", type=int, default=100, help="seeded composed documents to add")
    args, _ = parser.parse_known_args(argv or [])   # `bench mrz --number N` reaches both mrz benches
    for title, docs in (("ICAO examples", documents(args.data)),
                        ("composed documents (seed 9303)", composed_documents(args.composed))):
        formats = ", ".join(sorted({fmt.value for fmt, _ in docs}))
        print(f"MRZ misread sweep over {len(docs)} {title} ({formats}), today={TODAY}")
        print(f"  check-digit misreads   {sweep(docs, check_digit_misreads).line()}")
        print(f"  OCR confusions         {sweep(docs, confusion_misreads).line()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
