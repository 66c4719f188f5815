"""On the post's CA laptop: one-time enrolment tokens and signing a gate's CSR.

    gatectl pki enrol-token DEVICE_ID --tokens DB [--valid-hours 72] [--json]
    gatectl pki sign-device CSR --ca-cert CERT --ca-key KEY [--token TOKEN] --tokens DB
                            [--config F] [--out CERT] [--json]

A token is printed once and stored only as its hash; sign-device spends it (a second use is
refused, exit 1). The certificate's validity is `[identity] cert_validity_days` of --config.
"""
from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from . import EXIT_FAILED, EXIT_OK, UsageError


def register_sign(actions) -> None:
    cmd = actions.add_parser("enrol-token", help="CA laptop: issue a one-time enrolment token for a device id")
    cmd.add_argument("device_id")
    cmd.add_argument("--tokens", type=Path, required=True, metavar="DB", help="the CA laptop's token file (SQLite)")
    cmd.add_argument("--valid-hours", type=float, default=72.0)
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(func=run_token)
    cmd = actions.add_parser("sign-device", help="CA laptop: sign a gate's CSR once its token checks out")
    cmd.add_argument("csr", type=Path)
    cmd.add_argument("--ca-cert", type=Path, required=True)
    cmd.add_argument("--ca-key", type=Path, required=True)
    cmd.add_argument("--token", help="the device's one-time token (or the one carried in the CSR)")
    cmd.add_argument("--tokens", type=Path, required=True, metavar="DB")
    cmd.add_argument("--config", help="takes [identity] cert_validity_days (default without it: "
                                      f"{_default_validity()} days)")
    cmd.add_argument("--out", type=Path, help="certificate file (default: CSR name with .crt)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(func=run_sign)


def run_token(args) -> int:
    from ..deploy.tokens import TokenStore
    if args.valid_hours <= 0:
        raise UsageError("--valid-hours must be positive")
    _check_device_id(args.device_id)
    now = datetime.now(UTC)
    token = TokenStore(args.tokens).issue(args.device_id, now, timedelta(hours=args.valid_hours), os.urandom)
    expires = now + timedelta(hours=args.valid_hours)
    if args.json:
        print(json.dumps({"device_id": args.device_id, "token": token, "expires": expires.isoformat()}))
    else:
        print(f"{token}\n(one-time enrolment token for {args.device_id}, valid until {expires:%Y-%m-%d %H:%M} UTC;"
              " give it to `gatectl provision --token` on the gate)")
    return EXIT_OK


def _check_device_id(device_id: str) -> None:
    import re
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", device_id):
        raise UsageError(f"device id {device_id!r}: letters, digits, _ and - only (at most 64)")


def _default_validity() -> int:
    from ..config.identity import IdentitySection
    return IdentitySection().cert_validity_days


def run_sign(args) -> int:
    from ..config import load_config
    from ..deploy.enrol import enrol, load_ca
    from ..deploy.errors import DeployError, EnrolmentRefused
    from ..deploy.files import read_bounded, write_atomic
    from ..deploy.identity import MAX_PEM_BYTES
    from ..deploy.tokens import TokenStore
    from ..errors import ConfigError
    now = datetime.now(UTC)
    try:
        validity = load_config(args.config).identity.cert_validity_days if args.config else _default_validity()
        ca = load_ca(read_bounded(args.ca_cert, MAX_PEM_BYTES, "CA certificate"),
                     read_bounded(args.ca_key, MAX_PEM_BYTES, "CA key"), now)
        signed = enrol(read_bounded(args.csr, MAX_PEM_BYTES, "CSR"), args.token, ca, TokenStore(args.tokens),
                       validity, now)
    except ConfigError as exc:
        raise UsageError(f"config {args.config}: {'; '.join(exc.problems)}") from None
    except EnrolmentRefused as exc:
        _refused(args, exc)
        return EXIT_FAILED
    except DeployError as exc:
        raise UsageError(str(exc)) from None
    out = args.out or args.csr.with_suffix(".crt")
    write_atomic(out, signed.pem, 0o644)
    _signed(args, signed, out)
    return EXIT_OK


def _refused(args, exc) -> None:
    if args.json:
        print(json.dumps({"signed": False, "reason": exc.reason.value, "detail": exc.detail}))
    print(f"gatectl pki sign-device: refused ({exc.reason.value}): {exc.detail}", file=sys.stderr)


def _signed(args, signed, out: Path) -> None:
    if args.json:
        print(json.dumps({"signed": True, "device_id": signed.device_id, "serial": signed.serial,
                          "not_after": signed.not_after.isoformat(), "certificate": str(out)}))
        return
    print(f"signed {signed.device_id}: serial {signed.serial}, valid until {signed.not_after:%Y-%m-%d} -> {out}\n"
          f"on the gate: gatectl cert install {out.name}")
