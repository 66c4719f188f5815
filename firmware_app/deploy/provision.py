"""`gatectl provision`: a gate's identity, trust stores and config, made on the device.

Every step says what it did (created, updated, unchanged, kept), and running it again with the same
arguments changes nothing. The private key is made here and never overwritten without `force`.
"""
from __future__ import annotations

import enum
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from ..config.model import GateConfig
from ..config.permissions import permission_problems
from .errors import DeployError, ProvisionError
from .files import Owner, ensure_directory, read_bounded, write_atomic
from .identity import MAX_PEM_BYTES, csr_pem, load_private_key, make_csr, new_private_key, private_key_pem
from .provision_config import merged_config, write_config
from .provision_trust import install_bmis_ca, install_command_keys, install_csca


class Outcome(str, enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    KEPT = "kept"
    REPLACED = "replaced"
    MISSING = "missing"         # nothing to install and nothing there: the detail says what it means


@dataclass(frozen=True)
class Step:
    name: str
    outcome: Outcome
    detail: str

    def as_dict(self) -> dict:
        return {"step": self.name, "outcome": self.outcome.value, "detail": self.detail}


@dataclass(frozen=True)
class ProvisionRequest:
    device_id: str
    post_id: str
    broker_host: str
    broker_port: int
    config_path: Path
    state_dir: Path
    owner: Owner
    base_config: Path | None = None
    bmis_ca: Path | None = None
    csca_files: tuple[Path, ...] = ()
    ml_roots: tuple[Path, ...] = ()
    command_keys: tuple[Path, ...] = ()
    token: str | None = None
    force: bool = False

    @property
    def identity_dir(self) -> Path:
        return self.state_dir / "identity"

    @property
    def key_path(self) -> Path:
        return self.identity_dir / "client.key"

    @property
    def csr_path(self) -> Path:
        return self.identity_dir / "client.csr"

    @property
    def cert_path(self) -> Path:
        return self.identity_dir / "client.crt"


@dataclass
class ProvisionReport:
    steps: list[Step] = field(default_factory=list)
    csr_path: Path | None = None

    def add(self, name: str, outcome: Outcome, detail: str) -> None:
        self.steps.append(Step(name, outcome, detail))

    @property
    def changed(self) -> bool:
        return any(s.outcome not in (Outcome.UNCHANGED, Outcome.KEPT, Outcome.MISSING) for s in self.steps)


def provision(request: ProvisionRequest, now: datetime) -> ProvisionReport:
    """Identity first (nothing else matters without a key), then trust stores, then the config
    that names them all, checked the way gate-app's ExecStartPre checks it (as the owner)."""
    _check_identity_values(request)
    config = merged_config(request)     # an unusable existing config stops it before anything is written
    report = ProvisionReport(csr_path=request.csr_path)
    owner = request.owner
    existed = request.identity_dir.is_dir()
    changed = ensure_directory(request.identity_dir, 0o700, owner.uid, owner.gid)
    outcome = Outcome.CREATED if not existed else Outcome.UPDATED if changed else Outcome.UNCHANGED
    report.add("identity_dir", outcome, f"{request.identity_dir} (0700, {owner.name})")
    key = _ensure_key(request, report)
    _ensure_csr(request, key, report)
    install_bmis_ca(request, report)
    install_command_keys(request, report)
    install_csca(request, report, now)
    _check_as_owner(config, request)
    write_config(request, config, report)
    return report


def _check_identity_values(request: ProvisionRequest) -> None:
    try:
        GateConfig.model_validate({"device": {"id": request.device_id, "post_id": request.post_id},
                                   "reader": {"url": "sim://"}, "bmis": {"port": request.broker_port}})
    except ValidationError as exc:
        raise ProvisionError("; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())) \
            from None


def _ensure_key(request: ProvisionRequest, report: ProvisionReport):
    path, owner = request.key_path, request.owner
    if path.exists() and not request.force:
        try:
            key = load_private_key(read_bounded(path, MAX_PEM_BYTES, "private key"))
        except DeployError as exc:
            raise ProvisionError(f"{path} exists but is unusable ({exc}); nothing was overwritten: "
                                 "look at it, then re-run with --force to make a new key") from None
        _tighten(path, owner)
        report.add("private_key", Outcome.KEPT, f"{path} (0600, {owner.name}); --force makes a new one")
        return key
    replaced = path.exists()
    if replaced:
        _set_aside(request)
    key = new_private_key()
    write_atomic(path, private_key_pem(key), 0o600, owner.uid, owner.gid)
    report.add("private_key", Outcome.REPLACED if replaced else Outcome.CREATED,
               f"{path} (EC P-256, 0600, {owner.name}); it never leaves this device")
    return key


def _tighten(path: Path, owner: Owner) -> None:
    os.chown(path, owner.uid, owner.gid)
    path.chmod(0o600)


def _set_aside(request: ProvisionRequest) -> None:
    """--force: the old key (and the certificate made for it) are kept as *.old, never deleted."""
    for path in (request.key_path, request.cert_path):
        if path.exists():
            path.replace(path.with_name(path.name + ".old"))


def _ensure_csr(request: ProvisionRequest, key, report: ProvisionReport) -> None:
    from .identity import read_csr, same_public_key
    path = request.csr_path
    if path.exists():
        try:
            facts = read_csr(read_bounded(path, MAX_PEM_BYTES, "CSR"))
            if (facts.common_name == request.device_id and same_public_key(facts.public_key, key.public_key())
                    and facts.token == (request.token or None)):
                report.add("csr", Outcome.UNCHANGED, f"{path} (CN={request.device_id})")
                return
        except DeployError:
            pass                        # a broken CSR is simply made again (it holds nothing secret)
    existed = path.exists()
    # A CSR is public, except for an unspent enrolment token riding in it.
    write_atomic(path, csr_pem(make_csr(key, request.device_id, request.token)), 0o600 if request.token else 0o644,
                 request.owner.uid, request.owner.gid)
    report.add("csr", Outcome.UPDATED if existed else Outcome.CREATED,
               f"{path} (CN={request.device_id}{', with enrolment token' if request.token else ''}): "
               "take it to the post's CA (gatectl pki sign-device)")


def _check_as_owner(config: GateConfig, request: ProvisionRequest) -> None:
    problems = permission_problems(config, euid=request.owner.uid)
    if problems:
        raise ProvisionError("the config would be refused by `gatectl config check` as "
                             f"{request.owner.name}: " + "; ".join(problems))
