"""The people of a one-stop lane (issue 17): each authority's officers and its kiosk wording.

    [authority.officers]              # a full [officer] section: this authority's own console
    enabled = true
    bind = "10.1.0.5"                 # on this authority's own network
    port = 8443
    cert_file = "..."                 # a certificate of this authority's own PKI
    key_file = "..."
    credential_file = "/etc/border-gate/officers-uto"   # its officers only (gatectl officer add --file)
    # audit_file unset: officer-audit.db in this authority's data_dir

    [authority.kiosk.texts.en]        # this authority's wording of its own screens
    "title.please_proceed" = "Welcome to Arcadia"

Why one console per authority rather than one console for both: two agencies sharing a booth each
keep their own officers' accounts, their own network, their own certificate authority and their
own audit, and each must be able to prove that the other's staff could not see its cases. Separate
listeners, credential files, session stores and audit files give that by construction; one shared
console would make a login bug a cross-border data leak.

Whose screens: the exit authority's control is the one the traveller meets first, so it may word
the welcome and the "place your document" screens; the entry authority admits the traveller, so it
may word "please go through". Every other text is the lane's: the referral screen above all stays
the neutral default, whoever referred and why, and so does the closed screen, whichever authority
closed the lane; neither can be reworded by either authority.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    from .onestop import AuthoritySection

LanguageCode = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
MAX_TEXT = 200
# role value -> the screens whose title and body that authority may word
OWN_SCREENS = {"exit": ("welcome", "place_document"), "entry": ("please_proceed",)}
_KEY = re.compile(r"^(title|body)\.([a-z_]+)(@[a-z_]+)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class AuthorityKioskSection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    texts: dict[LanguageCode, dict[str, str]] = Field(
        default_factory=dict, max_length=32,
        description="language -> text key -> this authority's wording, e.g. [authority.kiosk.texts.en] "
                    "\"title.please_proceed\" = \"Welcome to Arcadia\". Keys: title./body. of the authority's own "
                    "screens (exit: welcome, place_document; entry: please_proceed), with an @id_card/@visa "
                    "variant; the referral and closed screens always stay neutral")

    @field_validator("texts")
    @classmethod
    def _bounded_plain_text(cls, texts: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for language, table in texts.items():
            if len(table) > 32:
                raise ValueError(f"kiosk.texts.{language}: at most 32 texts")
            for key, text in table.items():
                if _KEY.match(key) is None:
                    raise ValueError(f"kiosk.texts.{language}: {key!r} is not a screen text key (title.x or body.x)")
                if not text.strip() or len(text) > MAX_TEXT or _CONTROL.search(text):
                    raise ValueError(f"kiosk.texts.{language}.{key}: 1 to {MAX_TEXT} characters, no control "
                                     "characters")
        return texts

    def screens(self) -> set[str]:
        return {_KEY.match(key).group(2) for table in self.texts.values() for key in table}  # type: ignore[union-attr]


def check_people(authorities: list[AuthoritySection], lane_officer, languages: list[str]) -> None:
    """Raises ValueError unless each authority's officers and wording stand apart from the other's."""
    if not authorities:
        return
    consoles = [a for a in authorities if a.officers.enabled]
    if consoles and lane_officer.enabled:
        raise ValueError("a one-stop lane has no [officer] console of its own: each authority's officers use "
                         "[authority.officers] (the lane's console would show both authorities' findings)")
    if len(consoles) == 1:
        raise ValueError("[authority.officers] must be enabled for both authorities or neither (a referral "
                         "waits for the referring authority's officer)")
    if len(consoles) == 2:
        exit_, entry = (a.officers for a in consoles)
        if (exit_.bind, exit_.port) == (entry.bind, entry.port):
            raise ValueError("each authority's officer console needs its own address (bind and port)")
        if exit_.credential_file == entry.credential_file:
            raise ValueError("each authority's officers need their own credential_file")
        if exit_.audit_file is not None and exit_.audit_file == entry.audit_file:
            raise ValueError("each authority's officer audit needs its own audit_file")
    for authority in authorities:
        _check_wording(authority, languages)


def _check_wording(authority: AuthoritySection, languages: list[str]) -> None:
    allowed = OWN_SCREENS[authority.role.value]
    for screen in sorted(authority.kiosk.screens() - set(allowed)):
        raise ValueError(f"the {authority.role.value} authority may word only {', '.join(allowed)} on the kiosk, "
                         f"not {screen!r} (the referral and closed screens stay neutral: they must not "
                         "say which country sends a traveller away or closed the lane)")
    for language in authority.kiosk.texts:
        if language not in languages:
            raise ValueError(f"authority.kiosk.texts.{language}: not one of [kiosk] languages")


def wording(authorities: list[AuthoritySection]) -> dict[str, dict[str, str]]:
    """language -> key -> text: both authorities' overrides (their keys never overlap)."""
    merged: dict[str, dict[str, str]] = {}
    for authority in authorities:
        for language, table in authority.kiosk.texts.items():
            merged.setdefault(language, {}).update(table)
    return merged
