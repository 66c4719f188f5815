"""The client certificate's expiry as a health component: warnings at 30, 7 and 1 days left.

gate-app's MQTT connection loads a renewed certificate when it next connects (the renewal asks it
to reconnect: `systemctl reload gate-app`). So the watch remembers the certificate in use, judges
that one, takes the one on disk when the connection says it loaded a renewed one, and meanwhile
says that a renewed one waits for the next reconnection."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

WARNING_DAYS = (1, 7, 30)       # the smallest threshold the days left fall under names the warning
MAX_CERT_BYTES = 64 * 1024


@dataclass(frozen=True)
class CertFacts:
    not_after: datetime
    fingerprint: bytes


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


def read_facts(cert_file: Path) -> CertFacts:
    """Raises OSError or ValueError for a missing or unreadable certificate."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    with open(cert_file, "rb") as handle:
        cert = x509.load_pem_x509_certificate(handle.read(MAX_CERT_BYTES))
    return CertFacts(cert.not_valid_after_utc, cert.fingerprint(hashes.SHA256()))


def certificate_health(cert_file: Path | None, now: datetime) -> dict[str, str] | None:
    """The file as it is now; None when no certificate is configured (bmis_link says so)."""
    if cert_file is None:
        return None
    try:
        return expiry_entry(read_facts(cert_file).not_after, now)
    except (OSError, ValueError) as exc:
        return {"status": "failed", "detail": "cert_unreadable", "note": f"{cert_file}: {exc}"[:200]}


class CertificateWatch:
    """Health of the certificate gate-app started with (see the module note)."""

    def __init__(self, cert_file: Path | None):
        self.cert_file = cert_file
        self.in_use = self._facts()
        self._reloads_seen = 0

    def _facts(self) -> CertFacts | None:
        try:
            return read_facts(self.cert_file) if self.cert_file is not None else None
        except (OSError, ValueError):
            return None

    def entry(self, now: datetime, reloads: int = 0) -> dict[str, str] | None:
        """`reloads`: how many renewed certificates the connection has loaded (it read the file)."""
        if self.cert_file is None:
            return None
        if reloads != self._reloads_seen:
            self._reloads_seen, self.in_use = reloads, self._facts()
        if self.in_use is None:
            return certificate_health(self.cert_file, now)
        entry = expiry_entry(self.in_use.not_after, now)
        on_disk = self._facts()
        if on_disk is not None and on_disk.fingerprint != self.in_use.fingerprint:
            entry["note"] = (f"renewed certificate (until {on_disk.not_after:%Y-%m-%d}) is used from the next "
                             "reconnection (systemctl reload gate-app); "
                             f"{entry.get('note', 'the one in use is fine')}")[:200]
        return entry
