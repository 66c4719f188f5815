"""`gatectl outbox status --config FILE [--authority ROLE|COUNTRY] [--json]`: what the gate still
owes the BMIS. On a one-stop config, one authority's outbox (--authority is required there).

Read-only. Exit 0 when nothing was refused by the broker, 1 when dead letters exist (a refused
message needs a person: usually a broker ACL or a wrong device id), 2 when config or outbox are
unreadable.
"""
from __future__ import annotations

import json
import sys
import time

from .authority_arg import add_authority_argument, side_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(groups) -> None:
    outbox = groups.add_parser("outbox", help="the BMIS outbox (pending messages, dead letters)")
    actions = outbox.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    status = actions.add_parser("status", help="pending, unreceipted, oldest ages, dead letters")
    status.add_argument("--config", default="config/default.toml")
    status.add_argument("--json", action="store_true")
    add_authority_argument(status)
    status.set_defaults(func=run_status)


def run_status(args) -> int:
    from firmware_app.bmis.errors import OutboxError
    from firmware_app.bmis.outbox.storage import inspect_outbox
    from firmware_app.bmis.wiring import OUTBOX_FILE
    from firmware_app.config import load_config
    from firmware_app.errors import ConfigError
    from firmware_app.storage import SchemaError
    try:
        config = side_config(load_config(args.config), args.authority, "outbox status")
        path = config.device.data_dir / OUTBOX_FILE
        if not path.is_file():
            raise OutboxError(f"no outbox at {path}")
        summary = inspect_outbox(path, time.time())
    except (ConfigError, OutboxError, SchemaError) as exc:
        print(f"gatectl outbox: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(summary, indent=2) if args.json else _text(summary))
    return EXIT_FAILED if summary["dead_letters"] else EXIT_OK


def _text(summary: dict) -> str:
    lines = [f"boot {summary['boot']}, last seq {summary['last_seq']}",
             f"pending {summary['pending']} ({summary['pending_bytes']} bytes), "
             f"oldest {summary['oldest_pending_age_s']:.0f} s, by kind {summary['pending_by_kind']}",
             f"unreceipted {summary['unreceipted']} (acknowledged by the broker, not yet confirmed by the BMIS), "
             f"oldest {summary['oldest_unreceipted_age_s']:.0f} s",
             f"dead letters {len(summary['dead_letters'])}"]
    lines += [f"  seq {d['seq']} {d['kind']} on {d['topic']}: {d['reason']} (0x{d['reason_code']:02x})"
              for d in summary["dead_letters"]]
    return "\n".join(lines)
