"""`gatesim demo --reader-only`: scripted documents through the simulated reader and the MRZ pipeline.

The simulated reader writes real reader framings into a pseudo-terminal; the real serial driver
reads them and the MRZ pipeline validates each document, as the appliance does at its first stage.
Needs no pcscd, broker or face photos (the whole appliance runs in `gatesim demo`).
"""
from __future__ import annotations

import argparse
import random
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from drivers.passport_reader import DocumentRead, LinkChanged, LinkState, ReadError, ReaderSettings, open_reader
from firmware_app.mrz import MrzFields, compose, parse
from simulator.reader import FaultPlan, SimulatedReader

DEMO_TODAY = date(2026, 11, 26)
WAIT_FOR_DOCUMENT_S = 3.0


@dataclass(frozen=True)
class Traveller:
    label: str
    lines: tuple[str, ...]
    faults: FaultPlan = FaultPlan()


def _passport(number: str, expiry: str = "330101", **extra) -> tuple[str, ...]:
    fields = MrzFields(document_code="P", issuing_state="UTO", document_number=number,
                       birth_date="900214", sex="F", expiry_date=expiry, nationality="UTO",
                       primary_identifier="ERIKSSON", secondary_identifier="ANNA MARIA", **extra)
    return compose("TD3", fields)


def _id_card_long_number() -> tuple[str, ...]:
    fields = MrzFields(document_code="I", issuing_state="UTO", document_number="D23145890734",
                       birth_date="740812", sex="M", expiry_date="310415", nationality="UTO",
                       primary_identifier="SPECIMEN", secondary_identifier="JAN")
    return compose("TD1", fields)


def _forged_check_digit(lines: tuple[str, ...]) -> tuple[str, ...]:
    second = lines[1]
    forged_digit = str((int(second[9]) + 1) % 10)
    return (lines[0], second[:9] + forged_digit + second[10:])


def script() -> list[Traveller]:
    genuine = _passport("L898902C3")
    return [
        Traveller("genuine passport (TD3)", genuine),
        Traveller("ID card with a 12-character number (TD1)", _id_card_long_number()),
        Traveller("slow reader: chunked delivery with line noise", _passport("X12345678"),
                  FaultPlan(chunk_min=3, chunk_max=9, noise_max=6)),
        Traveller("OCR slip on the reader (O read as 0)",
                  (genuine[0], genuine[1].replace("UTO9", "UT09", 1))),
        Traveller("altered document number (check digit fails)", _forged_check_digit(genuine)),
        Traveller("expired passport", _passport("EX1234567", expiry="250101")),
    ]


def _describe(lines: tuple[str, ...]) -> str:
    result = parse(lines, today=DEMO_TODAY)
    verdict = "VALID" if result.valid else "INVALID"
    notes = [issue.code.value for issue in result.errors] + [w.code.value for w in result.warnings]
    notes += [f"repaired {r.field}" for r in result.repairs]
    notes += [f"chip to confirm: {'+'.join(r.field for r in c.repairs)}" for c in result.candidates]
    return f"{result.format.value}: {verdict}" + (f" ({', '.join(notes)})" if notes else "")


def run_traveller(traveller: Traveller, framing: str, rng: random.Random, link: Path) -> str:
    with SimulatedReader(framing, rng, faults=traveller.faults, link_path=link) as sim:
        reader = open_reader(ReaderSettings(url=sim.path, framing=framing))
        try:
            if not _await_link_up(reader):
                return "reader did not open the port"
            sim.send(traveller.lines)
            return _await_document(reader)
        finally:
            reader.close()


def _await_link_up(reader) -> bool:
    # pyserial flushes the input when it opens the port: send only once the driver reports UP.
    while (event := reader.get_event(timeout_s=2.0)) is not None:
        if isinstance(event, LinkChanged) and event.state is LinkState.UP:
            return True
    return False


def _await_document(reader) -> str:
    while True:
        event = reader.get_event(timeout_s=WAIT_FOR_DOCUMENT_S)
        if event is None:
            return "no document within the time limit: refer to an officer"
        if isinstance(event, ReadError):
            return f"read error ({event.reason.value}): ask the traveller to present it again"
        if isinstance(event, DocumentRead):
            return _describe(tuple(event.lines))


def run_reader_only(args: argparse.Namespace) -> int:
    rng = random.Random(args.seed)
    print(f"gatesim demo --reader-only: simulated passport reader ({args.framing} framing) -> serial driver -> MRZ")
    with tempfile.TemporaryDirectory() as tmp:
        for number, traveller in enumerate(script(), start=1):
            outcome = run_traveller(traveller, args.framing, rng, Path(tmp) / "reader")
            print(f"  traveller {number}: {traveller.label:<48} -> {outcome}")
    return 0
