"""What a scenario traveller brings to the lane: the document as the file describes it (its MRZ as
issued and as printed, the passport signed by the bench's test PKI, the chip that carries it) and
the face that comes in front of the camera (their own, an impostor's, or a photo held up as an
attack). The runner (simulator/scenario_run.py) puts them on the bench's devices.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
from pathlib import Path

import numpy as np

from drivers.camera.files import read_image_file
from firmware_app.emrtd.pace.info import PaceInfo
from firmware_app.mrz import MrzFields, compose
from simulator.live_scenes import SCENES, with_companion
from simulator.passport_factory import Forgery as FactoryForgery
from simulator.passport_factory import PassportSpec, build_passport, chip_portrait
from simulator.scenario_bench import Bench
from simulator.scenario_documents import altered_name, filler_expiry_check, wrong_composite
from simulator.scenario_model import CardAccess, Chip, Document, Forgery, MrzDefect, ScenarioError, TravellerSpec
from simulator.vchip.applet import VirtualIcaoChip
from simulator.vchip.from_passport import chip_config

_FORGERIES: dict[Forgery | None, FactoryForgery] = {
    Forgery.TAMPERED_DG: FactoryForgery(tamper_dg=2), Forgery.CLONE: FactoryForgery(clone=True),
    Forgery.WRONG_SIGNER: FactoryForgery(wrong_signer=True)}

# brainpoolP256r1 (standard parameter 13), AES-128: generic mapping, and chip authentication mapping
_PACE = {Chip.BAC: (), Chip.PACE: (PaceInfo("0.4.0.127.0.7.2.2.4.2.2", 2, 13),),
         Chip.PACE_CAM: (PaceInfo("0.4.0.127.0.7.2.2.4.6.2", 2, 13),)}


def photos_of(faces_dir: Path, person: str) -> list[Path]:
    folder = faces_dir / person
    photos = sorted(p for p in folder.glob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if len(photos) < 2:
        raise ScenarioError(f"{folder}: needs at least two photos of the person")
    return photos


# --- the document -----------------------------------------------------------------------------
def mrz_lines(number: int, spec: TravellerSpec, today: dt.date) -> tuple[str, ...]:
    """The MRZ as issued (printed and in the chip's DG1); `printed_lines` is what the reader sees."""
    expiry = today.replace(year=today.year - 1) if spec.expired else today.replace(year=today.year + 5)
    birth = (_years_before(today, 10) if spec.minor else dt.date(1985, 3, 15)).strftime("%y%m%d")
    td1 = spec.document is Document.TD1
    fields = MrzFields(document_code="ID" if td1 else "P", issuing_state="UTO", document_number=f"GS{number:07d}",
                       birth_date=birth[:2] + "<<<<" if spec.birth_date_unknown else birth,
                       sex="F" if number % 2 else "M",
                       expiry_date="<<<<<<" if spec.no_expiry else expiry.strftime("%y%m%d"),
                       nationality=spec.nationality, primary_identifier="TRAVELLER",
                       secondary_identifier=given_name(number))
    lines = compose("TD1" if td1 else "TD3", fields)
    lines = filler_expiry_check(lines) if spec.no_expiry else lines
    return wrong_composite(lines) if spec.mrz_defect is MrzDefect.COMPOSITE_CHECK_DIGIT else lines


def printed_lines(spec: TravellerSpec, issued: tuple[str, ...]) -> tuple[str, ...]:
    return altered_name(issued) if spec.forgery is Forgery.ALTERED_MRZ else issued


def document_number(lines: tuple[str, ...]) -> str:
    number = lines[0][5:14] if len(lines) == 3 else lines[1][:9]      # TD1: line 1; TD3: line 2
    return number.rstrip("<")


def _years_before(today: dt.date, years: int) -> dt.date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:                      # 29 February
        return today.replace(year=today.year - years, day=28)


def given_name(number: int) -> str:
    return "DEMO " + "".join(chr(ord("A") + int(d)) for d in str(number))


def traveller_passport(bench: Bench, spec: TravellerSpec, lines: tuple[str, ...]):
    reference = photos_of(bench.faces_dir, spec.person)[0]
    portrait = chip_portrait(reference.read_bytes())
    forgery = _FORGERIES.get(spec.forgery, FactoryForgery())     # altered_mrz: the printed page only
    pki = bench.new_passport_pki if spec.csca == "new" else bench.passport_pki
    return build_passport(PassportSpec(lines, portrait, seed="gatesim-demo", pace=_PACE[spec.chip]),
                          pki, bench.now, forgery)


def traveller_chip(bench: Bench, spec: TravellerSpec, passport) -> VirtualIcaoChip:
    if spec.hostile is None:
        config = chip_config(passport, extended_length=spec.extended_length)
        if spec.card_access is CardAccess.HIDDEN:       # the man in the middle: no PACE on offer
            config = dataclasses.replace(config, card_access=None)
        return VirtualIcaoChip(config, os.urandom)
    from simulator.hostile import HostileCase, hostile_chip
    return hostile_chip(HostileCase(spec.hostile.value), passport, bench.passport_pki, bench.now, os.urandom)


# --- the face ---------------------------------------------------------------------------------
def present_face(bench: Bench, spec: TravellerSpec, number: int) -> None:
    """The traveller's face, or their photo held to the camera as the scenario's attack."""
    photo = _live_photo(bench, spec)
    if spec.presentation_attack is None and spec.live_image is None and spec.companion is None:
        bench.camera.show(photo)
        return
    if spec.presentation_attack is None:
        bench.camera.show_image(_scene(bench, spec, read_image_file(photo)))
        return
    from simulator.presentation_attacks import SYNTHESISERS
    rng = np.random.default_rng(number)     # the same attack frame on every run
    attack = SYNTHESISERS[spec.presentation_attack.value](read_image_file(photo), rng)
    bench.camera.show_image(attack)


def _live_photo(bench: Bench, spec: TravellerSpec) -> Path:
    if spec.impostor:
        return photos_of(bench.faces_dir, spec.impostor)[1]
    return photos_of(bench.faces_dir, spec.person)[1]


def _scene(bench: Bench, spec: TravellerSpec, image: np.ndarray) -> np.ndarray:
    """The live face as the scenario says it reaches the camera (simulator/live_scenes.py)."""
    if spec.companion is not None:
        image = with_companion(image, read_image_file(photos_of(bench.faces_dir, spec.companion)[1]))
    return SCENES[spec.live_image](image) if spec.live_image is not None else image
