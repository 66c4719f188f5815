"""`gatectl chip verify --sod FILE [--dg N=FILE]... [--at DATE] [--trust-store PATH | --authority A] [--json]`:
passive authentication of a chip dump (the files `gatectl chip read --out` writes, or any dump).

Without --trust-store the config's csca_dir and master_list_roots are used. On a one-stop config
`--authority exit|entry|COUNTRY` verifies against that authority's trust store (its own csca_dir,
or the lane's [smartcard] store it shares), as the gate judges the chip for that authority; without
it, the lane's [smartcard] store (as `gatectl pki`). Exit 0 when passive
authentication passes, 1 when a check fails, 2 for usage or unreadable input.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, UsageError
from .authority_arg import add_authority_argument, side_config

MAX_DUMP_BYTES = 1 << 20  # as the LDS parsers' own bound


def register(actions) -> None:
    cmd = actions.add_parser("verify", help="passive authentication of a chip dump; exit 1 when it fails")
    cmd.add_argument("--sod", type=Path, required=True, metavar="FILE", help="EF.SOD as read from the chip")
    cmd.add_argument("--dg", action="append", default=[], metavar="N=FILE", help="a data group (repeatable)")
    cmd.add_argument("--at", metavar="DATE", help="verify as of this UTC date/time (ISO 8601; default now)")
    cmd.add_argument("--trust-store", type=Path, metavar="PATH", help="CSCA directory or master list file")
    cmd.add_argument("--ml-root", type=Path, action="append", default=[], metavar="CERT",
                     help="a certificate a master list's signer may chain to (repeatable)")
    cmd.add_argument("--config", default="config/default.toml", help="csca_dir when --trust-store is absent")
    cmd.add_argument("--json", action="store_true")
    add_authority_argument(cmd, "on a one-stop config: verify against this authority's trust store "
                                "(exit, entry or its country code)")
    cmd.set_defaults(func=run_verify)


def run_verify(args) -> int:
    from firmware_app.emrtd.pa import passive_authenticate
    at = parse_moment(args.at) if args.at else datetime.now(UTC)
    sod, groups = _read(args.sod), dict(_data_group(spec) for spec in args.dg)
    result = passive_authenticate(sod, groups, _store(args), at)
    report = {**result.to_json(), "at": at.isoformat(), "failures": [
        {"reason": f.code(), "detail": f.detail} for f in result.failures], "sod": _sod_summary(sod)}
    print(json.dumps(report, indent=2) if args.json else _human(report))
    return EXIT_OK if result.passed else EXIT_FAILED


def parse_moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--at {text!r}: not an ISO 8601 date or time") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_DUMP_BYTES:
            raise UsageError(f"{path}: larger than {MAX_DUMP_BYTES} bytes")
        return path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: {exc.strerror}") from exc


def _data_group(spec: str) -> tuple[int, bytes]:
    number, _, name = spec.partition("=")
    if not number.isdigit() or not 1 <= int(number) <= 16 or not name:
        raise UsageError(f"--dg {spec!r}: expected N=FILE with N from 1 to 16")
    return int(number), _read(Path(name))


def _store(args):
    from .chip_cmd import trust_store
    if args.trust_store is not None:
        if args.authority is not None:
            raise UsageError("--trust-store and --authority: give one (--authority takes the store from the config)")
        return trust_store(args.trust_store, args.ml_root)
    from firmware_app.config import load_config
    from firmware_app.errors import ConfigError
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        raise UsageError(f"config {args.config}: {'; '.join(exc.problems)}") from exc
    section = config.smartcard if args.authority is None else \
        side_config(config, args.authority, "chip verify").smartcard
    if not Path(section.csca_dir).is_dir():
        raise UsageError(f"no trust store: {section.csca_dir} is not a directory (give --trust-store)")
    return trust_store(Path(section.csca_dir), list(section.master_list_roots) + args.ml_root)


def _sod_summary(sod: bytes) -> dict | None:
    from firmware_app.emrtd.errors import LdsError
    from firmware_app.emrtd.lds import parse_sod
    try:
        parsed = parse_sod(sod)
    except LdsError:
        return None
    return {"content_type": parsed.content_type, "hash_algorithm": parsed.hash_algorithm,
            "lds_version": parsed.lds_version, "hashed_groups": [f"DG{n}" for n in sorted(parsed.dg_hashes)],
            "ds_certificates": [c.subject.human_friendly for c in parsed.certificates]}


def _human(report: dict) -> str:
    rows = [f"passive     {report['result']} at {report['at']} (signature {report['signature_valid']}, "
            f"hashes {report['hashes_valid']}, chain {report['chain_valid']})",
            f"checked     {', '.join(report['checked_groups']) or 'no data group'}"]
    rows += [f"FAILED      {f['reason']} {f['detail']}".rstrip() for f in report["failures"]]
    rows += [f"warning     {w}" for w in report["warnings"]]
    return "\n".join(rows)
