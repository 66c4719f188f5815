"""`gatesim scenario --help`: every traveller key, its type, default and values (from KEYS), and
the [timing], [[fault]] and [post] tables, with an example."""
from __future__ import annotations

import textwrap

from simulator.faults import fault_help
from simulator.scenario_keys import KEYS, Kind
from simulator.scenario_post import post_help
from simulator.timing import timing_help


def keys_help(width: int = 100) -> str:
    """Every key, its type, default and values: the epilog of `gatesim scenario --help`."""
    lines = ["A scenario file (TOML, or JSON of the same shape) lists travellers as [[traveller]] tables,",
             "walked through the appliance in order. Keys of a traveller:", ""]
    for key in KEYS:
        head = f"  {key.name} = {key.kind.value}" + (", required" if key.required else f", default {key.default}")
        lines.append(head)
        lines += textwrap.wrap(key.text, width, initial_indent="      ", subsequent_indent="      ")
        if key.values and key.kind is not Kind.TEXT_LIST:
            lines += textwrap.wrap("values: " + ", ".join(key.values), width, initial_indent="      ",
                                   subsequent_indent="        ")
    lines += ["", "An optional [timing] table runs the devices at real speed (docs/scenarios.md, 'Real device",
              "timing'); every key is optional (default shown):"] + timing_help()
    lines += ["", "Optional [[fault]] tables put device faults and BMIS commands on a timeline (docs/scenarios.md,",
              "'Faults on a timeline'):"] + fault_help()
    lines += ["", "An optional [post] table sets the post's rules for the whole run (docs/scenarios.md, 'The",
              "post's rules'):"] + post_help()
    lines += ["", "Example:", "", EXAMPLE.strip("\n"), "",
              "Every key and value is checked before any service starts; an error names the traveller and",
              "the key. The run exits 0 when every traveller ended as expected (outcome and reasons) and",
              "the BMIS received every message exactly once, 1 on any difference, 2 on an unusable file.",
              "Reference: docs/scenarios.md; examples: simulator/scenarios/."]
    return "\n".join(lines)


EXAMPLE = """
    [[traveller]]
    label = "genuine passport, noisy reader line"
    person = "hopper"
    reader_faults = ["noise=6", "chunk=3-9"]
    expect = "passed"
    expect_reasons = []

    [[traveller]]
    label = "someone else's passport"
    person = "collins"
    impostor = "hopper"
    expect = "referred"
    expect_reasons = ["face_not_matched"]
"""
