"""`gatectl config check FILE`."""
from __future__ import annotations

import sys

from ..config import check_config_file


def register(groups) -> None:
    config = groups.add_parser("config", help="configuration tools")
    actions = config.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    check = actions.add_parser("check", help="validate a config file; exit 2 when invalid")
    check.add_argument("file")
    check.set_defaults(func=run_check)


def run_check(args) -> int:
    problems = check_config_file(args.file)
    if problems:
        print(f"{args.file}: invalid configuration", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    print(f"{args.file}: ok")
    return 0
