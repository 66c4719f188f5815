"""The appliance's BMIS boundary in a one-stop lane (issue 17): one BMIS side per authority, the
joint decider and the sovereign outbox, built from `[[authority]]` and `[onestop]`.

Each authority's side is the single-authority BmisSide built from a copy of the config whose
`[device] data_dir` and `[bmis]` are the authority's own: its outbox, alert lists, command journal
and statistics live in its own files, its link goes to its own broker with its own certificate,
its status carries its own direction, and its commands are checked against its own keys. Its
commands reach the lane through AuthorityLaneControl (own mode, no door opening); its `pki-update`
writes its own trust store (authority.csca_dir, onestop_trust.py), and is refused when it has none
(the lane's store is shared: one authority must not change what the other trusts).

OnestopSides stands where the Appliance keeps its BMIS side (the same methods), so the start,
stop and lane-observer steps of the Appliance are unchanged.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import cast

from firmware_app.bmis.command_wiring import build_command_side
from firmware_app.config.onestop import AuthoritySection, StatisticsBasis, authorities_by_role
from firmware_app.deploy.requests import UpdateRequests
from firmware_app.errors import GateError
from firmware_app.onestop.control import AuthorityLaneControl, ModeArbiter, door_controls
from firmware_app.onestop.decider import AuthorityDecider, JointDecisions, OnestopDecider
from firmware_app.onestop.outbox import SovereignOutbox
from firmware_app.onestop.records import Agreement
from firmware_app.policy import Decision, LaneMode, ReasonCode
from firmware_app.policy.onestop import AuthorityRules, Role

from .bmis_side import BmisSide, RunnerLaneControl, StatsPublisher, link_or_local
from .onestop_health import AuthorityHealth
from .onestop_stats import AuthorityLaneOutbox, SmallCellStats, withheld_dimensions
from .onestop_status import authority_outboxes
from .onestop_trust import AuthorityStores, AuthorityStoreUpdater, load_stores, own_smartcard
from .onestop_updates import AgreedUpdates, AuthorityUpdates, pending_halves
from .pki_updates import TrustStoreUpdater


def refer_all(request) -> Decision:
    """The decider of a one-stop lane whose authorities could not be built (it is out of service)."""
    return Decision.refer(ReasonCode.DECISION_UNAVAILABLE, "onestop")


def authority_config(config, authority: AuthoritySection):
    """The config as this authority's BMIS side sees it: its data_dir, its [bmis], its trust store."""
    device = config.device.model_copy(update={"data_dir": authority.data_dir})
    return config.model_copy(update={"device": device, "bmis": authority.bmis, "authority": [], "onestop": None,
                                     "smartcard": own_smartcard(config, authority)})


def authority_rules(authority: AuthoritySection) -> AuthorityRules:
    policy = authority.policy
    return AuthorityRules(Role(authority.role.value), authority.country, frozenset(policy.document_types),
                          frozenset(policy.visa_required), policy.minor_age, frozenset(policy.eligible_nationalities),
                          frozenset(policy.exit_ban_lists), policy.allow_offline)


class NoTrustStoreUpdates:
    """An authority side's pki updater: there is none (its pki-update commands are refused)."""

    def attach(self, chip_stage, on_restored: Callable[[], None] = lambda: None) -> None:
        pass


