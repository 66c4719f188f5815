"""`gatectl officer add NAME --file PATH`: create or replace an officer's console password;
`gatectl officer list --file PATH`; `gatectl officer audit --file DB [--txn ID] [--json]`: the
console's audit of logins and decisions."""
from __future__ import annotations

import getpass
import json
import sys
from dataclasses import asdict
from datetime import UTC
from pathlib import Path

from . import EXIT_OK, EXIT_USAGE


def register(groups) -> None:
    cmd = groups.add_parser("officer", help="officer console credentials (assisted mode)")
    sub = cmd.add_subparsers(dest="officer_cmd", required=True)
    add = sub.add_parser("add", help="create or replace an officer's password (salted scrypt, file mode 0600)")
    add.add_argument("name")
    add.add_argument("--file", type=Path, required=True, help="the officer credential file")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (one line)")
    add.set_defaults(func=run_add)
    listing = sub.add_parser("list", help="officer names in the credential file")
    listing.add_argument("--file", type=Path, required=True)
    listing.set_defaults(func=run_list)
    audit = sub.add_parser("audit", help="who logged in and who decided what, when, for which transaction")
    audit.add_argument("--file", type=Path, required=True, help="the audit database (officer-audit.db)")
    audit.add_argument("--txn", help="only this transaction")
    audit.add_argument("--limit", type=int, default=1000)
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(func=run_audit)


def _password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass(f"password for {args.name}: ")
    if getpass.getpass("again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def run_add(args) -> int:
    from firmware_app.officer import CredentialError, OfficerStore
    try:
        OfficerStore(args.file).add(args.name, _password(args))
    except (CredentialError, ValueError) as exc:
        print(f"gatectl officer add: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"officer {args.name} saved in {args.file}")
    return EXIT_OK


def run_list(args) -> int:
    from firmware_app.officer import CredentialError, OfficerStore
    try:
        names = OfficerStore(args.file).names()
    except CredentialError as exc:
        print(f"gatectl officer list: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print("\n".join(names))
    return EXIT_OK


def run_audit(args) -> int:
    from datetime import datetime

    from firmware_app.officer import OfficerAudit, OfficerAuditError
    if not args.file.is_file():
        print(f"gatectl officer audit: {args.file} does not exist", file=sys.stderr)
        return EXIT_USAGE
    try:
        audit = OfficerAudit.open(args.file, lambda: datetime.now(UTC))
        rows = audit.rows(args.txn, max(1, min(args.limit, 100_000)))
        audit.close()
    except OfficerAuditError as exc:
        print(f"gatectl officer audit: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps([{**asdict(r), "action": r.action.value} for r in rows], indent=1))
        return EXIT_OK
    for r in rows:
        used = "" if r.applied is None else (" (to the lane)" if r.applied else " (stale: not used)")
        print(f"{r.at}  {r.officer:<20} {r.action.value:<12} {r.txn_id or '-':<24} {r.verdict or ''}{used}  {r.peer}")
    return EXIT_OK
