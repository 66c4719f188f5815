"""OCR repair: substitutions among characters OCR confuses, bounded by each field's class.

A candidate is accepted only when it passes every check and is the only one with the fewest
substitutions. Names are never repaired: nothing checks them, so any edit would be a guess.
Characters impossible in their field (a letter in a date) must change, and the check digit then
confirms the fix. A swap between characters both allowed in the field (O/0 in a document number)
is only ever tried once per MRZ: the one check digit that flagged it cannot also confirm it (the
composite weighs those fields identically), so it is reported as unverified for the chip to confirm.
Note: ICAO check digits cannot see a change between characters whose values differ by a
multiple of 10 ('<' and 'K', '0' and 'A'); such edits make candidates ambiguous, never accepted.
"""
from __future__ import annotations

from datetime import date
from itertools import combinations, product

from .formats import FIELD_CHECKS, FIELD_CLASSES, Layout, Span
from .result import Issue, IssueCode, MrzResult, Repair
from .validate import analyse, bad_columns, extract

_PAIRS = ("O0", "Q0", "D0", "I1", "L1", "Z2", "S5", "G6", "B8", "T7", "A4", "<K")
CONFUSIONS: dict[str, tuple[str, ...]] = {}
for _a, _b in _PAIRS:
    CONFUSIONS[_a] = CONFUSIONS.get(_a, ()) + (_b,)
    CONFUSIONS[_b] = CONFUSIONS.get(_b, ()) + (_a,)

NEVER_REPAIRED = frozenset({"name", "sex"})  # no check digit covers them
MAX_UNVERIFIED = 1
MAX_EVALUATIONS = 4000  # bounds the work on hostile or hopeless input (~60 ms)

Position = tuple[str, int, int, str, tuple[str, ...]]  # field, line, column, found, alternatives


def try_repair(result: MrzResult, layout: Layout, today: date, future_years: int,
               max_repairs: int) -> MrzResult:
    """The uniquely repaired result, or `result` (with a warning when ambiguous)."""
    lines = result.lines
    raw = extract(lines, layout)
    forced = _forced_positions(raw, layout)
    if forced is None or len(forced) > max_repairs:
        return result
    optional = _suspect_positions(result, layout, lines, {(p[1], p[2]) for p in forced})
    search = _Search(layout, today, future_years, lines)
    for extra in range(0, min(MAX_UNVERIFIED, max_repairs - len(forced)) + 1):
        found = search.run(forced, optional, extra)
        if search.exhausted:  # an unfinished search cannot prove a candidate unique
            return _note(result, IssueCode.REPAIR_LIMIT, "OCR repair search limit reached: none applied")
        if len(found) == 1:
            return _repaired(found[0], len(forced), search.evaluate(found[0]))
        if len(found) > 1:
            return _note(result, IssueCode.REPAIR_AMBIGUOUS, "several OCR repairs fit: none applied")
    return result


def _forced_positions(raw: dict[str, str], layout: Layout) -> list[Position] | None:
    """Characters outside their field's class must change; None when one cannot."""
    forced = []
    for name, offset in bad_columns(raw, layout):
        span = layout.fields[name]
        char = raw[name][offset]
        alternatives = _alternatives(char, name)
        if name in NEVER_REPAIRED or not alternatives:
            return None
        forced.append((name, span.line, span.start + offset, char, alternatives))
    return forced


def _alternatives(char: str, field: str) -> tuple[str, ...]:
    allowed = FIELD_CLASSES[field].value
    return tuple(c for c in CONFUSIONS.get(char, ()) if c in allowed)


def _suspect_positions(result: MrzResult, layout: Layout, lines, taken) -> list[Position]:
    """Confusable characters inside the fields of every failing check."""
    spans: list[tuple[str, Span]] = []
    for check, ok in result.checks:
        if ok is not False:
            continue
        spans.extend(_check_spans(check, layout))
    seen, positions = set(taken), []
    for field, span in spans:
        for column in range(span.start, span.end):
            char = lines[span.line][column]
            alternatives = _alternatives(char, field)
            if alternatives and (span.line, column) not in seen:
                seen.add((span.line, column))
                positions.append((field, span.line, column, char, alternatives))
    return positions


def _check_spans(check: str, layout: Layout) -> list[tuple[str, Span]]:
    if check == "composite":
        names = [n for n, s in layout.fields.items() if _inside_composite(s, layout)]
        return [(n, layout.fields[n]) for n in names if n not in NEVER_REPAIRED]
    fields = list(FIELD_CHECKS[check])
    if check == "document_number" and layout.long_number_field:
        fields.append(layout.long_number_field)
    return [(n, layout.fields[n]) for n in fields]


def _inside_composite(span: Span, layout: Layout) -> bool:
    if span == layout.fields.get("composite_cd"):
        return True
    return any(c.line == span.line and c.start <= span.start and span.end <= c.end
               for c in layout.composite)


class _Search:
    """Tries substitution sets of one size; counts evaluations to stay bounded."""

    def __init__(self, layout: Layout, today: date, future_years: int, lines: tuple[str, ...]):
        self.layout, self.today, self.future_years = layout, today, future_years
        self.lines = lines
        self.evaluations = 0
        self.exhausted = False

    def run(self, forced: list[Position], optional: list[Position], extra: int) -> list:
        found = []
        for chosen in combinations(optional, extra):
            positions = forced + list(chosen)
            for replacement in product(*(p[4] for p in positions)):
                edits = tuple(zip(positions, replacement))
                if self.evaluations >= MAX_EVALUATIONS:
                    self.exhausted = True
                    return found
                if self.evaluate(edits).valid:
                    found.append(edits)
        return found

    def evaluate(self, edits) -> MrzResult:
        self.evaluations += 1
        rows = [list(line) for line in self.lines]
        for (_, line, column, _, _), char in edits:
            rows[line][column] = char
        return analyse(tuple("".join(r) for r in rows), self.layout, self.today, self.future_years)


def _repaired(edits, forced_count: int, repaired: MrzResult) -> MrzResult:
    # Forced positions come first in every candidate: those are the verified substitutions.
    repairs = tuple(Repair(field, line + 1, column + 1, found, char, index < forced_count)
                    for index, ((field, line, column, found, _), char) in enumerate(edits))
    if all(r.verified for r in repairs):
        note = Issue(IssueCode.OCR_REPAIRED, None, f"{len(repairs)} OCR substitution(s) applied")
    else:
        note = Issue(IssueCode.OCR_REPAIRED_UNVERIFIED, None,
                     "OCR substitution confirmed by one check digit only: confirm with the chip")
    return repaired.replace(repairs=repairs, warnings=repaired.warnings + (note,))


def _note(result: MrzResult, code: IssueCode, message: str) -> MrzResult:
    return result.replace(warnings=result.warnings + (Issue(code, None, message),))
