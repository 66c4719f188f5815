"""The traveller keys of a scenario file: each key's type, values and default (KEYS), and the strict
check of one traveller table against them.

`gatesim scenario --help` (simulator/scenario_help.py) and docs/scenarios.md are made from the same
table. Every error names the traveller (number and label) and the key; an unknown key or value gets
a "did you mean".
"""
from __future__ import annotations

import difflib
import enum
import re
from dataclasses import dataclass

from firmware_app.lane.state import CrossingOutcome
from firmware_app.policy.reasons import ReasonCode
from simulator.live_scenes import LiveImage
from simulator.reader import SimulatorError
from simulator.scenario_model import (
    Behaviour,
    CardAccess,
    Chip,
    Document,
    Forgery,
    Hostile,
    MrzDefect,
    OfficerAnswer,
    PresentationAttack,
    Scenario,
    ScenarioError,
    TravellerSpec,
)

MAX_TEXT = 200


class Kind(enum.Enum):
    TEXT = "string"
    BOOL = "boolean (true or false, not a string)"
    CHOICE = "one of the values listed"
    TEXT_LIST = "list of strings"
    CHOICE_LIST = "list of the values listed"


@dataclass(frozen=True)
class Key:
    name: str
    kind: Kind
    default: str
    text: str
    values: tuple[str, ...] = ()
    required: bool = False


FAULT_SPECS = ("chunk=MIN-MAX (write each frame in pieces of MIN..MAX bytes)", "delay=S (pause between pieces)",
               "noise=N (up to N noise bytes before each frame)", "truncate=P (frame cut short)",
               "ocr=P (one OCR-style character swap)", "bcc=P (RTE framing: check byte corrupted)")

KEYS = (
    Key("label", Kind.TEXT, "-", "what the traveller stands for; printed on the result line", required=True),
    Key("person", Kind.TEXT, "-", "folder under the faces directory: the chip portrait is its 1st photo "
        "(img1), the live face its 2nd; bundled persons 'hopper' and 'collins' are always there", required=True),
    Key("impostor", Kind.TEXT, "none", "another person: the live face is theirs (someone else's passport)"),
    Key("presentation_attack", Kind.CHOICE, "none", "the live photo is held to the camera (synthesised): "
        "print_border (a print with its border), screen (a tablet), phone (a phone), close_up_print (a print "
        "held close)", tuple(a.value for a in PresentationAttack)),
    Key("forgery", Kind.CHOICE, "none", "how the document is forged: tampered_dg (DG2 changed after signing), "
        "clone (chip without the private key: AA/CA fail), wrong_signer (SOD signed by an unknown key), "
        "altered_mrz (the printed data page's name altered; the chip keeps the issued DG1)",
        tuple(f.value for f in Forgery)),
    Key("hostile", Kind.CHOICE, "none", "a hostile document (signed by the trusted Document Signer): "
        "huge_q_dg14 (DG14's DH key claims a 65 KB subgroup order: the DH q bomb), one_byte_reads (the chip "
        "answers every READ BINARY with one byte), jpeg_scan_bomb (a 4000x4000 progressive JPEG portrait "
        "whose last scan repeats)", tuple(h.value for h in Hostile)),
    Key("expired", Kind.BOOL, "false", "the document expired a year ago"),
    Key("no_expiry", Kind.BOOL, "false", "the document states no expiry date: '<<<<<<' with check digit '<' "
        "in the printed MRZ and on the chip (as some national ID cards for seniors)"),
    Key("birth_date_unknown", Kind.BOOL, "false", "the holder's birth day and month are unknown: the birth date "
        "is printed (and on the chip) as 'YY<<<<'"),
    Key("mrz_defect", Kind.CHOICE, "none", "a document personalised wrongly, its printed MRZ and its chip's "
        "DG1 alike: composite_check_digit (the composite check digit is off by one)",
        tuple(d.value for d in MrzDefect)),
    Key("nationality", Kind.TEXT, "UTO", "the holder's nationality in the MRZ (ICAO code: 3 capital letters, "
        "or D<< style with fillers); see the [post] table's eligible_nationalities"),
    Key("alert", Kind.BOOL, "false", "the BMIS lists the document as stolen (signed alerts-replace) before it arrives"),
    Key("live_image", Kind.CHOICE, "sharp", "how the live face reaches the camera: blurred (out of focus), "
        "dark (an unlit lane)", tuple(i.value for i in LiveImage)),
    Key("companion", Kind.TEXT, "none", "another person (a folder like person) stands beside the traveller: "
        "both faces in the camera frame"),
    Key("behaviour", Kind.CHOICE, "walk", "what happens when the doors open: walk (one person crosses), "
        "tailgate (a second person follows), emergency (the fire loop opens during the passage)",
        tuple(b.value for b in Behaviour)),
    Key("document", Kind.CHOICE, "td3", "the document: td3 (passport, 2 lines of 44) or td1 (ID card, "
        "3 lines of 30)", tuple(d.value for d in Document)),
    Key("chip", Kind.CHOICE, "bac", "how the chip is opened: bac (BAC only), pace (PACE generic mapping, ECDH "
        "brainpoolP256r1, AES-128, besides BAC), pace_cam (PACE with Chip Authentication Mapping)",
        tuple(c.value for c in Chip)),
    Key("card_access", Kind.CHOICE, "as issued", "a man in the middle between the chip and the reader "
        "rewrites EF.CardAccess (chip pace or pace_cam only): hidden (the reader sees no PACE and opens the chip "
        "with BAC; the PACEInfos signed in DG14 show the downgrade)", tuple(c.value for c in CardAccess)),
    Key("extended_length", Kind.BOOL, "false", "the chip accepts extended-length APDUs (big reads)"),
    Key("minor", Kind.BOOL, "false", "the holder is 10 years old (the post's minor_age is 18 by default)"),
    Key("officer", Kind.CHOICE, "not set (the lane runs in normal mode)", "the lane is switched to assisted "
        "mode (signed BMIS set-mode) and an officer signed in on the officer console answers: accept (confirms "
        "the lane's decision: a pass goes through), refer (to the officer desk), reject (entry refused), none "
        "(nobody answers: referred after lane.officer_s)", tuple(a.value for a in OfficerAnswer)),
    Key("reader_faults", Kind.TEXT_LIST, "[]", "passport-reader line faults for this document, each "
        "KEY=VALUE: " + "; ".join(FAULT_SPECS) + "; P is a probability 0..1"),
    Key("csca", Kind.CHOICE, "home", "the CSCA the document's signer chains to: home (given to the gate at "
        "start) or new (a second CSCA the gate learns only from a csca_update fault: referred before it)",
        ("home", "new")),
    Key("expect", Kind.CHOICE, "none (not checked)", "the crossing outcome the tester expects",
        tuple(o.value for o in CrossingOutcome)),
    Key("expect_reasons", Kind.CHOICE_LIST, "none (not checked)", "the reason codes the crossing record must "
        "carry, exactly (order ignored; [] = none)", tuple(r.value for r in ReasonCode)),
)
_BY_NAME = {key.name: key for key in KEYS}


