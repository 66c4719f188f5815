"""`--authority exit|entry|COUNTRY` of the gatectl tools that look at one BMIS side (issue 17).

A one-stop config has one outbox, alert-list store, command journal, statistics, command-key
directory and (optionally) trust store per authority, and never one for the lane: those tools
show one authority's side, chosen by its role or its country code, and refuse without it. On a
single-authority config the option is refused too (there is only the lane's [bmis]).
The side's config is the one the appliance builds that authority's side from, so the tool reads
exactly the files the gate writes for it.
"""
from __future__ import annotations

from . import UsageError

HELP = "on a one-stop config: the authority whose side to show (exit, entry or its country code)"


def add_authority_argument(parser, help_text: str = HELP) -> None:
    parser.add_argument("--authority", metavar="ROLE|COUNTRY", help=help_text)


def side_config(config, authority: str | None, tool: str):
    """The config as one authority's side sees it (its data_dir, [bmis], trust store), or the
    config itself on a single-authority gate. UsageError when the choice does not fit the config."""
    if not config.authority:
        if authority:
            raise UsageError(f"gatectl {tool}: --authority is for a one-stop config ([[authority]]); "
                             "this gate has one [bmis]")
        return config
    choices = ", ".join(f"{a.role.value} ({a.country})" for a in config.authority)
    if not authority:
        raise UsageError(f"gatectl {tool}: this is a one-stop config with one side per authority; "
                         f"choose one with --authority: {choices}")
    wanted = authority.strip().lower()
    for candidate in config.authority:
        if wanted in (candidate.role.value, candidate.country.lower()):
            from ..appliance.onestop import authority_config
            return authority_config(config, candidate)
    raise UsageError(f"gatectl {tool}: no authority {authority!r} in this config: {choices}")
