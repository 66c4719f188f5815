"""OCR repair: substitutions among characters OCR confuses, bounded by each field's class.

The rule: a repair yields a valid result only when a check digit confirms every substitution.
That holds for a character impossible in its field (a letter in a date) that must change, whose
check digit then agrees. Everything else is a guess no check digit can vouch for:
- a swap between characters both allowed in the field (O/0 in a document number): the one check
  digit that flagged the slip cannot also confirm its fix (the composite weighs those fields alike),
  and a misread check digit is "fixed" just as well by changing correct data to match it;
- a fixed country or document code (UT0 -> UTO): no check digit covers those fields;
- a recomputed check digit (the data was right, its digit misread).
Such readings are offered as `candidates` of the invalid result, each itself invalid
(REPAIR_UNCONFIRMED) until the chip confirms it: the lane tries their BAC keys and adopts one only
when BAC succeeds with its key and the chip's DG1 equals it (`result.confirmed_by_chip`).
Names and sex are never repaired. A forced substitution confirmed by its own field's check digit
(one per check) does not count against `max_repairs`; every other substitution does.
Note: ICAO check digits cannot see a change between characters whose values differ by a
multiple of 10 ('<' and 'K', '0' and 'A'); such slips pass unnoticed (the chip's BAC catches them).
"""
from __future__ import annotations

from datetime import date
from itertools import combinations, product

from .charset import check_digit
from .formats import FIELD_CHECKS, FIELD_CLASSES, Layout, Span, composite_input
from .result import Confirmation, Issue, IssueCode, MrzResult, Repair
from .validate import analyse, bad_columns, extract

_PAIRS = ("O0", "Q0", "D0", "I1", "L1", "Z2", "S5", "G6", "B8", "T7", "A4", "<K")
CONFUSIONS: dict[str, tuple[str, ...]] = {}
for _a, _b in (tuple(pair) for pair in _PAIRS):
    CONFUSIONS[_a] = CONFUSIONS.get(_a, ()) + (_b,)
    CONFUSIONS[_b] = CONFUSIONS.get(_b, ()) + (_a,)

NEVER_REPAIRED = frozenset({"name", "sex"})  # no check digit covers them
MAX_UNVERIFIED = 1
MAX_CANDIDATES = 4   # BAC keys the lane may try; beyond that the reading is too uncertain to guess
MAX_EVALUATIONS = 4000  # bounds the work on hostile or hopeless input (~60 ms)
# Check-digit field -> the check it belongs to (a field and its digit form one check).
_CHECK_OF = {field: check for check, pair in FIELD_CHECKS.items() for field in pair}

Position = tuple[str, int, int, str, tuple[str, ...]]  # field, line, column, found, alternatives
Edits = tuple[tuple[Position, str], ...]                # each position with its replacement character


def try_repair(result: MrzResult, layout: Layout, today: date, future_years: int,
               max_repairs: int) -> MrzResult:
    """The repaired result when check digits confirm every substitution; otherwise `result`
    with the unconfirmed readings as BAC key candidates (and a warning saying why)."""
    lines = result.lines
    forced = _forced_positions(extract(lines, layout), layout)
    if forced is None or counted_repairs(forced, layout) > max_repairs:
        return result
    optional = _suspect_positions(result, layout, lines, {(p[1], p[2]) for p in forced})
    search = _Search(layout, today, future_years, lines)
    found: list[Edits] = []
    for extra in range(min(MAX_UNVERIFIED, max_repairs - counted_repairs(forced, layout)) + 1):
        found = search.run(forced, optional, extra)
        if search.exhausted:  # an unfinished search cannot prove a candidate unique
            return _note(result, IssueCode.REPAIR_LIMIT, "OCR repair search limit reached: none applied")
        if found:
            break
    readings = [_as_repairs(edits, layout) for edits in found]
    if len(readings) == 1 and all(r.verified for r in readings[0]):
        return _repaired(search.evaluate(found[0]), readings[0])
    return _offer(result, found, readings, search, layout)


def counted_repairs(forced: list[Position], layout: Layout) -> int:
    """Forced substitutions that count against the cap: all but those alone in a check of their
    own (a letter in a date, confirmed by that date's own check digit)."""
    per_check: dict[str, int] = {}
    for field, *_ in forced:
        check = _own_check(field, layout)
        if check:
            per_check[check] = per_check.get(check, 0) + 1
    alone = sum(1 for count in per_check.values() if count == 1)
    return len(forced) - alone


def _own_check(field: str, layout: Layout) -> str | None:
    check = _CHECK_OF.get(field)
    if check is None or FIELD_CHECKS[check][1] not in layout.fields:
        return None
    if check == "optional_data" and layout.long_number_field:
        return None     # TD1/TD2 optional data may carry the number's end: the composite checks it
    return check


def covered(field: str, layout: Layout) -> bool:
    """Some check digit of this layout covers the field."""
    span = layout.fields[field]
    return _own_check(field, layout) is not None or field == "composite_cd" or _inside_composite(span, layout)


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


