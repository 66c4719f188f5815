"""`gate-app --config FILE`: the appliance entry point.

A bad config never starts the lane: it is checked before anything else is opened.
"""
from __future__ import annotations

import argparse
import logging
import sys

from .config import load_config
from .errors import ConfigError

log = logging.getLogger("gate.app")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gate-app")
    parser.add_argument("--config", default="config/default.toml")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"gate-app: config: {problem}", file=sys.stderr)
        return 2
    log.error("the lane (issue 5) is not built yet; device %s has nothing to run", config.device.id)
    return 2
