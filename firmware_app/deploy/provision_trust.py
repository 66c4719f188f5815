"""Trust stores `gatectl provision` installs: the BMIS broker's CA, the BMIS command-signing keys
and the CSCA store (master lists, CSCA certificates, CRLs; the same checks as `gatectl pki import`).
Each file is checked before it is installed and installed under a name from its content, so a
re-run changes nothing."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509

from .errors import DeployError, ProvisionError
from .files import ensure_directory, read_bounded, write_atomic
from .identity import MAX_PEM_BYTES, load_certificate
from .provision_config import ca_path, csca_dir, keys_dir

if TYPE_CHECKING:
    from .provision import ProvisionReport, ProvisionRequest


def _write_if_different(path, data: bytes, mode: int, uid: int, gid: int) -> str:
    if path.exists() and path.read_bytes() == data:
        return "unchanged"
    existed = path.exists()
    write_atomic(path, data, mode, uid, gid)
    return "updated" if existed else "created"


def install_bmis_ca(request: ProvisionRequest, report: ProvisionReport) -> None:
    from .provision import Outcome
    if request.bmis_ca is None:
        if not ca_path(request).exists():
            report.add("bmis_ca", Outcome.MISSING, "none given and none installed: bmis.ca_file stays unset and the "
                                                "gate cannot reach the broker (TLS only) until --bmis-ca is given")
        return
    try:
        cert = load_certificate(read_bounded(request.bmis_ca, MAX_PEM_BYTES, "BMIS CA"))
        is_ca = cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except (DeployError, x509.ExtensionNotFound) as exc:
        raise ProvisionError(f"--bmis-ca {request.bmis_ca}: not a CA certificate ({exc})") from None
    if not is_ca:
        raise ProvisionError(f"--bmis-ca {request.bmis_ca}: not a CA certificate (CA:false)")
    from cryptography.hazmat.primitives.serialization import Encoding
    target = ca_path(request)
    outcome = _write_if_different(target, cert.public_bytes(Encoding.PEM), 0o644, 0, 0)
    report.add("bmis_ca", Outcome(outcome), f"{target} ({cert.subject.rfc4514_string()}, "
                                            f"ends {cert.not_valid_after_utc:%Y-%m-%d})")


def install_command_keys(request: ProvisionRequest, report: ProvisionReport) -> None:
    from ..bmis.commands.signing import key_id_of, load_public_key, public_key_pem
    from ..bmis.errors import TrustStoreError
    from .provision import Outcome
    directory = keys_dir(request)
    ensure_directory(directory, 0o750, 0, request.owner.gid)
    for path in request.command_keys:
        try:
            key = load_public_key(path)
        except TrustStoreError as exc:
            raise ProvisionError(f"--command-key {path}: {exc}") from None
        target = directory / f"{key_id_of(key)}.pem"
        outcome = _write_if_different(target, public_key_pem(key), 0o644, 0, 0)
        report.add("command_key", Outcome(outcome), f"{target} (BMIS key {key_id_of(key)})")


def install_csca(request: ProvisionRequest, report: ProvisionReport, now: datetime) -> None:
    from ..emrtd.errors import PaError
    from ..emrtd.pa.provision import Outcome as ImportOutcome
    from ..emrtd.pa.provision import import_files
    from .provision import Outcome
    directory = csca_dir(request)
    ensure_directory(directory, 0o750, request.owner.uid, request.owner.gid)
    if not request.csca_files and not request.ml_roots:
        return
    try:
        reports = import_files(list(request.csca_files), directory, [], now, list(request.ml_roots))
    except (OSError, PaError) as exc:
        raise ProvisionError(f"CSCA store {directory}: {exc}") from None
    refused = [r for r in reports if r.outcome is ImportOutcome.REFUSED]
    if refused:
        raise ProvisionError("CSCA files refused: " + "; ".join(f"{r.path}: {r.reason}" for r in refused))
    for item in reports:
        added = len(item.anchors)
        report.add("csca", Outcome.CREATED if added else Outcome.UNCHANGED,
                   f"{item.path}: {item.kind.value}, {added} added, {item.already_present} already present")
