"""Running `[identity] renew_command`: the CSR on its stdin, the certificate (PEM) on its stdout.

Bounded in time (renew_timeout_s) and size (what it prints); its stderr is shown on failure. The
command comes from the root-owned config, never from the network."""
from __future__ import annotations

import subprocess

from .errors import RenewalError
from .identity import MAX_PEM_BYTES

BEGIN_CERT = b"-----BEGIN CERTIFICATE-----"


def run_helper(argv: list[str], csr: bytes, timeout_s: float) -> bytes:
    try:
        done = subprocess.run(argv, input=csr, capture_output=True, timeout=timeout_s, check=False)
    except subprocess.TimeoutExpired:
        raise RenewalError(f"renew_command did not answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise RenewalError(f"renew_command cannot run: {exc}") from None
    if done.returncode != 0:
        raise RenewalError(f"renew_command failed (exit {done.returncode}): "
                           f"{done.stderr.decode('utf-8', 'replace').strip()[:300]}")
    if len(done.stdout) > MAX_PEM_BYTES or BEGIN_CERT not in done.stdout:
        raise RenewalError("renew_command did not print one PEM certificate")
    return done.stdout[done.stdout.index(BEGIN_CERT):]
