"""`gatectl officer add NAME --file PATH`: create or replace an officer's console password."""
from __future__ import annotations

import getpass
import sys
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
