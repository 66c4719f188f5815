"""The client certificate's expiry as a health component: warnings at 30, 7 and 1 days left.

Read from the file each time (a renewal swaps it under a running gate-app); bounded in size."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

WARNING_DAYS = (1, 7, 30)       # the smallest threshold the days left fall under names the warning
MAX_CERT_BYTES = 64 * 1024


def expiry_entry(not_after: datetime, now: datetime) -> dict[str, str]:
    left = not_after - now
    if left.total_seconds() <= 0:
        return {"status": "failed", "detail": "cert_expired",
                "note": f"client certificate expired on {not_after:%Y-%m-%d}: the broker will refuse the gate"}
    for days in WARNING_DAYS:
        if left.days < days:
            return {"status": "degraded", "detail": f"cert_expires_within_{days}d",
                    "note": f"client certificate ends {not_after:%Y-%m-%d %H:%M} UTC ({left.days} days): "
                            "gatectl cert renew"}
    return {"status": "ok", "detail": f"expires_{not_after:%Y-%m-%d}"}


def certificate_health(cert_file: Path | None, now: datetime) -> dict[str, str] | None:
    """None when no certificate is configured (the bmis_link component says so already)."""
    if cert_file is None:
        return None
    from cryptography import x509
    try:
        with open(cert_file, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read(MAX_CERT_BYTES))
    except (OSError, ValueError) as exc:
        return {"status": "failed", "detail": "cert_unreadable", "note": f"{cert_file}: {exc}"[:200]}
    return expiry_entry(cert.not_valid_after_utc, now)
