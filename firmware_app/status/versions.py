"""What a gate runs and how long its identity lasts: software, model and schema versions, and the
MQTT client certificate's expiry. Read once at start (models, schemas) or on demand (certificate:
a renewal swaps the file while the app runs)."""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

MAX_MANIFEST_BYTES = 1 << 20
MAX_CERT_BYTES = 64 << 10


def model_versions(models_dir: Path) -> dict:
    """{model key: {"name", "sha256" (first 16 hex), "present"}}, plus "pad_available"."""
    try:
        path = Path(models_dir) / "manifest.json"
        if path.stat().st_size > MAX_MANIFEST_BYTES:
            return {"error": "manifest too large"}
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return {"error": "no readable manifest"}
    models = {}
    listed = manifest.get("models") if isinstance(manifest, dict) else None
    for key, entry in (listed if isinstance(listed, dict) else {}).items():
        if isinstance(entry, dict) and isinstance(entry.get("sha256"), str):
            found = entry.get("runtime")
            runtime: dict = found if isinstance(found, dict) else entry
            models[str(key)[:32]] = {"name": str(entry.get("name", key))[:64], "sha256": entry["sha256"][:16],
                                     "present": (Path(models_dir) / str(runtime.get("file", ""))).is_file()}
    pad = [m for k, m in models.items() if k.startswith("pad")]
    return {"models": models, "pad_available": bool(pad) and all(m["present"] for m in pad)}


def certificate_expiry(cert_file: Path | None, now: datetime) -> dict | None:
    """{"not_after", "days_left"} of a PEM certificate; None when none is configured; an "error" when unreadable."""
    if cert_file is None:
        return None
    try:
        data = Path(cert_file).read_bytes()[:MAX_CERT_BYTES]
        not_after = x509.load_pem_x509_certificate(data).not_valid_after_utc
    except (OSError, ValueError) as exc:
        return {"error": f"{type(exc).__name__}: cannot read {cert_file}"}
    return expiry_summary(not_after, now)


def expiry_summary(not_after: datetime, now: datetime) -> dict:
    left = not_after - now.astimezone(UTC)
    return {"not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"), "days_left": int(left.total_seconds() // 86400)}
