"""A scenario as data: the travellers, their documents and behaviours, and what the run expects.

Loaded and checked from a file by simulator/scenario.py (the key table is simulator/scenario_keys.py).
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, field

from simulator.live_scenes import LiveImage
from simulator.reader import FaultPlan
from simulator.scenario_post import PostRules
from simulator.timing import TimingModel


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
