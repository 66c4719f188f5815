"""The end-to-end personal-data guard: a scenario run's logs above DEBUG, from every process, and its
BMIS messages, searched for each traveller's personal data exactly as the run issued it.

    issued = runner.issued                          # Issued, one per traveller (scenario_run.py keeps them)
    with LogCapture() as captured:                  # every in-process record at INFO and above
        ... run the scenario ...
    hits = search(captured.records + process_log("gate-app", text), needles_of(issued))
    hits += bmis_hits(messages, needles_of(issued))

What is searched for: surname and given names (as printed, and as the MRZ writes them with '<'
fillers), the document number (also as the hex of its ASCII, as a dump of DG1 or of a decrypted
response would show it), the date of birth (YYMMDD and ISO), the raw MRZ lines and runs of
the chip portrait's bytes (hex, base64 at each alignment, Python's bytes repr). A BMIS crossing
record may carry the document's fields (events-crossing.json `data.document`); nothing else in any
message may carry any of them, and no message may carry the portrait. A hit names where and what
kind of data, and shows the line with every piece of personal data masked.
"""
from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass

from firmware_app.mrz import parse

MAX_SHOWN = 240         # characters of a (masked) line shown in a hit
RUN = 30                # bytes of the portrait per searched run (a multiple of 3: base64 aligns)
JPEG_START, JP2_START = b"\xff\xd8\xff", b"\x00\x00\x00\x0cjP  \r\n\x87\n"
PROCESS_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (\S+) (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")


@dataclass(frozen=True)
class Issued:
    """One traveller's document as the runner issued it: the MRZ in the chip, the MRZ on the page
    (they differ for an altered data page) and the chip portrait's image bytes."""
    number: int
    lines: tuple[str, ...]
    printed: tuple[str, ...]
    portrait: bytes

    def __repr__(self) -> str:          # never the data itself (a failing assertion prints reprs)
        return f"Issued(traveller {self.number})"


@dataclass(frozen=True)
class Needle:
    kind: str
    pattern: re.Pattern[str]


@dataclass(frozen=True)
class Record:
    """One log record (or one BMIS message) as text, where it came from and at what level."""
    source: str
    level: int
    text: str

    def __repr__(self) -> str:          # a failing test prints its fixtures: never the text itself
        return f"Record({self.source}, {logging.getLevelName(self.level)}, {len(self.text)} chars)"


@dataclass(frozen=True)
class Hit:
    source: str
    level: int
    kinds: tuple[str, ...]
    masked: str

    def line(self) -> str:
        return f"{self.source} {logging.getLevelName(self.level)} [{', '.join(self.kinds)}]: {self.masked}"


def portrait_of(dg2: bytes) -> bytes:
    """The image inside a DG2 (JPEG or JPEG 2000), or the whole file when neither is found."""
    starts = [at for at in (dg2.find(JPEG_START), dg2.find(JP2_START)) if at >= 0]
    return dg2[min(starts):] if starts else dg2


def _word(text: str) -> re.Pattern[str]:
    """`text` not inside a longer word or number (a birth date is not any six digits of an id)."""
    return re.compile(r"(?<![\w.])" + re.escape(text) + r"(?!\w)")


def _literal(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))


def _mrz_needles(lines: tuple[str, ...]) -> list[Needle]:
    """Names and numbers as plain text (case as issued: the MRZ's capitals), also inside a piece of
    an MRZ line; only the six-digit birth date must stand alone (any id may hold six digits)."""
    result = parse(list(lines), repair=False)
    found = [Needle("mrz_line", _literal(line)) for line in lines]
    surname, given = result.primary_identifier or "", result.secondary_identifier or ""
    for kind, text in (("surname", surname), ("given_names", given)):
        if text:
            found += [Needle(kind, _literal(text)), Needle(kind, _literal(text.replace(" ", "<")))]
    if surname and given:
        found.append(Needle("name_field", _literal(f"{surname}<<{given}".replace(" ", "<"))))
    if result.document_number:
        number = result.document_number.rstrip("<")
        found.append(Needle("document_number", _literal(number)))
        # chip data dumped as hex (a decrypted DG1 or a response APDU in a trace) shows it as ASCII codes
        found += [Needle("chip_data", _literal(number.encode().hex())),
                  Needle("chip_data", _literal(number.encode().hex().upper()))]
    if result.birth_date and "<" not in result.birth_date:
        found.append(Needle("birth_date", _word(result.birth_date)))
    if result.birth_date_iso:
        found.append(Needle("birth_date", _literal(result.birth_date_iso.isoformat())))
    return found


def _portrait_needles(portrait: bytes) -> list[Needle]:
    if len(portrait) < 4 * RUN:
        return []
    middle = len(portrait) // 2
    runs = [portrait[:RUN]] + [portrait[at:at + RUN] for at in (middle, middle + 1, middle + 2)]
    texts = {run.hex() for run in runs} | {run.hex().upper() for run in runs}
    texts |= {base64.b64encode(run).decode() for run in runs}
    texts |= {repr(run[:16])[2:-1] for run in runs}
    return [Needle("portrait", re.compile(re.escape(text))) for text in sorted(texts)]


