"""`gatectl update`: install a release with automatic rollback, and the kept packages.

    gatectl update apply FILE.deb [--sha256 HEX] [--json]   # as root; exit 0 updated (or already
                                                            # installed), 1 rolled back or failed
    gatectl update keep FILE.deb     # register the installed version's package (apt/image installs)
    gatectl update status [--json]   # installed version, kept packages, the last update's result
    gatectl update run-requests [--authority ROLE|COUNTRY] [--json]   # the signed update-apply
                                     # commands gate-app downloaded (border-gate-update.service)

The software is the device's: apply, keep and status act on the one installation both authorities
of a one-stop post share. run-requests checks each request with the keys of the BMIS that sent it.
On a one-stop config the agreement's [onestop] update_authority says whose: "exit" or "entry" runs
that authority's requests (its [authority.bmis] command_keys_dir and topic prefix) and refuses any
other; "both" runs only a request signed by each (joint_requests.py); --authority is then left out
(or names the agreed authority). Without the key, --authority names the BMIS and is required; only
the requests that came in under its topic root are taken (gate-app refuses every update-apply).

Exit 2: config unusable, package invalid or not matching --sha256, no package to roll back to
(`--allow-no-rollback` overrides that, for a first install by hand), or another update running.
"""
from __future__ import annotations

import json
import sys

from . import UsageError
from .authority_arg import add_authority_argument, side_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def register(groups) -> None:
    update = groups.add_parser("update", help="install a release (rolled back if unhealthy); kept packages")
    actions = update.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    apply = actions.add_parser("apply", help="install FILE.deb, watch its health, roll back if it fails")
    apply.add_argument("package")
    apply.add_argument("--sha256", help="refuse the file unless it has this sha256")
    apply.add_argument("--allow-no-rollback", action="store_true",
                       help="update even when the installed version's package is not kept")
    keep = actions.add_parser("keep", help="keep FILE.deb as the installed version's package")
    keep.add_argument("package")
    status = actions.add_parser("status", help="installed version, kept packages, last update")
    requests = actions.add_parser("run-requests", help="run the signed update-apply commands gate-app "
                                                       "downloaded (border-gate-update.service)")
    for parser, func in ((apply, run_apply), (keep, run_keep), (status, run_status), (requests, run_requests)):
        parser.add_argument("--config", default="config/default.toml")
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(func=func)
    add_authority_argument(requests, "on a one-stop config: run the requests of this authority's BMIS, checked "
                                     "with its keys (exit, entry or its country code)")


def _updater(args):
    from firmware_app.config import load_config
    from firmware_app.deploy.wiring import updater_from_config
    return updater_from_config(load_config(args.config))


def _refused(exc) -> int:
    print(f"gatectl update: {exc}", file=sys.stderr)
    return EXIT_USAGE


def run_apply(args) -> int:
    from firmware_app.deploy.errors import DeployError
    from firmware_app.deploy.update import UpdateOutcome
    from firmware_app.errors import ConfigError
    try:
        report = _updater(args).apply(args.package, args.sha256, allow_no_rollback=args.allow_no_rollback)
    except (ConfigError, DeployError) as exc:
        return _refused(exc)
    body = report.to_dict()
    print(json.dumps(body, indent=2) if args.json else _apply_text(body))
    return EXIT_OK if report.outcome in (UpdateOutcome.UPDATED, UpdateOutcome.UNCHANGED) else EXIT_FAILED


def _apply_text(body: dict) -> str:
    lines = [f"{body['outcome']}: {body['from_version']} -> {body['to_version']} ({body['detail']})"]
    if body["alarm"]:
        lines.append(f"alarm {body['alarm']['kind']}: {body['alarm']['detail']}")
    return "\n".join(lines)


def run_keep(args) -> int:
    from firmware_app.deploy.errors import DeployError
    from firmware_app.errors import ConfigError
    try:
        info = _updater(args).keep_installed(args.package)
    except (ConfigError, DeployError) as exc:
        return _refused(exc)
    print(json.dumps(info.to_dict(), indent=2) if args.json else f"kept {info.path}")
    return EXIT_OK


def run_requests(args) -> int:
    from firmware_app.errors import ConfigError, GateError
    try:
        results = _request_runner(args).run()
    except (ConfigError, GateError) as exc:
        return _refused(exc)
    print(json.dumps(results, indent=2) if args.json else
          "\n".join(f"{r['request']}: {r['outcome']} {r.get('detail', '')}" for r in results) or "no requests")
    return EXIT_OK if all(r["outcome"] in ("updated", "unchanged") for r in results) else EXIT_FAILED


def _request_runner(args):
    """The device's updater, with the keys and topic root of the BMIS whose requests are run: the
    lane's [bmis]; on a one-stop post the authority the agreement names ([onestop] update_authority:
    its requests only, any other refused), both (each request signed by each), or, without the key,
    the one chosen with --authority (its requests only)."""
    from firmware_app.config import load_config
    from firmware_app.deploy.request_runner import RequestRunner
    from firmware_app.deploy.wiring import updater_from_config
    config = load_config(args.config)
    agreed = config.onestop.update_authority if config.onestop is not None else None
    if agreed is not None:
        return _agreed_runner(config, agreed.value, args.authority)
    bmis = side_config(config, args.authority, "update run-requests").bmis
    return RequestRunner(updater_from_config(config), _command_keys(bmis), _root(config, bmis),
                         own_root_only=bool(config.authority))


def _command_keys(bmis):
    from pathlib import Path

    from firmware_app.bmis.commands.signing import TrustStore
    keys = Path(bmis.command_keys_dir)
    return TrustStore.from_directory(keys) if keys.is_dir() else TrustStore()


def _root(config, bmis) -> str:
    return f"{bmis.prefix}/v1/{config.device.id}"


def _agreed_runner(config, agreed: str, chosen: str | None):
    from firmware_app.deploy.joint_requests import JointRequestRunner
    from firmware_app.deploy.request_runner import RequestRunner
    from firmware_app.deploy.wiring import updater_from_config
    sides = {a.role.value: side_config(config, a.role.value, "update run-requests") for a in config.authority}
    own = sides[agreed].bmis if agreed in sides else None     # None: both
    if chosen is not None and side_config(config, chosen, "update run-requests").bmis != own:
        raise UsageError(f'gatectl update run-requests: the agreement ([onestop] update_authority = "{agreed}") '
                         f"decides whose requests are run; leave out --authority {chosen}")
    if own is not None:         # one authority's: another root's request is refused, not left waiting
        return RequestRunner(updater_from_config(config), _command_keys(own), _root(config, own))
    return JointRequestRunner(updater_from_config(config),
                              [(_root(config, sides[r].bmis), _command_keys(sides[r].bmis)) for r in ("exit", "entry")])


def run_status(args) -> int:
    from firmware_app.deploy.update import last_update
    from firmware_app.errors import ConfigError
    try:
        updater = _updater(args)
    except ConfigError as exc:
        return _refused(exc)
    body = {"installed": updater.installed_version(), "kept": updater.store.versions(),
            "last_update": last_update(updater.settings.packages_dir)}
    print(json.dumps(body, indent=2) if args.json else
          f"installed {body['installed']}; kept {', '.join(body['kept']) or 'none'}; last update "
          f"{(body['last_update'] or {}).get('outcome', 'none')}")
    return EXIT_OK
