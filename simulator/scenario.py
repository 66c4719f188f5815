"""Scripted travellers for the assembled appliance: the model, and loading it from TOML or JSON.

A scenario file (TOML shown; JSON has the same shape):

    [[traveller]]
    label = "genuine passport"
    person = "person01"           # folder under the faces directory: chip portrait from its 1st photo,
                                  # live frames from its 2nd
    impostor = "person03"         # optional: live frames from this other person instead
    presentation_attack = "phone" # optional: print_border | screen | phone | close_up_print: the
                                  # live photo is held to the camera that way (synthesised)
    forgery = "tampered_dg"       # optional: tampered_dg | clone | wrong_signer
    expired = false               # the document expired a year ago
    alert = false                 # the BMIS lists the document (alerts-replace) before it arrives
    behaviour = "walk"            # walk | tailgate | emergency: what happens when the doors open
    reader_faults = ["noise=6", "chunk=3-9"]   # FaultPlan specs of simulator/reader.py
    expect = "passed"             # optional: the crossing outcome the tester expects

Unknown keys and values are refused with ScenarioError naming the traveller and the key.
"""
from __future__ import annotations

import enum
import json
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from simulator.reader import FaultPlan, SimulatorError


class ScenarioError(ValueError):
    """The scenario file is unreadable or describes something the simulator cannot do."""


class Forgery(str, enum.Enum):
    TAMPERED_DG = "tampered_dg"
    CLONE = "clone"
    WRONG_SIGNER = "wrong_signer"


class PresentationAttack(str, enum.Enum):
    """simulator/presentation_attacks.py SYNTHESISERS, by name."""
    PRINT_BORDER = "print_border"
    SCREEN = "screen"
    PHONE = "phone"
    CLOSE_UP_PRINT = "close_up_print"


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
    presentation_attack: PresentationAttack | None = None

    @property
    def fault_plan(self) -> FaultPlan:
        return FaultPlan.parse(list(self.reader_faults))


@dataclass(frozen=True)
class Scenario:
    travellers: tuple[TravellerSpec, ...] = field(default_factory=tuple)


_KEYS = {f.name for f in fields(TravellerSpec)}
_ENUMS = {"forgery": Forgery, "behaviour": Behaviour, "presentation_attack": PresentationAttack}


def traveller_from(entry: object, number: int) -> TravellerSpec:
    if not isinstance(entry, dict):
        raise ScenarioError(f"traveller {number}: must be a table/object")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ScenarioError(f"traveller {number}: unknown key(s) {', '.join(sorted(unknown))}")
    values = dict(entry)
    for key, kind in _ENUMS.items():
        if values.get(key) is not None:
            try:
                values[key] = kind(values[key])
            except ValueError:
                raise ScenarioError(f"traveller {number}: {key} must be one of "
                                    f"{', '.join(m.value for m in kind)}") from None
    values["reader_faults"] = tuple(values.get("reader_faults", ()))
    for key in ("label", "person"):
        if not isinstance(values.get(key), str) or not values[key]:
            raise ScenarioError(f"traveller {number}: {key} is required (a string)")
    spec = TravellerSpec(**values)
    try:
        spec.fault_plan
    except (SimulatorError, ValueError) as exc:
        raise ScenarioError(f"traveller {number}: reader_faults: {exc}") from None
    return spec


def parse_scenario(document: object) -> Scenario:
    if not isinstance(document, dict) or set(document) - {"traveller"}:
        raise ScenarioError("a scenario has one key, 'traveller' (a list of travellers)")
    entries = document.get("traveller")
    if not isinstance(entries, list) or not entries:
        raise ScenarioError("'traveller' must list at least one traveller")
    return Scenario(tuple(traveller_from(entry, n) for n, entry in enumerate(entries, start=1)))


def load_scenario(path: Path) -> Scenario:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    try:
        document = json.loads(text) if Path(path).suffix.lower() == ".json" else tomllib.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ScenarioError(f"{path}: not valid {'JSON' if str(path).endswith('.json') else 'TOML'}: {exc}") from None
    return parse_scenario(document)


def demo_scenario() -> Scenario:
    """The travellers of `gatesim demo`: one of each kind a gate must handle."""
    return Scenario((
        TravellerSpec("genuine passport", "person01", expect="passed"),
        TravellerSpec("forged: tampered data group", "person02", forgery=Forgery.TAMPERED_DG, expect="rejected"),
        TravellerSpec("cloned chip", "person04", forgery=Forgery.CLONE, expect="rejected"),
        TravellerSpec("impostor: someone else's passport", "person05", impostor="person03", expect="referred"),
        TravellerSpec("expired passport", "person06", expired=True, expect="rejected"),
        TravellerSpec("alert-list hit (stolen document)", "person07", alert=True, expect="referred"),
        TravellerSpec("tailgater follows a genuine traveller", "person11", behaviour=Behaviour.TAILGATE,
                      expect="tailgating"),
        TravellerSpec("emergency during the passage", "person10", behaviour=Behaviour.EMERGENCY, expect="voided"),
        TravellerSpec("presentation attack: the holder's photo on a phone", "person09",
                      presentation_attack=PresentationAttack.PHONE, expect="referred"),
    ))
