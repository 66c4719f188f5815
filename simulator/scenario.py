"""Scripted travellers for the assembled appliance: loading a scenario from TOML or JSON.

A file is checked completely before any service starts. The model is simulator/scenario_model.py,
the traveller keys (their types, values and defaults, and the strict check of each traveller) are
simulator/scenario_keys.py: `gatesim scenario --help` (simulator/scenario_help.py) and
docs/scenarios.md are made from that table. Persons are checked against the faces of the run
(`check_persons`). The demo's travellers are simulator/scenario_demo.py. The names of all three
are importable from here as before.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from simulator.scenario_demo import IMPOSTOR_LABEL, SHARED_CAST, demo_cast, demo_scenario
from simulator.scenario_keys import (
    FAULT_SPECS,
    KEYS,
    MAX_TEXT,
    Key,
    Kind,
    _check_value,
    _did_you_mean,
    _where,
    check_persons,
    traveller_from,
)
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
from simulator.scenario_post import PostRules, PostSpecError, post_from
from simulator.timing import TimingError, TimingModel, timing_from

MAX_TRAVELLERS = 1000
TOP_KEYS = ("traveller", "timing", "fault", "post")
__all__ = [
    "FAULT_SPECS", "IMPOSTOR_LABEL", "KEYS", "MAX_TEXT", "MAX_TRAVELLERS", "SHARED_CAST", "TOP_KEYS", "Behaviour",
    "CardAccess", "Chip", "Document", "Forgery", "Hostile", "Key", "Kind", "MrzDefect", "OfficerAnswer",
    "PresentationAttack", "Scenario", "ScenarioError", "TravellerSpec", "_check_value", "_did_you_mean", "_where",
    "check_persons", "demo_cast", "demo_scenario", "load_scenario", "parse_scenario", "read_scenario_document",
    "traveller_from",
]


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
