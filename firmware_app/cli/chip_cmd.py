"""`gatectl chip read --reader PATTERN (--mrz LINE LINE [LINE] | --can CAN) [--trust-store PATH] [--json] [--out DIR]`
and `gatectl chip verify` (passive authentication of a dump: cli.chip_verify).

PATTERN is a PC/SC reader name pattern (`pcsc://` is implied) or a full transceiver URL.

Exit 0 when the chip was read and every check passed, 1 when it was read but a check failed,
2 when it could not be read or on a usage error. Personal data is printed only on request
(this command's own output); logs carry only the redacted APDU trace, at DEBUG.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from drivers.errors import DriverError

from . import EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError

log = logging.getLogger(__name__)


def register(groups) -> None:
    chip = groups.add_parser("chip", help="ePassport chip tools")
    actions = chip.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    cmd = actions.add_parser("read", help="read and check a passport chip; exit 1 when a check fails")
    cmd.add_argument("--reader", required=True, metavar="PATTERN",
                     help="PC/SC reader name pattern (substring or wildcards), or a URL such as pcsc://NAME")
    key = cmd.add_mutually_exclusive_group(required=True)
    key.add_argument("--mrz", nargs="+", metavar="LINE", help="the printed MRZ (2 or 3 lines)")
    key.add_argument("--can", metavar="CAN", help="card access number (PACE only)")
    cmd.add_argument("--trust-store", type=Path, metavar="PATH",
                     help="CSCA directory (PEM/DER certificates, CRLs, master lists) or an ICAO master list file")
    cmd.add_argument("--ml-root", type=Path, action="append", default=[], metavar="CERT",
                     help="a certificate a master list's signer may chain to (repeatable)")
    cmd.add_argument("--json", action="store_true", help="machine-readable output")
    cmd.add_argument("--out", type=Path, metavar="DIR", help="write each file's raw bytes to DIR (mode 0600)")
    cmd.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for the reader/card")
    cmd.add_argument("--probe-extended", action="store_true",
                     help="when neither ATR nor EF.ATR/INFO declares extended length, try it once")
    cmd.set_defaults(func=run_read)
    from . import chip_verify
    chip_verify.register(actions)


def run_read(args) -> int:
    from firmware_app.emrtd.errors import EmrtdError
    key = _key(args)
    store = trust_store(args.trust_store, args.ml_root) if args.trust_store else None
    try:
        read = _read_chip(_reader_url(args.reader), key, args.timeout, args.probe_extended)
    except (DriverError, EmrtdError) as exc:
        return _unreadable(args, exc)
    report = _report(read, args.mrz, store)
    if args.out:
        _write_files(args.out, read.files)
    print(json.dumps(report.data, indent=2) if args.json else _human(report.data))
    return EXIT_OK if report.verdict.value == "passed" else EXIT_FAILED


def _reader_url(reader: str) -> str:
    """A bare name pattern means a PC/SC reader (the real backend; nothing simulated is implied)."""
    return reader if "://" in reader else f"pcsc://{reader}"


def _key(args):
    from firmware_app.emrtd.errors import AuthenticationError
    from firmware_app.emrtd.keys import CanKey, mrz_key_from_lines
    try:
        if args.mrz:
            key = mrz_key_from_lines(args.mrz)
            key.information()
            return key
        key = CanKey(args.can)
        key.pace_password()
        return key
    except AuthenticationError as exc:
        raise UsageError(str(exc.reason)) from exc


def trust_store(path: Path, roots: list[Path]):
    from firmware_app.emrtd.errors import PaError
    from firmware_app.emrtd.pa.trust_store import open_store
    try:
        return open_store(path, roots)
    except (OSError, PaError) as exc:
        raise UsageError(f"trust store {path}: {exc}") from exc


def _read_chip(url: str, key, timeout: float, probe_extended: bool):
    from drivers.smartcard import open_transceiver
    from firmware_app.emrtd.reader import ReadOptions, read_document
    read = read_document(open_transceiver(url, timeout_s=timeout), key, os.urandom, time.monotonic,
                         ReadOptions(probe_extended=probe_extended),
                         progress=lambda step, detail: log.info("chip read step %d %s", step, detail))
    for entry in read.log.entries:
        log.debug("apdu %s", entry.redacted())
    return read


def _report(read, printed, store):
    from firmware_app.emrtd.report import build_report
    from firmware_app.mrz import parse

    def mrz_json(lines):
        return parse("\n".join(lines)).to_json()
    return build_report(read, printed, store, datetime.now(UTC), mrz_json)


def _unreadable(args, exc: Exception) -> int:
    kind = type(exc).__name__
    if args.json:
        print(json.dumps({"read": False, "error": kind, "message": str(exc)}))
    print(f"gatectl: chip not read ({kind}): {exc}", file=sys.stderr)
    return EXIT_USAGE


def _write_files(directory: Path, files) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for file, content in files.items():
        path = directory / f"{file.value}.bin"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)


def _human(data: dict) -> str:
    pa = data["passive_auth"]
    rows = [f"access      {data['access']} ({data['access_detail']}; {data['access_reason']})",
            "files       " + ", ".join(f"{name} {info['size']} B" for name, info in data["files"].items()),
            f"DG1         {data['dg1_check'] or 'not compared'}",
            f"passive     {pa['result']} (signature {pa['signature_valid']}, hashes {pa['hashes_valid']}, "
            f"chain {pa['chain_valid']}) {' '.join(pa['reasons'])}",
            *(f"pa warning  {warning}" for warning in pa.get("warnings", [])),
            f"chip auth   {_check(data['chip_auth'])} ({data['chip_auth'].get('check', 'CA')})",
            f"active auth {_check(data['active_auth'])}",
            f"pace params {_check(data['pace_parameters'])}",
            f"apdus       {data['apdus']} ({data['bytes']} bytes, {data['reauthentications']} re-authentications)",
            "timings ms  " + ", ".join(f"{k} {v}" for k, v in data["timings_ms"].items())]
    return "\n".join(rows)


def _check(check: dict) -> str:
    if not check["performed"]:
        return f"not performed ({check['reason']})"
    return "passed" if check["passed"] else f"FAILED ({check['reason']}) {check['detail']}"
