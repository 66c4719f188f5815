"""`gatectl logs export`: a redacted support bundle (tar.gz) a technician can send away.

Inside: our units' journal (info and above), the effective config with secrets masked, the
config check, the selftest (read-only), versions, outbox counts and the certificate's expiry.
Every text goes through redact.py; no outbox record, lane journal or image is ever read into it.
"""
from __future__ import annotations

import io
import json
import platform
import tarfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from .. import __version__
from ..errors import ConfigError, GateError
from .config_view import MASK
from .errors import BundleError
from .files import write_atomic
from .journal_source import JournalRead, read_journal
from .redact import redact

PACKAGES = ("border-gate", "cryptography", "paho-mqtt", "pydantic", "onnxruntime", "pyscard", "gpiozero",
            "pyserial", "numpy", "opencv-python-headless")
MAX_BUNDLE_BYTES = 64 << 20


@dataclass
class Bundle:
    members: dict[str, str] = field(default_factory=dict)
    redactions: dict[str, dict[str, int]] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)      # masked wherever they appear

    def add(self, name: str, text: str) -> None:
        counts: Counter = Counter()
        text = redact(text, counts)
        for secret in sorted(self.secrets, key=len, reverse=True):
            counts["secret"] += text.count(secret)
            text = text.replace(secret, MASK)
        self.members[name] = text
        if +counts:
            self.redactions[name] = dict(+counts)


def collect(config_path: Path, since: str | None, journal_dir: Path | None, now: datetime,
            journal: Callable[[str | None, Path | None], JournalRead] = read_journal) -> Bundle:
    bundle = Bundle()
    config = _config_parts(bundle, config_path)
    read = journal(since, journal_dir)
    bundle.add("journal.txt", "\n".join([f"# {read.note}"] + read.lines) + "\n")
    bundle.add("versions.json", json.dumps(_versions(), indent=2))
    if config is not None:
        bundle.add("selftest.json", json.dumps(_selftest(config), indent=2))
        bundle.add("outbox.json", json.dumps(_outbox(config), indent=2))
        bundle.add("certificate.json", json.dumps(_certificate(config, now), indent=2))
    bundle.add("README.txt", _readme(now, since, bundle))
    return bundle


def _config_parts(bundle: Bundle, config_path: Path):
    from ..config import check_config_file, load_config
    from .config_view import effective, secret_values, show_text
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        bundle.add("config-check.txt", f"{config_path}: invalid\n" + "\n".join(exc.problems) + "\n")
        return None
    bundle.secrets = secret_values(effective(config))
    bundle.add("config-show.toml", show_text(config))
    problems = check_config_file(config_path)
    bundle.add("config-check.txt", f"{config_path}: " + ("ok\n" if not problems else "\n".join(problems) + "\n"))
    return config


def _versions() -> dict:
    from importlib import metadata
    found: dict[str, str | None] = {}
    for name in PACKAGES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return {"border_gate": __version__, "python": platform.python_version(), "platform": platform.platform(),
            "machine": platform.machine(), "packages": found}


def _selftest(config) -> dict:
    from ..appliance.selftest import overall, run_checks
    results = run_checks(config, Path("."))
    return {"status": overall(results).value, "device_id": config.device.id, "checks": [r.as_dict() for r in results]}


def _outbox(config) -> dict:
    """Counts only: the records themselves carry travellers' data."""
    from ..bmis.outbox.storage import inspect_outbox
    from ..bmis.wiring import OUTBOX_FILE
    path = Path(config.device.data_dir) / OUTBOX_FILE
    if not path.is_file():
        return {"outbox": str(path), "present": False}
    try:
        summary = inspect_outbox(path, time.time())
    except GateError as exc:
        return {"outbox": str(path), "error": f"{type(exc).__name__}: {exc}"}
    keep = ("boot", "last_seq", "pending", "pending_bytes", "pending_by_kind", "oldest_pending_age_s",
            "unreceipted", "oldest_unreceipted_age_s")
    counts = {key: summary.get(key) for key in keep}
    counts["dead_letters"] = len(summary.get("dead_letters", []))
    return counts


def _certificate(config, now: datetime) -> dict:
    from .cert_expiry import certificate_health
    return {"file": str(config.bmis.cert_file), "health": certificate_health(config.bmis.cert_file, now)}


def _readme(now: datetime, since: str | None, bundle: Bundle) -> str:
    return (f"border-gate support bundle, made {now.isoformat(timespec='seconds')} "
            f"(journal since {since or 'the start'})\n"
            "Personal data removed: MRZ lines, personal fields (names, document numbers, dates of birth,\n"
            "nationality), base64/hex blobs (images, chip data); DEBUG journal entries left out; secrets masked.\n"
            f"Redactions per file: {json.dumps(bundle.redactions, sort_keys=True)}\n")


def write_bundle(bundle: Bundle, out: Path, now: datetime) -> int:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, text in bundle.members.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(f"support/{name}")
            info.size, info.mtime, info.mode = len(data), int(now.timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
    if buffer.tell() > MAX_BUNDLE_BYTES:
        raise BundleError(f"bundle larger than {MAX_BUNDLE_BYTES >> 20} MiB: use --since to narrow it")
    try:
        write_atomic(out, buffer.getvalue(), 0o600)
    except OSError as exc:
        raise BundleError(f"cannot write {out}: {exc.strerror}") from None
    return buffer.tell()