def build_authority_side(config, role: Role, lane: AuthorityLaneControl, clock: Callable[[], datetime],
                         link_options: dict | None = None, pki: AuthorityStoreUpdater | None = None,
                         small_cells: tuple[tuple[str, ...], int] = ((), 1),
                         updates: AuthorityUpdates | None = None) -> BmisSide:
    """`config` is authority_config(...). A link that is not configured gives a local-only side.
    `link_options`: its link's health_source and health_info (its own part of the appliance's).
    Without `pki` (no store of its own) its pki-update commands are refused. `small_cells`: the
    dimensions its reports suppress in cells under the count (onestop_stats.py). `updates`: its
    update-apply, as the agreement allows it (onestop_updates.py)."""
    commands = build_command_side(config, lane=lane, clock=clock, pki=pki, updates=updates)
    link, problem = link_or_local(config, commands, clock, **(link_options or {}))
    dimensions, min_cell = small_cells
    reports = SmallCellStats(commands.stats, dimensions, min_cell) if dimensions and min_cell > 1 else commands.stats
    # the authority's lane control and its (absent) pki updater have the methods BmisSide calls
    return BmisSide(link, commands, cast(RunnerLaneControl, lane), AuthorityLaneOutbox(link, commands.stats, clock),
                    StatsPublisher(reports, link, clock), pki or cast(TrustStoreUpdater, NoTrustStoreUpdates()),
                    role.value, problem)


class OnestopSides:
    """Both authorities' BMIS sides, in the place of the Appliance's one BMIS side (the same
    interface as BmisSide: side_health, device_links, certificate_reloads, reload_identity)."""

    def __init__(self, sides: dict[Role, BmisSide], outbox: SovereignOutbox, decider: OnestopDecider,
                 arbiter: ModeArbiter, stores: AuthorityStores | None = None, health: AuthorityHealth | None = None,
                 updates: AgreedUpdates | None = None):
        self.sides, self.outbox, self.decider, self.arbiter = sides, outbox, decider, arbiter
        self.updates = updates      # update-apply as agreed; "both" keeps a waiting half across restarts
        self.stores = stores or AuthorityStores(None, {}, {})
        self.health = health        # each authority's certificate and own store (onestop_health.py)

    def reachable(self, role: Role | None = None) -> bool:
        roles = (role,) if role is not None else tuple(self.sides)
        return all(self.sides[r].reachable() for r in roles)

    def attach(self, runner, chip, trust_store_restored: Callable[[], None]) -> None:
        if chip is not None:        # the one chip read, judged against each authority's own store
            chip.authority_trust = self.stores.trust
        for side in self.sides.values():
            side.attach(runner, chip, trust_store_restored)

    def lane_changed(self, data) -> None:
        for side in self.sides.values():
            side.lane_changed(data)

    def start(self) -> None:
        if self.updates is not None:    # before the links connect: a half arriving finds the kept one
            self.updates.restore()
        for side in self.sides.values():
            side.start()

    def stop(self) -> None:
        for side in self.sides.values():
            side.stop()
        if self.updates is not None:
            self.updates.stop()

    def side_health(self) -> dict[str, dict[str, str]]:
        """Each authority's unconfigured link, client certificate and own trust store, as components
        of its own."""
        links = {f"bmis_link_{role.value}": {"status": "failed", "detail": "not_configured",
                                             "note": side.link_problem[:200]}
                 for role, side in self.sides.items() if side.link_problem is not None}
        return links | (self.health.entries(self.sides) if self.health is not None else self.stores.health())

    def trust_faults(self) -> list:
        """Missing own trust stores of authorities that do not let the lane run without them."""
        return self.stores.faults()

    def device_links(self) -> tuple:
        """Both authorities run the device: its own alarms (updater, ...) go to each."""
        return tuple(side.link for side in self.sides.values())

    def certificate_reloads(self) -> int:
        return 0        # the lane's [bmis] certificate is not used; each authority's: side_health

    def reload_identity(self) -> bool:
        """SIGHUP: each authority's link reconnects if its certificate changed (True when one did),
        and each authority's own trust store is read again from its csca_dir."""
        reconnected = [side.reload_identity() for side in self.sides.values()]
        for side in self.sides.values():
            if isinstance(side.pki_updater, AuthorityStoreUpdater):
                side.pki_updater.reload_from_disk()
        return any(reconnected)

    def certificates(self) -> dict:
        """Each authority's client certificate in use (`gatectl status`, metrics), by role."""
        return self.health.certificates() if self.health is not None else {"authorities": {}}

    def outbox_counts(self) -> dict:
        """Each authority's outbox counts, or its error (onestop_status.py)."""
        return authority_outboxes(self.sides)


