"""Scripted travellers for the assembled appliance: the model, its keys, and loading it from TOML or JSON.

Every key, its type, its values and its default are in KEYS below: `gatesim scenario --help`
(simulator/scenario_help.py) and docs/scenarios.md are made from the same table. A file is
checked completely before any service starts; every error names the traveller (number and
label) and the key, and an unknown key gets a "did you mean". Persons are checked against the
faces of the run (`check_persons`).
"""
from __future__ import annotations

import difflib
import enum
import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from firmware_app.lane.state import CrossingOutcome
from firmware_app.policy.reasons import ReasonCode
from simulator.live_scenes import LiveImage
from simulator.reader import FaultPlan, SimulatorError
from simulator.scenario_post import PostRules, PostSpecError, post_from
from simulator.timing import TimingError, TimingModel, timing_from

MAX_TRAVELLERS = 1000
MAX_TEXT = 200


class ScenarioError(ValueError):
    """The scenario file is unreadable or describes something the simulator cannot do."""


class Forgery(str, enum.Enum):
    TAMPERED_DG = "tampered_dg"
    CLONE = "clone"
    WRONG_SIGNER = "wrong_signer"
    ALTERED_MRZ = "altered_mrz"    # the printed data page altered (the name); the chip keeps the issued DG1


class MrzDefect(str, enum.Enum):
    """A document personalised wrongly: its printed MRZ and its chip's DG1 alike."""
    COMPOSITE_CHECK_DIGIT = "composite_check_digit"


class PresentationAttack(str, enum.Enum):
    """simulator/presentation_attacks.py SYNTHESISERS, by name."""
    PRINT_BORDER = "print_border"
    SCREEN = "screen"
    PHONE = "phone"
    CLOSE_UP_PRINT = "close_up_print"


class Document(str, enum.Enum):
    TD3 = "td3"            # passport booklet, 2 lines of 44
    TD1 = "td1"            # ID card, 3 lines of 30


class Chip(str, enum.Enum):
    BAC = "bac"            # BAC only, no EF.CardAccess
    PACE = "pace"          # PACE generic mapping (ECDH brainpoolP256r1, AES-128) besides BAC
    PACE_CAM = "pace_cam"  # PACE with Chip Authentication Mapping (EF.CardSecurity)


class CardAccess(str, enum.Enum):
    """What a man in the middle between chip and reader does to EF.CardAccess (read in plain)."""
    HIDDEN = "hidden"      # not there: the reader sees no PACE and opens the chip with BAC


class OfficerAnswer(str, enum.Enum):
    """What the officer on the console answers for an assisted-mode traveller."""
    ACCEPT = "accept"
    REFER = "refer"
    REJECT = "reject"
    NONE = "none"          # nobody answers: the lane refers after lane.officer_s


class Hostile(str, enum.Enum):
    """simulator/hostile.py HostileCase, by name: documents built to hurt the reader."""
    HUGE_Q_DG14 = "huge_q_dg14"
    ONE_BYTE_READS = "one_byte_reads"
    JPEG_SCAN_BOMB = "jpeg_scan_bomb"


class Behaviour(str, enum.Enum):
    WALK = "walk"
    TAILGATE = "tailgate"
    EMERGENCY = "emergency"


@dataclass(frozen=True)
class TravellerSpec:
    label: str
    person: str
    impostor: str | None = None
    forgery: Forgery | None = None
    expired: bool = False
    alert: bool = False
    behaviour: Behaviour = Behaviour.WALK
    reader_faults: tuple[str, ...] = ()
    expect: str | None = None
    expect_reasons: tuple[str, ...] | None = None
    document: Document = Document.TD3
    chip: Chip = Chip.BAC
    card_access: CardAccess | None = None    # None: served as the chip has it
    extended_length: bool = False
    minor: bool = False
    presentation_attack: PresentationAttack | None = None
    nationality: str = "UTO"        # set by one-stop scenarios (simulator/onestop_scenario.py)
    officer: OfficerAnswer | None = None     # set: the lane runs in assisted mode for this traveller
    hostile: Hostile | None = None
    no_expiry: bool = False                  # expiry '<<<<<<' with check digit '<', printed and on the chip
    birth_date_unknown: bool = False         # birth day and month unknown: 'YY<<<<'
    mrz_defect: MrzDefect | None = None
    live_image: LiveImage | None = None      # simulator/live_scenes.py
    companion: str | None = None             # a second person's face beside the traveller's
    csca: str = "home"              # "new": signed under the CSCA a csca_update fault pushes

    @property
    def fault_plan(self) -> FaultPlan:
        return FaultPlan.parse(list(self.reader_faults))


@dataclass(frozen=True)
class Scenario:
    travellers: tuple[TravellerSpec, ...] = field(default_factory=tuple)
    skipped: tuple[str, ...] = ()          # travellers left out, each with the reason (printed by the run)
    timing: TimingModel | None = None      # [timing]: real device timing (simulator/timing.py)
    faults: tuple = ()                     # [[fault]]: device faults on a timeline (simulator/faults.py)
    post: PostRules | None = None          # [post]: the post's rules (simulator/scenario_post.py)


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


TOP_KEYS = ("traveller", "timing", "fault", "post")


