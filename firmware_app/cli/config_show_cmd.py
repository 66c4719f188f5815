"""`gatectl config show [--config F] [--json]` and `gatectl config reference`.

show: the effective config (every default filled in) with secrets masked (private-key paths,
passwords, tokens, the renewal helper's command). reference: every key with its type, default and
description, as docs/config-reference.md.
"""
from __future__ import annotations

import json

from . import EXIT_OK, UsageError


def register_show(actions) -> None:
    show = actions.add_parser("show", help="effective config after defaults, secrets masked")
    show.add_argument("--config", default="/etc/border-gate/gate.toml")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=run_show)
    ref = actions.add_parser("reference", help="every config key with its default and description (Markdown)")
    ref.set_defaults(func=run_reference)


def run_show(args) -> int:
    from ..config import load_config
    from ..deploy.config_view import effective, masked, show_text
    from ..errors import ConfigError
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(f"config {args.config}: {'; '.join(exc.problems)}") from None
    text = json.dumps(masked(effective(config)), indent=2) if args.json else show_text(config)
    print(text, end="\n" if args.json else "")
    return EXIT_OK


def run_reference(args) -> int:
    from ..config.reference import render_markdown
    print(render_markdown(), end="")
    return EXIT_OK