def _where(number: int, entry: dict) -> str:
    label = entry.get("label")
    return f"traveller {number}" + (f" ({label!r})" if isinstance(label, str) and label else "")


def _did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _check_value(key: Key, value: object) -> object:
    """The value in its Python form; ValueError with the reason when it does not fit the key."""
    if key.kind is Kind.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false (a boolean), not {value!r}")
        return value
    if key.kind in (Kind.TEXT, Kind.CHOICE):
        return _check_text(key, value)
    if not isinstance(value, list):
        raise ValueError(f"must be a list of strings, not {value!r}")
    return tuple(_check_text(key, item) for item in value)


def _check_text(key: Key, value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT:
        raise ValueError(f"must be a non-empty string (at most {MAX_TEXT} characters), not {value!r}")
    if key.values and value not in key.values:
        raise ValueError(f"{value!r} is not one of {', '.join(key.values)}{_did_you_mean(value, key.values)}")
    return value


def traveller_from(entry: object, number: int) -> TravellerSpec:
    if not isinstance(entry, dict):
        raise ScenarioError(f"traveller {number}: must be a table/object")
    where = _where(number, entry)
    for name in entry:
        if name not in _BY_NAME:
            raise ScenarioError(f"{where}: unknown key {name!r}{_did_you_mean(name, _BY_NAME)} "
                                f"(keys: {', '.join(_BY_NAME)})")
    values = {}
    for key in KEYS:
        if key.name not in entry:
            if key.required:
                raise ScenarioError(f"{where}: {key.name} is required (a string)")
            continue
        try:
            values[key.name] = _check_value(key, entry[key.name])
        except ValueError as exc:
            raise ScenarioError(f"{where}: {key.name} {exc}") from None
    for name, kind in (("forgery", Forgery), ("behaviour", Behaviour), ("document", Document), ("chip", Chip),
                       ("presentation_attack", PresentationAttack), ("officer", OfficerAnswer),
                       ("hostile", Hostile), ("mrz_defect", MrzDefect), ("live_image", LiveImage),
                       ("card_access", CardAccess)):
        if name in values:
            values[name] = kind(values[name])
    if "nationality" in values and not _NATIONALITY.fullmatch(values["nationality"]):
        raise ScenarioError(f"{where}: nationality must be an ICAO code (3 capital letters, or fillers after "
                            f"the first, as D<<), not {values['nationality']!r}")
    spec = TravellerSpec(**values)
    if spec.card_access is not None and (spec.chip is Chip.BAC or spec.hostile is not None):
        raise ScenarioError(f"{where}: card_access needs chip = \"pace\" or \"pace_cam\" (a BAC-only chip has "
                            f"no EF.CardAccess) and no hostile document")
    try:
        spec.fault_plan  # noqa: B018 - the property validates reader_faults
    except (SimulatorError, ValueError) as exc:
        raise ScenarioError(f"{where}: reader_faults: {exc}") from None
    return spec


_NATIONALITY = re.compile(r"[A-Z][A-Z<]{2}")


def check_persons(scenario: Scenario, persons) -> None:
    """Every person and impostor must have photos in the run's faces; checked before the bench starts."""
    known = sorted(persons)
    for number, spec in enumerate(scenario.travellers, start=1):
        for name in ("person", "impostor", "companion"):
            who = getattr(spec, name)
            if who is not None and who not in persons:
                raise ScenarioError(f"traveller {number} ({spec.label!r}): {name} {who!r} has no photos in the "
                                    f"faces used{_did_you_mean(who, known)} (known: {', '.join(known) or 'none'})")
