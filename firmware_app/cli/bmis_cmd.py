"""`gatectl bmis ...`: the BMIS trust store, alert lists, command audit and statistics on a gate.

    gatectl bmis key-add FILE [--config CFG | --dir DIR]   add a BMIS Ed25519 public key (PEM)
    gatectl bmis keys [--config CFG | --dir DIR] [--json]  list trusted key ids (exit 1: none)
    gatectl bmis alerts [--config CFG] [--json]            alert lists: id, kind, version, entries
    gatectl bmis audit [--config CFG] [--limit N] [--json] security commands, newest first
    gatectl bmis stats [--config CFG] [--json]             hourly reports not yet sent

On a one-stop config each authority has its own keys, lists, audit and statistics: add
--authority exit|entry|COUNTRY (required there) to look at one authority's side only.

Exit codes: 0 ok, 1 check failed, 2 usage, config or unreadable input.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, UsageError
from .authority_arg import add_authority_argument, side_config

DEFAULT_CONFIG = "config/default.toml"


def register(groups) -> None:
    bmis = groups.add_parser("bmis", help="BMIS keys, alert lists, command audit, statistics")
    actions = bmis.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    add = actions.add_parser("key-add", help="trust a BMIS public key (PEM, Ed25519) for commands")
    add.add_argument("file", type=Path)
    _key_location(add)
    add.set_defaults(func=run_key_add)
    keys = actions.add_parser("keys", help="list the trusted BMIS key ids; exit 1 when there is none")
    _key_location(keys)
    keys.set_defaults(func=run_keys)
    for name, func, text in (("alerts", run_alerts, "show the alert lists held (no entries)"),
                             ("audit", run_audit, "show the audit trail of security commands"),
                             ("stats", run_stats, "show the hourly statistics not yet reported")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--config", default=DEFAULT_CONFIG, metavar="FILE")
        action.add_argument("--json", action="store_true")
        if name == "audit":
            action.add_argument("--limit", type=int, default=50)
        add_authority_argument(action)
        action.set_defaults(func=func)


def _key_location(parser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--config", metavar="FILE",
                       help=f"use bmis.command_keys_dir (default {DEFAULT_CONFIG})")
    where.add_argument("--dir", type=Path, help="the trust-store directory itself")
    parser.add_argument("--json", action="store_true")
    add_authority_argument(parser)


def _config(path: str, authority: str | None = None):
    """The config of the side to look at: one authority's on a one-stop config (authority_arg.py)."""
    from ..config import load_config
    from ..errors import ConfigError
    try:
        config = load_config(path)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    return side_config(config, authority, "bmis")


def _keys_dir(args) -> Path:
    if args.dir:
        if args.authority:
            raise UsageError("gatectl bmis: --dir names the directory itself; --authority needs --config")
        return args.dir
    return _config(args.config or DEFAULT_CONFIG, args.authority).bmis.command_keys_dir


def _print(args, data, lines) -> None:
    if args.json:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        for line in lines:
            print(line)


def run_key_add(args) -> int:
    from ..bmis.commands.signing import key_id_of, load_public_key, public_key_pem
    from ..bmis.errors import TrustStoreError
    directory = _keys_dir(args)
    try:
        key = load_public_key(args.file)
    except TrustStoreError as exc:
        raise UsageError(str(exc)) from None
    key_id = key_id_of(key)
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{key_id}.pem"
    target.write_bytes(public_key_pem(key))
    _print(args, {"key_id": key_id, "file": str(target)}, [f"trusted BMIS key {key_id} -> {target}"])
    return EXIT_OK


def run_keys(args) -> int:
    from ..bmis.commands.signing import TrustStore
    from ..bmis.errors import TrustStoreError
    directory = _keys_dir(args)
    try:
        store = TrustStore.from_directory(directory)
    except TrustStoreError as exc:
        raise UsageError(str(exc)) from None
    ids = list(store.key_ids)
    _print(args, {"dir": str(directory), "key_ids": ids}, ids or [f"{directory}: no BMIS key"])
    return EXIT_OK if ids else EXIT_FAILED


def _existing_file(args, name: str) -> Path | None:
    """The data file of the configured gate, or None when the gate never wrote one."""
    path = Path(_config(args.config, args.authority).device.data_dir) / name
    return path if path.is_file() else None


def run_alerts(args) -> int:
    from ..bmis.alerts.store import read_summary
    from ..bmis.command_wiring import ALERTS_FILE
    from ..bmis.errors import AlertStoreError
    path = _existing_file(args, ALERTS_FILE)
    try:
        rows = read_summary(path) if path else []
    except AlertStoreError as exc:
        raise UsageError(str(exc)) from None
    _print(args, rows, [f"{r['list_id']:<20} {r['kind']:<9} v{r['version']:<8} {r['entry_count']:>9} "
                        f"entries  updated {r['updated_at']}" for r in rows] or ["no alert lists"])
    return EXIT_OK


def _open(args, what):
    from ..bmis.command_wiring import JOURNAL_FILE, STATS_FILE
    from ..bmis.commands.journal import CommandJournal
    from ..bmis.errors import BmisCommandError
    from ..bmis.stats import CrossingStats
    path = _existing_file(args, JOURNAL_FILE if what == "journal" else STATS_FILE)
    if path is None:
        return None
    try:
        return CommandJournal.open(path) if what == "journal" else CrossingStats.open(path)
    except BmisCommandError as exc:
        raise UsageError(str(exc)) from None


def run_audit(args) -> int:
    journal = _open(args, "journal")
    rows = journal.audit_rows(max(1, args.limit)) if journal else []
    if journal:
        journal.close()
    _print(args, rows, [f"{r['time']}  {r['command'] or '?':<15} {r['status']:<4} {r['reason']:<18} "
                        f"operator={r['operator_id']} key={r['key_id']} {r['detail']}" for r in rows]
           or ["no audited commands"])
    return EXIT_OK


def run_stats(args) -> int:
    stats = _open(args, "stats")
    reports = stats.due_reports(datetime.now(UTC)) if stats else []
    if stats:
        stats.close()
    _print(args, reports, [f"{r['period_start']}  {r['total']:>6} crossings  "
                           f"{len(r['counts'])} cells" for r in reports] or ["no pending hourly report"])
    return EXIT_OK
