"""The config `gatectl provision` writes: the existing file (or --base, or the defaults with a
simulated reader) with the identity, broker and trust-store keys set, written whole, with every
key's description above it. Root-owned, readable by the gate's group only (0640)."""
from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import parse_config
from ..config.model import GateConfig
from ..errors import ConfigError
from .config_view import config_text
from .errors import ProvisionError
from .files import write_atomic

if TYPE_CHECKING:
    from .provision import ProvisionReport, ProvisionRequest

MAX_CONFIG_BYTES = 1 << 20
HEADER = ("# Border gate configuration, written by `gatectl provision` (every key, with its effective\n"
          "# value; docs/config-reference.md describes them). Re-running provision keeps your edits.\n")


def _base_data(request: ProvisionRequest) -> dict[str, Any]:
    """The existing config wins (a re-run keeps the technician's edits), then --base, then defaults."""
    for path in (request.config_path, request.base_config):
        if path is not None and path.exists():
            return _read_valid(path, request)
    return {"reader": {"url": "sim://"}}


def _read_valid(path: Path, request: ProvisionRequest) -> dict[str, Any]:
    text = path.read_bytes()[:MAX_CONFIG_BYTES + 1]
    if len(text) > MAX_CONFIG_BYTES:
        raise ProvisionError(f"{path} is larger than {MAX_CONFIG_BYTES} bytes")
    try:
        parse_config(text.decode("utf-8", errors="replace"))
        return tomllib.loads(text.decode("utf-8"))
    except (ConfigError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        if request.force and path == request.config_path:
            return {"reader": {"url": "sim://"}}
        raise ProvisionError(f"{path} is not a valid config ({exc}); fix it, or re-run with --force "
                             "to start again from --base or the defaults") from None


def merged_config(request: ProvisionRequest) -> GateConfig:
    data = _base_data(request)
    section = lambda name: data.setdefault(name, {})  # noqa: E731 - tiny local helper
    section("device").update(id=request.device_id, post_id=request.post_id, data_dir=str(request.state_dir))
    bmis = section("bmis")
    bmis.update(host=request.broker_host, port=request.broker_port, cert_file=str(request.cert_path),
                key_file=str(request.key_path), command_keys_dir=str(keys_dir(request)))
    bmis.pop("client_id", None)         # the client id is the device id (the certificate's CN)
    if request.bmis_ca is not None or ca_path(request).exists():
        bmis["ca_file"] = str(ca_path(request))
    section("smartcard")["csca_dir"] = str(csca_dir(request))
    try:
        return GateConfig.model_validate(data)
    except Exception as exc:  # pydantic's ValidationError: named for the technician
        raise ProvisionError(f"the merged config is invalid: {exc}") from None


def ca_path(request: ProvisionRequest) -> Path:
    return request.config_path.parent / "bmis-ca.pem"


def keys_dir(request: ProvisionRequest) -> Path:
    return request.config_path.parent / "bmis-keys"


def csca_dir(request: ProvisionRequest) -> Path:
    return request.state_dir / "csca"


def write_config(request: ProvisionRequest, config: GateConfig, report: ProvisionReport) -> None:
    from .provision import Outcome
    text = config_text(config, HEADER)
    if parse_config(text) != config:
        raise ProvisionError("internal: the written config would not read back the same")
    path = request.config_path
    old = path.read_text(encoding="utf-8", errors="replace") if path.exists() else None
    if old == text:
        report.add("config", Outcome.UNCHANGED, str(path))
        return
    if old is not None:
        write_atomic(path.with_name(path.name + ".bak"), old.encode("utf-8"), 0o640, 0, request.owner.gid)
    write_atomic(path, text.encode("utf-8"), 0o640, 0, request.owner.gid)
    report.add("config", Outcome.CREATED if old is None else Outcome.UPDATED,
               f"{path} (root:{request.owner.group_name()} 0640" + (f"; previous kept as {path.name}.bak)"
                                                                    if old is not None else ")"))
