"""One-stop border post: the exit authority of one country and the entry authority of the next in
one lane (issue 17). Optional: a config without `[[authority]]` is the single-authority lane.

    [[authority]]                     # twice: role = "exit" and role = "entry"
    role = "exit"
    country = "UTO"                   # ICAO code of the authority's state
    data_dir = "var/uto"              # its own outbox, alert lists, command journal, statistics
    [authority.bmis]                  # its own broker, CA, client certificate, topic prefix, keys
    [authority.policy]                # its own rules (document types, visas, minors, exit bans)
    [authority.officers]              # its own officer console (config/onestop_people.py)
    [authority.kiosk.texts.LANG]      # its own wording of its own screens

    [onestop]
    shared_fields = ["document_code", "issuing_state", ...]   # the bilateral agreement

Each authority's `bmis` section is a full `[bmis]` section (the same keys); its `command_keys_dir`
holds that authority's command-signing keys, its alert lists live in its own `data_dir`.
"""
from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .onestop_people import AuthorityKioskSection

Nationality = Annotated[str, Field(pattern=r"^[A-Z][A-Z<]{2}$")]
DocumentType = Annotated[str, Field(pattern=r"^[A-Z][A-Z<]?$")]
ListId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
if TYPE_CHECKING:   # model.py imports this module, then rebuilds AuthoritySection with them
    from .model import BmisSection, OfficerSection


def _officer_section():
    from .model import OfficerSection  # defined after this module is imported by model.py
    return OfficerSection


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AuthorityRole(str, Enum):
    EXIT = "exit"
    ENTRY = "entry"


class SharedField(str, Enum):
    """Document fields (record.DocumentFields) a one-stop record may carry."""
    DOCUMENT_CODE = "document_code"
    ISSUING_STATE = "issuing_state"
    DOCUMENT_NUMBER = "document_number"
    NATIONALITY = "nationality"
    DATE_OF_BIRTH = "date_of_birth"
    SEX = "sex"
    DATE_OF_EXPIRY = "date_of_expiry"
    PRIMARY_IDENTIFIER = "primary_identifier"
    SECONDARY_IDENTIFIER = "secondary_identifier"


class AuthorityPolicySection(_Strict):
    """One authority's rules, applied to the evidence both share."""

    document_types: list[DocumentType] = Field(
        default_factory=lambda: ["P"], min_length=1, max_length=16,
        description="MRZ document codes accepted ('P' passports, 'I' ID cards, 'PD' one code exactly); "
                    "a one-letter entry accepts every code starting with it")
    visa_required: list[Nationality] = Field(
        default_factory=list, max_length=300,
        description="entry only: nationalities that need a visa, which the gate cannot verify: referred")
    minor_age: int = Field(default=18, ge=0, le=30, description="younger travellers are referred; 0: no rule")
    eligible_nationalities: list[Nationality] = Field(default_factory=list, max_length=300,
                                                      description="empty: all")
    exit_ban_lists: list[ListId] = Field(
        default_factory=list, max_length=16,
        description="exit only: ids of this authority's alert lists whose hits are exit bans")
    allow_offline: bool = Field(default=True, description="the lane runs while this authority's BMIS is unreachable")


class AuthoritySection(_Strict):
    role: AuthorityRole = Field(description="exit: the country travellers leave; entry: the one they enter")
    country: Nationality = Field(description="ICAO code of this authority's state (never shown on the kiosk)")
    name: str = Field(default="", max_length=64, description="shown to technicians only, never on the kiosk")
    data_dir: Path = Field(description="this authority's outbox, alert lists, command journal, statistics")
    bmis: BmisSection = Field(description="this authority's own [bmis]: broker, CA, client certificate, prefix, "
                                          "command keys, alert-list rules")
    policy: AuthorityPolicySection = AuthorityPolicySection()
    officers: OfficerSection = Field(
        default_factory=lambda: _officer_section()(),
        description="this authority's own officer console (a full [officer] section: its address, "
                    "certificate, credential file; audit in its data_dir): it sees only this authority's "
                    "referrals and findings (config/onestop_people.py)")
    kiosk: AuthorityKioskSection = Field(default_factory=AuthorityKioskSection,
                                         description="this authority's wording of its own kiosk screens")
    csca_dir: Path | None = Field(
        default=None, description="this authority's own trust store (CSCAs, CRLs, master lists; its "
                                  "pki-update commands write here); unset: it shares [smartcard] csca_dir")
    master_list: Path | None = Field(default=None, description="a master list read into this authority's store "
                                                               "(needs csca_dir)")
    master_list_roots: list[Path] = Field(default_factory=list, max_length=64,
                                          description="certificates this authority's master lists may chain to, "
                                                      "besides its csca_dir (needs csca_dir)")

    @model_validator(mode="after")
    def _role_rules(self) -> AuthoritySection:
        if self.role is AuthorityRole.EXIT and self.policy.visa_required:
            raise ValueError("visa_required is an entry rule: the exit authority cannot set it")
        if self.role is AuthorityRole.ENTRY and self.policy.exit_ban_lists:
            raise ValueError("exit_ban_lists is an exit rule: the entry authority cannot set it")
        if self.csca_dir is None and (self.master_list is not None or self.master_list_roots):
            raise ValueError("authority.master_list and master_list_roots need the authority's own csca_dir")
        return self


