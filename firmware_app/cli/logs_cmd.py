"""`gatectl logs export [--since WHEN] [--journal-dir DIR] [--config F] --out FILE.tar.gz`.

A redacted support bundle: journal (info and above) of our units, effective config (secrets
masked), config check, selftest, versions, outbox counts, certificate expiry. Personal data
(MRZ lines, names, document numbers, birth dates, images) is removed. Exit 0 written, 2 usage.
"""
from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from . import EXIT_OK, UsageError


def register(groups) -> None:
    logs = groups.add_parser("logs", help="support: export a redacted bundle")
    actions = logs.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    cmd = actions.add_parser("export", help="journal, config, selftest, versions, outbox counts; redacted")
    cmd.add_argument("--out", type=Path, required=True, metavar="FILE.tar.gz")
    cmd.add_argument("--since", help="journal since this time (journalctl syntax: '2026-12-01', '-2d', 'yesterday')")
    cmd.add_argument("--journal-dir", type=Path, help="read the journal from here (a gate's SD card)")
    cmd.add_argument("--config", type=Path, default=Path("/etc/border-gate/gate.toml"))
    cmd.set_defaults(func=run_export)


def run_export(args) -> int:
    from ..deploy.errors import BundleError
    from ..deploy.support_bundle import collect, write_bundle
    now = datetime.now(UTC)
    bundle = collect(args.config, args.since, args.journal_dir, now)
    try:
        size = write_bundle(bundle, args.out, now)
    except BundleError as exc:
        raise UsageError(str(exc)) from None
    removed = sum(sum(c.values()) for c in bundle.redactions.values())
    print(f"wrote {args.out} ({size} bytes, {len(bundle.members)} files, {removed} redactions)")
    return EXIT_OK