def _suspect_positions(result: MrzResult, layout: Layout, lines: tuple[str, ...],
                       taken: set[tuple[int, int]]) -> list[Position]:
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

    def run(self, forced: list[Position], optional: list[Position], extra: int) -> list[Edits]:
        found: list[Edits] = []
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

    def evaluate(self, edits: Edits) -> MrzResult:
        self.evaluations += 1
        return analyse(_edited(self.lines, edits), self.layout, self.today, self.future_years)


def _edited(lines: tuple[str, ...], edits: Edits) -> tuple[str, ...]:
    rows = [list(line) for line in lines]
    for (_, line, column, _, _), char in edits:
        rows[line][column] = char
    return tuple("".join(r) for r in rows)


def _as_repairs(edits: Edits, layout: Layout) -> tuple[Repair, ...]:
    """A forced substitution in a checked field is confirmed by that check; nothing else is."""
    repairs = []
    for (field, line, column, found, _alternatives), char in edits:
        forced = found not in FIELD_CLASSES[field].value
        basis = Confirmation.CHECK_DIGIT if forced and covered(field, layout) else None
        repairs.append(Repair(field, line + 1, column + 1, found, char, basis))
    return tuple(repairs)


def _repaired(repaired: MrzResult, repairs: tuple[Repair, ...]) -> MrzResult:
    note = Issue(IssueCode.OCR_REPAIRED, None, f"{len(repairs)} OCR substitution(s) applied")
    return repaired.replace(repairs=repairs, warnings=repaired.warnings + (note,))


def _offer(result: MrzResult, found: list[Edits], readings: list[tuple[Repair, ...]], search: _Search,
           layout: Layout) -> MrzResult:
    """`result` unchanged but for the readings offered as chip key candidates: first the printed
    data with recomputed check digits (it invents nothing), then the searched repairs, unless
    there are too many of them to be worth a BAC attempt each."""
    if len(found) > 1:
        result = _note(result, IssueCode.REPAIR_AMBIGUOUS, f"{len(found)} OCR repairs fit: none applied")
    recomputed = _recomputed_check_digits(result, layout, search)
    offered = [recomputed] if recomputed is not None else []
    if len(found) <= MAX_CANDIDATES:     # more are not worth building, let alone trying
        searched = [_candidate(search.evaluate(edits), repairs) for edits, repairs in zip(found, readings)]
        searched = [c for c in searched if all(c.lines != o.lines for o in offered)]
        offered += searched if len(offered) + len(searched) <= MAX_CANDIDATES else []
    if not offered:
        return result
    return _note(result.replace(candidates=tuple(offered)), IssueCode.OCR_REPAIR_CANDIDATES,
                 f"{len(offered)} unconfirmed reading(s) offered as chip key candidates")


def _candidate(reading: MrzResult, repairs: tuple[Repair, ...]) -> MrzResult:
    unconfirmed = Issue(IssueCode.REPAIR_UNCONFIRMED, None,
                        "OCR repair no check digit confirms: valid only once the chip confirms it")
    return reading.replace(repairs=repairs, errors=reading.errors + (unconfirmed,))


def _recomputed_check_digits(result: MrzResult, layout: Layout, search: _Search) -> MrzResult | None:
    """The printed data with the failing check digits recomputed: the reading in which only a
    check digit was misread (one field's digit, and the composite that covers it)."""
    failing = [name for name, ok in result.checks if ok is False]
    fields = [name for name in failing if name != "composite"]
    if not failing or len(fields) > 1 or any(i.code is not IssueCode.CHECK_DIGIT for i in result.errors):
        return None
    lines, repairs = result.lines, []
    for name in fields + (["composite"] if layout.composite else []):
        lines, repair = _recompute(lines, layout, name)
        if repair is None and name in fields:
            return None
        repairs += [repair] if repair else []
    reading = analyse(lines, layout, search.today, search.future_years)
    return _candidate(reading, tuple(repairs)) if reading.valid and repairs else None


def _recompute(lines: tuple[str, ...], layout: Layout, check: str) -> tuple[tuple[str, ...], Repair | None]:
    """`lines` with `check`'s digit set to what its data gives (None: unchanged or not a digit)."""
    if check == "composite":
        cd_field, data = "composite_cd", composite_input(layout, lines)
    else:
        data_field, cd_field = FIELD_CHECKS[check]
        data = layout.fields[data_field].take(lines)
    span = layout.fields[cd_field]
    printed, wanted = span.take(lines), check_digit(data)
    if printed == wanted or not printed.isdigit():
        return lines, None      # a '<' digit marks a long number or empty data: not a misread digit
    edit = ((cd_field, span.line, span.start, printed, ()), wanted)
    return _edited(lines, (edit,)), Repair(cd_field, span.line + 1, span.start + 1, printed, wanted, None)


def _note(result: MrzResult, code: IssueCode, message: str) -> MrzResult:
    return result.replace(warnings=result.warnings + (Issue(code, None, message),))
