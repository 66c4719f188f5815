"""`gatectl units drop-in [--config F] [--output PATH | --install]`: gate-app's DeviceAllow= for
exactly the devices the config names (firmware_app/deploy/devices.py). Without --output or
--install the drop-in is printed. --install writes /etc/systemd/system/gate-app.service.d/devices.conf
and reloads systemd (as root; the package's postinst does it at configure time).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(groups) -> None:
    units = groups.add_parser("units", help="systemd drop-ins generated from the config")
    actions = units.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    drop_in = actions.add_parser("drop-in", help="DeviceAllow= for exactly the configured devices")
    drop_in.add_argument("--config", default="config/default.toml")
    where = drop_in.add_mutually_exclusive_group()
    where.add_argument("--output", type=Path, help="write the drop-in to this file")
    where.add_argument("--install", action="store_true", help="write it for gate-app.service and reload systemd")
    drop_in.set_defaults(func=run_drop_in)


def run_drop_in(args) -> int:
    from firmware_app.config import load_config
    from firmware_app.deploy.devices import DROP_IN, drop_in_text, write_drop_in
    from firmware_app.errors import ConfigError
    try:
        text = drop_in_text(load_config(args.config), str(args.config))
    except (ConfigError, ValueError) as exc:
        print(f"gatectl units: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not (args.output or args.install):
        sys.stdout.write(text)
        return EXIT_OK
    try:
        path = write_drop_in(text, args.output or DROP_IN)
    except OSError as exc:
        print(f"gatectl units: cannot write the drop-in: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(f"wrote {path}")
    return _reload() if args.install else EXIT_OK


def _reload() -> int:
    if not Path("/run/systemd/system").is_dir():
        print("systemd is not running here: the drop-in applies at the next boot")
        return EXIT_OK
    done = subprocess.run(["systemctl", "daemon-reload"], capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        print(f"gatectl units: systemctl daemon-reload failed: {done.stderr.strip()}", file=sys.stderr)
        return EXIT_FAILED
    print("systemd reloaded; restart gate-app for the new devices: systemctl restart gate-app")
    return EXIT_OK
