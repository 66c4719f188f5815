"""The officers of a one-stop lane (issue 17): one console per authority, built from its
`[authority.officers]` (a full [officer] section) with its audit in its own data_dir, and the lane's
OfficerPort over them (onestop/reviews.py: each desk sees only its own authority's part of a case).

Why one console per authority: config/onestop_people.py. Like the single lane's console, a console
that cannot be built or cannot listen is not a lane fault: its authority's reviews time out and the
traveller is referred (`lane.officer_s`); the reason is on the health (`officer_console`).
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from firmware_app.errors import GateError
from firmware_app.onestop.reviews import OnestopReviews
from firmware_app.policy import LaneMode
from firmware_app.policy.onestop import Role

from .officer_side import NoOfficerSide, OfficerSide, build_officer_side
from .onestop import OnestopSides, authority_config

log = logging.getLogger("gate.app.officer")


class OnestopOfficers:
    """Stands where the Appliance keeps its officer side: `desk` is the lane's OfficerPort."""

    def __init__(self, reviews: OnestopReviews, consoles: dict[Role, OfficerSide], problems: dict[Role, str]):
        self.desk, self.consoles, self.problems = reviews, consoles, problems

    @property
    def problem(self) -> str | None:
        return "; ".join(f"{role.value}: {why}" for role, why in self.problems.items()) or None

    def start(self) -> None:
        for role, console in list(self.consoles.items()):
            try:
                console.start()
            except GateError as exc:    # its reviews time out and refer; the other console still serves
                self.problems[role] = f"{type(exc).__name__}: {exc}"
                log.error("%s officer console unavailable: %s", role.value, self.problems[role])
                console.stop()
                del self.consoles[role]

    def stop(self) -> None:
        for console in self.consoles.values():
            console.stop()


def build_onestop_officers(config, sides, submit: Callable, vault,
                           clock: Callable[[], datetime]) -> OnestopOfficers | NoOfficerSide:
    """`sides`: the appliance's BMIS side (OnestopSides; anything else: the lane refers everyone)."""
    if not isinstance(sides, OnestopSides) or not any(a.officers.enabled for a in config.authority):
        return NoOfficerSide()
    reviews = OnestopReviews(sides.decider.memory, lambda role: sides.arbiter.mode_of(role) is LaneMode.ASSISTED,
                             submit)
    consoles, problems = {}, {}
    for authority in config.authority:
        role = Role(authority.role.value)
        if not authority.officers.enabled:
            continue
        own = authority_config(config, authority).model_copy(update={"officer": authority.officers})
        try:
            consoles[role] = build_officer_side(own, lambda decision, role=role: reviews.answer(role, decision),
                                                vault, clock)
        except GateError as exc:
            problems[role] = f"{type(exc).__name__}: {exc}"
            log.error("%s officer console unavailable: %s", role.value, problems[role])
            continue
        reviews.add_desk(role, consoles[role].desk)
    return OnestopOfficers(reviews, consoles, problems)


def officers_enabled(config) -> bool:
    """Whether any officer console runs (the lane's, or an authority's): the vault then keeps the
    live frame for it."""
    return bool(config.officer.enabled or any(a.officers.enabled for a in config.authority))
