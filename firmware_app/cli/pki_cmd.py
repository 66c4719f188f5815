"""`gatectl pki import|list|check`: the CSCA trust store passive authentication uses.

    gatectl pki import FILE... [--config F | --store DIR] [--ml-root CERT]... [--json]
    gatectl pki list [--config F | --store DIR] [--json]
    gatectl pki check [--config F | --store DIR] [--days N] [--at DATE] [--json]

The store is `[smartcard] csca_dir` of the config (or --store); master lists are pinned to its
CSCA files and to `[smartcard] master_list_roots` (plus --ml-root). Exit codes: import 0 when no
file was refused, 1 when one was; check 0 when nothing needs attention, 1 when something does
(including a file the gate would refuse); 2 for usage or an unusable config or store directory.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, UsageError
from .authority_arg import add_authority_argument, side_config


def register(groups) -> None:
    pki = groups.add_parser("pki", help="CSCA trust store: import master lists, CSCAs, CRLs; list; check")
    actions = pki.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    cmd = actions.add_parser("import", help="import master lists, CSCA certificates (DER/PEM) and CRLs")
    cmd.add_argument("files", nargs="+", type=Path, metavar="FILE")
    cmd.add_argument("--ml-root", type=Path, action="append", default=[], metavar="CERT",
                     help="a national root a master list's signer may chain to; kept in the store's roots/")
    _store_arguments(cmd)
    cmd.set_defaults(func=run_import)
    cmd = actions.add_parser("list", help="anchors: country, key id, validity, source")
    _store_arguments(cmd)
    cmd.set_defaults(func=run_list)
    cmd = actions.add_parser("check", help="expired or expiring anchors, stale CRLs; exit 1 if any")
    cmd.add_argument("--days", type=int, default=90, help="warn this many days before the last anchor ends")
    cmd.add_argument("--at", metavar="DATE", help="check as of this UTC date/time (ISO 8601; default now)")
    _store_arguments(cmd)
    cmd.set_defaults(func=run_check)
    from .pki_sign_cmd import register_sign
    register_sign(actions)


def _store_arguments(cmd) -> None:
    cmd.add_argument("--config", default="config/default.toml", help="takes csca_dir and master_list_roots")
    cmd.add_argument("--store", type=Path, metavar="DIR", help="trust-store directory (instead of csca_dir)")
    cmd.add_argument("--json", action="store_true")
    add_authority_argument(cmd)


def _location(args) -> tuple[Path, list[Path]]:
    """(store directory, master-list roots) from --store or the config."""
    from firmware_app.config import load_config
    from firmware_app.errors import ConfigError
    if args.store is not None and not Path(args.config).exists():
        return args.store, []
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(f"config {args.config}: {'; '.join(exc.problems)}") from exc
    section = _store_section(config, args.authority)
    return args.store or Path(section.csca_dir), list(section.master_list_roots)


def _store_section(config, authority: str | None):
    """[smartcard], or on a one-stop config with --authority that authority's own trust store
    (without one of its own it shares [smartcard]). Without --authority: the lane's [smartcard]."""
    if authority is None:
        return config.smartcard
    return side_config(config, authority, "pki").smartcard


def _open(args):
    from firmware_app.emrtd.errors import PaError
    from firmware_app.emrtd.pa.provision import open_directory
    directory, roots = _location(args)
    try:
        return open_directory(directory, roots)
    except (OSError, PaError) as exc:
        raise UsageError(f"trust store {directory}: {exc}") from exc


def run_import(args) -> int:
    from firmware_app.emrtd.errors import PaError
    from firmware_app.emrtd.pa.provision import Outcome, import_files
    directory, roots = _location(args)
    try:
        reports = import_files(args.files, directory, roots, datetime.now(UTC), args.ml_root)
    except (OSError, PaError) as exc:
        raise UsageError(f"trust store {directory}: {exc}") from exc
    if args.json:
        print(json.dumps({"store": str(directory), "files": [r.to_json() for r in reports]}, indent=2))
    else:
        for report in reports:
            print(_import_line(report))
    return EXIT_FAILED if any(r.outcome is Outcome.REFUSED for r in reports) else EXIT_OK


def _import_line(report) -> str:
    line = f"{report.outcome.value:<8} {report.kind.value:<12} {report.path}"
    if report.reason:
        line += f": {report.reason}"
    if report.anchors or report.already_present or report.expired:
        countries = sorted({a["country"] for a in report.anchors})
        line += (f" -> {len(report.anchors)} anchors added ({', '.join(countries) or '-'}), "
                 f"{report.already_present} already present, {report.expired} expired")
    return "\n  ".join([line] + report.warnings)


def run_list(args) -> int:
    from firmware_app.emrtd.pa.provision import anchor_info
    store = _open(args)
    anchors = sorted((anchor_info(c, store.source_of(c)) for c in store.cscas),
                     key=lambda a: (a["country"], a["not_after"]))
    crls = [_crl_info(entry) for entry in store.crls]
    if args.json:
        print(json.dumps({"anchors": anchors, "crls": crls, "master_list_roots": len(store.pins),
                          "unusable_files": store.problems}, indent=2))
        return EXIT_OK
    for a in anchors:
        print(f"{a['country']:<4} {a['not_before'][:10]} .. {a['not_after'][:10]}  "
              f"{(a['key_id'] or '-')[:16]:<16}  {a['source']}  {a['subject']}")
    for problem in store.problems:
        print(f"UNUSABLE {problem}")
    print(f"{len(anchors)} anchors, {len(crls)} CRLs, {len(store.problems)} unusable files (see gatectl pki check)")
    return EXIT_OK


def _crl_info(entry) -> dict:
    tbs = entry["tbs_cert_list"]
    next_update = tbs["next_update"].native
    return {"issuer": entry.issuer.human_friendly, "this_update": tbs["this_update"].native.isoformat(),
            "next_update": next_update.isoformat() if next_update else None,
            "revoked": len(tbs["revoked_certificates"])}


def run_check(args) -> int:
    from firmware_app.emrtd.pa.store_health import check_store

    from .chip_verify import parse_moment
    if args.days < 0:
        raise UsageError("--days must not be negative")
    store = _open(args)
    items = check_store(store, parse_moment(args.at) if args.at else datetime.now(UTC), args.days)
    attention = [item for item in items if item.needs_attention]
    if args.json:
        print(json.dumps({"anchors": len(store.cscas), "crls": len(store.crls), "attention": len(attention),
                          "items": [item.to_json() for item in items]}, indent=2))
    else:
        for item in items:
            print(f"{'ATTENTION' if item.needs_attention else 'note':<9} {item.finding.value:<10} "
                  f"{item.country:<4} {item.detail}")
        print(f"{len(store.cscas)} anchors, {len(store.crls)} CRLs, {len(attention)} need attention")
    return EXIT_FAILED if attention else EXIT_OK