class StatisticsBasis(str, Enum):
    """What an authority's hourly statistics count sex, age band and nationality from."""
    OWN_CONTROL = "own_control"        # the document its own control read (only counts leave the device)
    SHARED_FIELDS = "shared_fields"    # its records only: a withheld field counts as unknown


class UpdateAuthority(str, Enum):
    """Which authority's signed update-apply may change the software both run (the agreement's)."""
    EXIT = "exit"
    ENTRY = "entry"
    BOTH = "both"       # the same signed request from each authority's own BMIS, before anything is fetched


class StatusReasons(str, Enum):
    """Which reason codes the device's last events (`gatectl status`) show both authorities' technicians."""
    RULES = "rules"     # every reason but one authority's alert data (alert_list_hit, exit_ban)
    NONE = "none"       # outcomes only: neither country's rule reasons either


class OnestopSection(_Strict):
    shared_fields: list[SharedField] = Field(
        description="the bilateral agreement: document fields each authority's crossing record carries "
                    "(the others are withheld, and the record lists them)", max_length=len(SharedField))
    statistics: StatisticsBasis = Field(
        default=StatisticsBasis.OWN_CONTROL,
        description="own_control: each authority's statistics count sex, age band and nationality of the "
                    "document its own control read, even where shared_fields withholds them from its records "
                    "(aggregates only, as each country counts its own crossings); shared_fields: only what its "
                    "records carry (a withheld field is counted as unknown)")
    statistics_min_cell: int = Field(
        default=5, ge=1, le=1000,
        description="own_control: in each statistics cell of fewer crossings the fields shared_fields withholds "
                    "(sex, age band, nationality) are suppressed, so a rare value cannot name a traveller; "
                    "1: no suppression")
    update_authority: UpdateAuthority | None = Field(
        default=None,
        description="whose signed update-apply commands may change the software both authorities run: exit, "
                    "entry, or both (the same request, signed by each with its own command keys, from each "
                    "one's own BMIS); unset: every update-apply is refused (docs/onestop.md)")
    status_reasons: StatusReasons = Field(
        default=StatusReasons.RULES,
        description="what `gatectl status`' last events show both authorities' technicians: rules (each "
                    "crossing's reason codes except alert data, which is never shown) or none (outcomes "
                    "only, for an agreement that keeps each country's rule reasons to itself)")

    @model_validator(mode="after")
    def _no_repeats(self) -> OnestopSection:
        if len(set(self.shared_fields)) != len(self.shared_fields):
            raise ValueError("shared_fields must not repeat")
        return self


def check_authorities(authorities: list[AuthoritySection], onestop: OnestopSection | None,
                      device_data_dir: Path) -> None:
    """Raises ValueError unless the authorities form one one-stop post (or there are none)."""
    if not authorities:
        if onestop is not None:
            raise ValueError("[onestop] needs two [[authority]] tables")
        return
    roles = sorted(a.role.value for a in authorities)
    if roles != ["entry", "exit"]:
        raise ValueError("a one-stop lane needs exactly one exit and one entry [[authority]]")
    if onestop is None:
        raise ValueError("[[authority]] needs [onestop] shared_fields (the bilateral agreement)")
    exit_, entry = authorities_by_role(authorities)
    if exit_.country == entry.country:
        raise ValueError("the exit and entry authorities must be of different countries")
    _distinct_places(exit_, entry, device_data_dir)


def _distinct_places(a: AuthoritySection, b: AuthoritySection, device_data_dir: Path) -> None:
    dirs = [Path(a.data_dir).resolve(), Path(b.data_dir).resolve(), Path(device_data_dir).resolve()]
    if len(set(dirs)) != 3:
        raise ValueError("each authority needs its own data_dir, apart from each other and device.data_dir")
    if (a.bmis.host, a.bmis.port) == (b.bmis.host, b.bmis.port):
        raise ValueError("each authority needs its own BMIS broker (host and port)")
    if a.bmis.ca_file is not None and a.bmis.ca_file == b.bmis.ca_file:
        raise ValueError("each authority needs its own broker CA (bmis.ca_file)")
    if Path(a.bmis.command_keys_dir).resolve() == Path(b.bmis.command_keys_dir).resolve():
        raise ValueError("each authority needs its own command_keys_dir")
    if a.csca_dir is not None and b.csca_dir is not None and a.csca_dir.resolve() == b.csca_dir.resolve():
        raise ValueError("each authority's csca_dir must be its own (or unset to share [smartcard] csca_dir)")


def check_own_trust_stores(authorities: list[AuthoritySection], lane_csca_dir: Path) -> None:
    """An authority's own csca_dir is not the lane's: its pki-updates must not change what the other uses."""
    for a in authorities:
        if a.csca_dir is not None and Path(a.csca_dir).resolve() == Path(lane_csca_dir).resolve():
            raise ValueError(f"authority {a.role.value}: csca_dir is [smartcard] csca_dir; leave it unset to "
                             "share the lane's store, or give the authority a store of its own")


def authorities_by_role(authorities: list[AuthoritySection]) -> tuple[AuthoritySection, AuthoritySection]:
    """(exit, entry); call only on a validated list."""
    by_role = {a.role: a for a in authorities}
    return by_role[AuthorityRole.EXIT], by_role[AuthorityRole.ENTRY]

