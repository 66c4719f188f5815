"""`gatectl cert`: the gate's MQTT client certificate.

    gatectl cert status [--config F] [--json]       expiry, CN, whether renewal is due
    gatectl cert install CERT [--config F]          a certificate signed on the CA laptop
    gatectl cert renew [--config F] [--force] [--json]   (daily, by gate-cert-renew.timer)

install and renew never leave the gate without a working pair: a new certificate is checked, tried
on the broker (renewal) and only then swapped in. Exit 0 done or nothing due, 1 refused or still
waiting for the CA's signature, 2 usage or config.
"""
from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, UsageError

DEFAULT_CONFIG = "/etc/border-gate/gate.toml"


def register(groups) -> None:
    cert = groups.add_parser("cert", help="client certificate: status, install, renew")
    actions = cert.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    cmd = actions.add_parser("status", help="expiry, CN, renewal due")
    _common(cmd)
    cmd.set_defaults(func=run_status)
    cmd = actions.add_parser("install", help="install a certificate signed by the post's CA")
    cmd.add_argument("file", type=Path)
    _common(cmd)
    cmd.set_defaults(func=run_install)
    cmd = actions.add_parser("renew", help="renew when due: fetch to .new, try it on the broker, swap")
    cmd.add_argument("--force", action="store_true", help="renew now even if not due")
    _common(cmd)
    cmd.set_defaults(func=run_renew)


def _common(cmd) -> None:
    cmd.add_argument("--config", default=DEFAULT_CONFIG)
    cmd.add_argument("--json", action="store_true")


def _config(args):
    from ..config import load_config
    from ..errors import ConfigError
    try:
        return load_config(args.config)
    except ConfigError as exc:
        raise UsageError(f"config {args.config}: {'; '.join(exc.problems)}") from None


def _probe(config):
    from ..deploy.broker_probe import probe_broker
    return lambda cert, key: probe_broker(config, cert, key, config.identity.verify_timeout_s)


def _emit(args, data: dict, line: str, failed: bool = False) -> None:
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(line, file=sys.stderr if failed else sys.stdout)


def _why(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc} (the gate user or root may change the identity files)"
    return str(exc)


def run_status(args) -> int:
    from ..deploy.cert_expiry import certificate_health
    from ..deploy.errors import DeployError
    from ..deploy.renew import IdentityFiles, due
    config, now = _config(args), datetime.now(UTC)
    try:
        files = IdentityFiles.of(config)
        is_due, not_after = due(config, files, now)
    except DeployError as exc:
        _emit(args, {"ok": False, "error": str(exc)}, f"gatectl cert: {exc}", failed=True)
        return EXIT_FAILED
    health = certificate_health(files.cert, now)
    assert health is not None               # files.cert is set: certificate_health judged it
    _emit(args, {"ok": True, "file": str(files.cert), "not_after": not_after.isoformat(), "renewal_due": is_due,
                 "health": health, "pending": files.new_cert.exists()},
          f"{files.cert}: valid until {not_after:%Y-%m-%d} ({health['status']}: {health['detail']}); "
          f"renewal {'due' if is_due else 'not due'}")
    return EXIT_OK


def run_renew(args) -> int:
    from ..deploy.errors import DeployError
    from ..deploy.renew import RenewOutcome, renew
    config = _config(args)
    try:
        report = renew(config, datetime.now(UTC), _probe(config), force=args.force)
    except (DeployError, OSError) as exc:
        _emit(args, {"outcome": "failed", "detail": _why(exc)}, f"gatectl cert renew: {_why(exc)}", failed=True)
        return EXIT_FAILED
    _emit(args, {"outcome": report.outcome.value, "detail": report.detail,
                 "not_after": report.not_after.isoformat() if report.not_after else None},
          f"{report.outcome.value}: {report.detail}")
    return EXIT_FAILED if report.outcome is RenewOutcome.WAITING else EXIT_OK


def run_install(args) -> int:
    from ..deploy.errors import DeployError
    from ..deploy.install import install_certificate
    config = _config(args)
    try:
        detail = install_certificate(config, args.file, datetime.now(UTC), _probe(config))
    except (DeployError, OSError) as exc:
        _emit(args, {"installed": False, "detail": _why(exc)}, f"gatectl cert install: {_why(exc)}", failed=True)
        return EXIT_FAILED
    _emit(args, {"installed": True, "detail": detail}, detail)
    return EXIT_OK