def own_health(components: dict, role: Role) -> dict:
    """What one authority's health message carries: the lane's components and its own link only."""
    other = (Role.ENTRY if role is Role.EXIT else Role.EXIT).value
    hidden = {f"bmis_link_{other}", f"trust_store_{other}", f"certificate_{other}"}
    return {name: entry for name, entry in components.items() if name not in hidden}


def build_onestop(config, clock: Callable[[], datetime], clock_synchronised: Callable[[], bool],
                  health_source: Callable[[], dict] | None = None,
                  updates: UpdateRequests | None = None, health_info: Callable[[], dict] | None = None) -> OnestopSides:
    """Raises GateError subclasses (stores, trust stores, outboxes); a side already built is closed.
    `health_source` is the appliance's health; each authority's link sends only its own part of it,
    and `health_info` (versions, last update) with its own client certificate's expiry.
    `updates`: the device's update-apply half, used as [onestop] update_authority allows."""
    lane_control = RunnerLaneControl(clock)
    arbiter = ModeArbiter(LaneMode(config.lane.mode))
    authorities = {Role(a.role.value): a for a in authorities_by_role(config.authority)}
    configs = {role: authority_config(config, a) for role, a in authorities.items()}
    stores = load_stores(authorities, configs)
    small_cells = (withheld_dimensions(frozenset(f.value for f in config.onestop.shared_fields),
                                       config.onestop.statistics is StatisticsBasis.OWN_CONTROL),
                   config.onestop.statistics_min_cell)
    agreed = AgreedUpdates(config.onestop.update_authority, updates, clock, pending_halves(config, updates, clock))
    health = AuthorityHealth({role: a.bmis.cert_file for role, a in authorities.items()}, stores, clock,
                             {role: a.country for role, a in authorities.items()})
    sides: dict[Role, BmisSide] = {}
    try:
        for role, authority in authorities.items():
            control = AuthorityLaneControl(role, arbiter, lane_control, door_controls(config.gate.layout))
            pki = AuthorityStoreUpdater(configs[role], clock, role, stores) if authority.csca_dir else None
            sides[role] = build_authority_side(configs[role], role, control, clock,
                                               _link_health(role, health, health_source, health_info), pki,
                                               small_cells, agreed.port(role))
    except GateError:
        for side in sides.values():
            side.stop()
        raise
    return _assemble(config, sides, arbiter, clock, clock_synchronised, stores, health, agreed)


def _link_health(role: Role, health: AuthorityHealth, source, info) -> dict:
    """What one authority's link publishes as its health: its own part of the appliance's."""
    return {"health_source": None if source is None else (lambda: own_health(source(), role)),
            "health_info": None if info is None else (lambda: health.own_info(role, info()))}


def _assemble(config, sides, arbiter, clock, clock_synchronised, stores, health, agreed=None) -> OnestopSides:
    memory = JointDecisions()
    by_role = dict(zip((Role.EXIT, Role.ENTRY), authorities_by_role(config.authority)))
    deciders = {role: AuthorityDecider(authority_rules(a), sides[role].alerts, sides[role].reachable)
                for role, a in by_role.items()}
    agreement = Agreement(frozenset(f.value for f in config.onestop.shared_fields),
                          {role: a.country for role, a in by_role.items()},
                          config.onestop.statistics is StatisticsBasis.OWN_CONTROL)
    decider = OnestopDecider(deciders[Role.EXIT], deciders[Role.ENTRY], memory, lambda: clock().date(),
                             clock_synchronised, pad_required=config.face.pad.required)
    outbox = SovereignOutbox({role: side.outbox for role, side in sides.items()}, memory, agreement)
    return OnestopSides(sides, outbox, decider, arbiter, stores, health, agreed)


def onestop_decider(side) -> Callable:
    """The one-stop lane's decider: the joint one, or refer-all when the sides could not be built."""
    return side.decider if isinstance(side, OnestopSides) else refer_all
