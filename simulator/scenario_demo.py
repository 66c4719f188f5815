"""The travellers of `gatesim demo`: one of each kind a gate must handle, played by the shared
photos' people when they are there, otherwise by the bundled portraits."""
from __future__ import annotations

from simulator.scenario_model import Behaviour, Forgery, PresentationAttack, Scenario, ScenarioError, TravellerSpec

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