def parse_scenario(document: object) -> Scenario:
    if not isinstance(document, dict) or set(document) - set(TOP_KEYS):
        extra = sorted(set(document) - set(TOP_KEYS)) if isinstance(document, dict) else []
        hint = _did_you_mean(extra[0], TOP_KEYS) if extra else ""
        raise ScenarioError(f"a scenario has the keys {', '.join(TOP_KEYS)}: 'traveller' is a list of "
                            f"travellers{hint}")
    entries = document.get("traveller")
    if not isinstance(entries, list) or not entries:
        raise ScenarioError("'traveller' must list at least one traveller")
    if len(entries) > MAX_TRAVELLERS:
        raise ScenarioError(f"at most {MAX_TRAVELLERS} travellers in one scenario")
    travellers = tuple(traveller_from(entry, n) for n, entry in enumerate(entries, start=1))
    return Scenario(travellers, timing=_timing(document), faults=_faults(document, len(travellers)),
                    post=_post(document))


def _post(document: dict) -> PostRules | None:
    if "post" not in document:
        return None
    try:
        return post_from(document["post"])
    except PostSpecError as exc:
        raise ScenarioError(str(exc)) from None


def _timing(document: dict) -> TimingModel | None:
    if "timing" not in document:
        return None
    try:
        return timing_from(document["timing"])
    except TimingError as exc:
        raise ScenarioError(str(exc)) from None


def _faults(document: dict, travellers: int) -> tuple:
    if "fault" not in document:
        return ()
    from simulator.faults import FaultSpecError, faults_from
    try:
        return faults_from(document["fault"], travellers)
    except FaultSpecError as exc:
        raise ScenarioError(str(exc)) from None


def read_scenario_document(path: Path) -> object:
    """A scenario file's tables, TOML or JSON by its suffix (`gatesim scenario` and `gatesim onestop`)."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    try:
        document = json.loads(text) if Path(path).suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ScenarioError(f"{path}: not valid {'JSON' if str(path).endswith('.json') else 'TOML'}: {exc}") from None
    return document


def load_scenario(path: Path) -> Scenario:
    return parse_scenario(read_scenario_document(path))


SHARED_CAST = {"genuine": "person01", "tampered": "person02", "clone": "person04", "impostor": "person05",
               "impostor_face": "person03", "expired": "person06", "alert": "person07", "tailgate": "person11",
               "emergency": "person10", "attack": "person09"}
IMPOSTOR_LABEL = "impostor: someone else's passport"


def demo_cast(persons: frozenset[str] | set[str]) -> dict[str, str]:
    """Who plays each demo traveller: the shared photos' people when they are all there, otherwise
    the bundled portraits (hopper, collins): the same person may hold several passports."""
    if set(SHARED_CAST.values()) <= set(persons):
        return dict(SHARED_CAST)
    people = [p for p in ("hopper", "collins") if p in persons] or sorted(persons)[:2]
    if not people:
        raise ScenarioError("no face photos at all: the demo needs at least one person")
    a, b = people[0], people[-1]
    cast = {"genuine": a, "tampered": b, "clone": a, "expired": b, "alert": a, "tailgate": b, "emergency": a,
            "attack": b}
    if a != b:
        cast.update(impostor=b, impostor_face=a)
    return cast


def demo_scenario(persons: frozenset[str] | set[str] = frozenset(SHARED_CAST.values())) -> Scenario:  # noqa: B008 - frozen
    """The travellers of `gatesim demo`: one of each kind a gate must handle."""
    c = demo_cast(persons)
    travellers = [
        TravellerSpec("genuine passport", c["genuine"], expect="passed", expect_reasons=()),
        TravellerSpec("forged: tampered data group", c["tampered"], forgery=Forgery.TAMPERED_DG, expect="rejected",
                      expect_reasons=("passive_auth_failed", "face_not_captured")),
        TravellerSpec("cloned chip", c["clone"], forgery=Forgery.CLONE, expect="rejected",
                      expect_reasons=("clone_suspected",)),
        TravellerSpec(IMPOSTOR_LABEL, c.get("impostor", ""), impostor=c.get("impostor_face"), expect="referred",
                      expect_reasons=("face_not_matched",)),
        TravellerSpec("expired passport", c["expired"], expired=True, expect="rejected",
                      expect_reasons=("document_expired",)),
        TravellerSpec("alert-list hit (stolen document)", c["alert"], alert=True, expect="referred",
                      expect_reasons=("alert_list_hit",)),
        TravellerSpec("tailgater follows a genuine traveller", c["tailgate"], behaviour=Behaviour.TAILGATE,
                      expect="tailgating", expect_reasons=()),
        TravellerSpec("emergency during the passage", c["emergency"], behaviour=Behaviour.EMERGENCY,
                      expect="voided", expect_reasons=()),
        TravellerSpec("presentation attack: the holder's photo on a phone", c["attack"],
                      presentation_attack=PresentationAttack.PHONE, expect="referred",
                      expect_reasons=("presentation_attack_suspected",)),
    ]
    if "impostor" in c:
        return Scenario(tuple(travellers))
    kept = tuple(t for t in travellers if t.label != IMPOSTOR_LABEL)
    return Scenario(kept, skipped=(f"{IMPOSTOR_LABEL}: only one person's photos are available "
                                   f"({c['genuine']}); an impostor needs a second, different person",))
