"""`gatectl provision`: make this device a gate of a post (identity, trust stores, config).

    gatectl provision --device-id ID --post-id POST --broker HOST[:PORT]
        [--config /etc/border-gate/gate.toml] [--state-dir /var/lib/border-gate] [--owner gate]
        [--bmis-ca FILE] [--command-key FILE]... [--csca FILE]... [--ml-root CERT]...
        [--base FILE] [--token TOKEN] [--force] [--json]

Safe to re-run: each step says created / updated / unchanged / kept. Exit 0 done, 2 refused
(nothing after the refused step was done; the message says why and how to fix it).
"""
from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from . import EXIT_OK, UsageError

DEFAULT_PORT = 8883


def register(groups) -> None:
    cmd = groups.add_parser("provision", help="device identity (key + CSR), trust stores, config; re-runnable")
    cmd.add_argument("--device-id", required=True, help="this gate's id (the certificate CN, the topic name)")
    cmd.add_argument("--post-id", required=True)
    cmd.add_argument("--broker", required=True, metavar="HOST[:PORT]",
                     help=f"the post's MQTT broker (port {DEFAULT_PORT})")
    cmd.add_argument("--config", type=Path, default=Path("/etc/border-gate/gate.toml"))
    cmd.add_argument("--state-dir", type=Path, default=Path("/var/lib/border-gate"))
    cmd.add_argument("--owner", default="gate", help="user that runs gate-app and owns the key (default gate)")
    cmd.add_argument("--bmis-ca", type=Path, help="CA certificate of the post's broker")
    cmd.add_argument("--command-key", type=Path, action="append", default=[], metavar="FILE",
                     help="BMIS command-signing public key (PEM, Ed25519)")
    cmd.add_argument("--csca", type=Path, action="append", default=[], metavar="FILE",
                     help="master list, CSCA certificate or CRL for the CSCA store")
    cmd.add_argument("--ml-root", type=Path, action="append", default=[], metavar="CERT",
                     help="a national root master lists may chain to")
    cmd.add_argument("--base", type=Path, help="config to start from when --config does not exist yet")
    cmd.add_argument("--token", help="one-time enrolment token from the CA laptop (carried in the CSR)")
    cmd.add_argument("--force", action="store_true", help="make a new private key (the old one is kept as .old)")
    cmd.add_argument("--json", action="store_true")
    cmd.set_defaults(func=run)


def broker_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or "]" in port:
        return text.strip("[]"), DEFAULT_PORT
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--broker {text}: the port must be a number 1-65535")
    return host.strip("[]"), int(port)


def run(args) -> int:
    from ..deploy.errors import DeployError
    from ..deploy.files import Owner
    from ..deploy.provision import ProvisionRequest, provision
    host, port = broker_address(args.broker)
    try:
        request = ProvisionRequest(
            device_id=args.device_id, post_id=args.post_id, broker_host=host, broker_port=port,
            config_path=args.config, state_dir=args.state_dir, owner=Owner.named(args.owner),
            base_config=args.base, bmis_ca=args.bmis_ca, csca_files=tuple(args.csca),
            ml_roots=tuple(args.ml_root), command_keys=tuple(args.command_key), token=args.token,
            force=args.force)
        report = provision(request, datetime.now(UTC))
    except DeployError as exc:
        raise UsageError(f"provision: {exc}") from None
    except PermissionError as exc:
        raise UsageError(f"provision: {exc.filename}: permission denied (run it as root)") from None
    except OSError as exc:
        raise UsageError(f"provision: {exc.filename or ''}: {exc.strerror or exc}") from None
    _print(args, report, request)
    return EXIT_OK


def _print(args, report, request) -> None:
    if args.json:
        print(json.dumps({"changed": report.changed, "csr": str(report.csr_path),
                          "steps": [s.as_dict() for s in report.steps]}, indent=2))
        return
    for step in report.steps:
        print(f"{step.outcome.value:<9} {step.name:<13} {step.detail}")
    if not request.cert_path.exists():
        print(f"next: sign {report.csr_path} on the post's CA laptop (gatectl pki sign-device), then "
              f"`gatectl cert install CERT --config {request.config_path}`")
