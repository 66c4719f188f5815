"""The post's own rules in a scenario ([post] table): what the bench writes into the appliance's
config for the whole run, so a scenario can show the reason codes that only a post's rules give
(a nationality the lane does not admit, no offline operation, PAD required, alert lists required).

    [post]
    eligible_nationalities = ["UTO"]     # [policy] eligible_nationalities
    allow_offline = false                # [policy] allow_offline
    pad_required = true                  # [face.pad] enabled = true, required = true
    alert_required_lists = ["sltd"]      # [bmis] alert_required_lists
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

MAX_ITEMS = 300
_NATIONALITY = re.compile(r"[A-Z][A-Z<]{2}")
_LIST_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class PostSpecError(ValueError):
    """The [post] table is not usable (names the key)."""


@dataclass(frozen=True)
class PostRules:
    eligible_nationalities: tuple[str, ...] = ()
    allow_offline: bool = True
    pad_required: bool = False
    alert_required_lists: tuple[str, ...] = ()


POST_KEY_HELP = {
    "eligible_nationalities": "list of ICAO nationality codes this lane admits (others: nationality_not_eligible); "
                              "default [] = all ([policy] eligible_nationalities)",
    "allow_offline": "false: travellers are referred (bmis_unreachable) while the BMIS link is down; default true "
                     "([policy] allow_offline)",
    "pad_required": "true: PAD is switched on and required, a crossing without PAD is referred (pad_not_performed); "
                    "default false ([face.pad] required)",
    "alert_required_lists": "alert lists that must be loaded (e.g. [\"sltd\"], the list `alert` and alert_push fill), "
                            "else travellers are referred (alert_lists_unavailable); default [] ([bmis])",
}


def post_from(entry: object) -> PostRules:
    from simulator.scenario_keys import _did_you_mean
    if not isinstance(entry, dict):
        raise PostSpecError("[post] must be a table")
    for name in entry:
        if name not in POST_KEY_HELP:
            raise PostSpecError(f"[post]: unknown key {name!r}{_did_you_mean(name, POST_KEY_HELP)} "
                                f"(keys: {', '.join(POST_KEY_HELP)})")
    values: dict = {}
    for name in ("allow_offline", "pad_required"):
        if name in entry:
            if not isinstance(entry[name], bool):
                raise PostSpecError(f"[post]: {name} must be true or false (a boolean), not {entry[name]!r}")
            values[name] = entry[name]
    for name, pattern in (("eligible_nationalities", _NATIONALITY), ("alert_required_lists", _LIST_ID)):
        if name in entry:
            values[name] = _codes(name, entry[name], pattern)
    return PostRules(**values)


def _codes(name: str, value: object, pattern: re.Pattern[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_ITEMS:
        raise PostSpecError(f"[post]: {name} must be a list of at most {MAX_ITEMS} strings, not {value!r}")
    for item in value:
        if not isinstance(item, str) or not pattern.fullmatch(item):
            raise PostSpecError(f"[post]: {name}: {item!r} is not a valid entry")
    return tuple(value)


def policy_text(rules: PostRules | None) -> str:
    """The [policy] section of the bench's config ('' for the defaults)."""
    if rules is None:
        return ""
    return (f"[policy]\neligible_nationalities = {json.dumps(list(rules.eligible_nationalities))}\n"
            f"allow_offline = {'true' if rules.allow_offline else 'false'}\n")


def alert_lists_text(rules: PostRules | None) -> str:
    """A line of the bench's [bmis] section."""
    lists = list(rules.alert_required_lists) if rules else []
    return f"alert_required_lists = {json.dumps(lists)}\n" if lists else ""


def post_help() -> list[str]:
    return [f"  {name}: {text}" for name, text in POST_KEY_HELP.items()]