def needles_of(issued: Iterable[Issued]) -> list[Needle]:
    found: dict[tuple[str, str], Needle] = {}
    for document in issued:
        for needle in (_mrz_needles(document.lines) + _mrz_needles(document.printed)
                       + _portrait_needles(document.portrait)):
            found.setdefault((needle.kind, needle.pattern.pattern), needle)
    return list(found.values())


def mask(text: str, needles: Iterable[Needle]) -> str:
    for needle in needles:
        text = needle.pattern.sub(f"<{needle.kind}>", text)
    return text


def search(records: Iterable[Record], needles: list[Needle], level: int = logging.INFO) -> list[Hit]:
    """Records at `level` or above that carry any needle."""
    hits = []
    for record in records:
        if record.level < level:
            continue
        kinds = tuple(dict.fromkeys(n.kind for n in needles if n.pattern.search(record.text)))
        if kinds:
            hits.append(Hit(record.source, record.level, kinds, mask(record.text, needles)[:MAX_SHOWN]))
    return hits


class LogCapture(logging.Handler):
    """Every record of this process at `level` and above, formatted as a log file would have it
    (with any traceback). The root logger is opened to `level` while it lasts: records below the
    root's level (WARNING unless set) would never be made, and an empty capture proves nothing."""

    def __init__(self, level: int = logging.INFO):
        super().__init__(level)
        self.setFormatter(logging.Formatter("%(message)s"))     # name and level are the Record's own
        self.records: list[Record] = []
        self._root_level: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(Record(record.name, record.levelno, self.format(record)))

    def __enter__(self) -> LogCapture:
        root = logging.getLogger()
        self._root_level = root.level
        if root.getEffectiveLevel() > self.level:
            root.setLevel(self.level)
        root.addHandler(self)
        return self

    def __exit__(self, *exc_info) -> None:
        root = logging.getLogger()
        root.removeHandler(self)
        if self._root_level is not None:
            root.setLevel(self._root_level)


TRACEBACK_STARTS = ("Traceback", "During handling", "The above exception")


def process_log(process: str, text: str) -> list[Record]:
    """A process's log file (stdout and stderr, TEXT_FORMAT records) as records: a traceback belongs
    to the record above it; anything else outside a record (a bare print, a multi-line message's
    later lines, an interpreter's last words) counts as WARNING: on a device it lands in the journal."""
    records: list[Record] = []
    in_traceback = False
    for line in text.splitlines():
        match = PROCESS_RECORD.match(line)
        if match:
            records.append(Record(f"{process}:{match[1]}", logging.getLevelName(match[2]), line))
            in_traceback = False
        elif records and (line.startswith(TRACEBACK_STARTS) or (in_traceback and (not line or line[0] in " \t"))):
            records[-1] = _continued(records[-1], line)
            in_traceback = True
        elif records and in_traceback:          # the exception's own line ends the traceback
            records[-1] = _continued(records[-1], line)
            in_traceback = False
        elif line and not line.startswith("--- start "):    # the bench's own start markers
            records.append(Record(f"{process}:stderr", logging.WARNING, line))
    return records


def _continued(record: Record, line: str) -> Record:
    return Record(record.source, record.level, record.text + "\n" + line)


def bmis_records(messages: Iterable[dict]) -> list[Record]:
    """BMIS messages as the reference consumer stores them (`kind`, `data`, envelope members) as
    records to search; a crossing record's `data.document` is left out (the contract lets it carry
    the document's fields), every other member of every message is searched."""
    records = []
    for message in messages:
        kind, data = str(message.get("kind", "?")), message.get("data")
        if kind == "events/crossing" and isinstance(data, dict):
            message = {**message, "data": {k: v for k, v in data.items() if k != "document"}}
        records.append(Record(f"bmis:{kind}", logging.INFO, json.dumps(message, sort_keys=True)))
    return records


def portrait_in_bmis(messages: Iterable[dict], needles: list[Needle]) -> list[Hit]:
    """No message, not even a crossing record's document, may carry the portrait (events-crossing.json:
    no face image, no portrait, no template)."""
    whole = [Record(f"bmis:{m.get('kind', '?')}", logging.INFO, json.dumps(m, sort_keys=True)) for m in messages]
    return search(whole, [n for n in needles if n.kind == "portrait"])


def bmis_hits(messages: list[dict], needles: list[Needle]) -> list[Hit]:
    """Hits in BMIS messages: any personal data outside a crossing record's document, the portrait anywhere."""
    personal = [n for n in needles if n.kind != "portrait"]
    return search(bmis_records(messages), personal) + portrait_in_bmis(messages, needles)
