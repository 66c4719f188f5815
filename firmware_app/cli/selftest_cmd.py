"""`gatectl selftest [--config F] [--json]`: is this gate ready to serve? One line per check.

Exit 0 every check ok (or skipped), 1 a check failed, 2 the config is unusable.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..config import load_config
from ..errors import ConfigError

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(groups) -> None:
    cmd = groups.add_parser("selftest", help="check config, models, chip reader, camera, gate, outbox, broker")
    cmd.add_argument("--config", default="config/default.toml")
    cmd.add_argument("--json", action="store_true")
    cmd.add_argument("--base-dir", type=Path, default=Path("."), help="where relative model paths start")
    cmd.set_defaults(func=run)


def run(args) -> int:
    from ..appliance.selftest import CheckResult, Status, config_digest, run_checks
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        _emit(args, [CheckResult("config", Status.FAIL, "; ".join(exc.problems))], None)
        return EXIT_USAGE
    results = [CheckResult("config", Status.OK, f"{args.config} valid (sha256:{config_digest(args.config)})")]
    results += run_checks(config, args.base_dir)
    _emit(args, results, config.device.id)
    return EXIT_FAILED if any(r.status is Status.FAIL for r in results) else EXIT_OK


def _emit(args, results, device_id: str | None) -> None:
    from .. import __version__
    from ..appliance.selftest import overall
    status = overall(results).value
    if args.json:
        json.dump({"status": status, "version": __version__, "device_id": device_id,
                   "checks": [r.as_dict() for r in results]}, sys.stdout, indent=2)
        print()
        return
    print(f"border-gate {__version__}  device {device_id}  overall {status}")
    for result in results:
        print(f"{result.status.value:<4}  {result.name:<12}  {result.detail}")
