"""Model files from models/manifest.json: verified by sha256 before they are loaded.

A missing or altered file stops the face stage with ModelUnavailable; nothing is ever downloaded
here (models/fetch.py does that at setup).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ModelUnavailable

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class ModelFile:
    role: str
    path: Path
    sha256: str


@dataclass(frozen=True)
class PadModelFile:
    file: ModelFile
    crop_scale: float


@dataclass(frozen=True)
class Manifest:
    directory: Path
    models: dict
    pad: dict = field(default_factory=dict)

    def pad_models(self) -> list[PadModelFile]:
        """The PAD models in fusion order; ModelUnavailable if the manifest lists none."""
        roles = self.pad.get("models") or []
        if not roles:
            raise ModelUnavailable("manifest lists no PAD models")
        return [PadModelFile(self.model_file(role), float(self.models[role]["crop_scale"])) for role in roles]

    def pad_threshold(self) -> float | None:
        return self.pad.get("live_threshold")

    def model_file(self, role: str) -> ModelFile:
        entry = self.models.get(role)
        if not isinstance(entry, dict):
            raise ModelUnavailable(f"manifest has no '{role}' model")
        # A derived runtime file (e.g. weights no longer listed as inputs) is preferred when listed.
        chosen = entry.get("runtime") or entry
        return ModelFile(role, self.directory / chosen["file"], chosen["sha256"])

    def threshold(self) -> tuple[float | None, float | None]:
        entry = self.models.get("recognizer", {})
        return entry.get("threshold"), entry.get("threshold_fmr")


def load_manifest(models_dir: str | Path) -> Manifest:
    directory = Path(models_dir)
    try:
        document = json.loads((directory / MANIFEST).read_text())
        return Manifest(directory, dict(document["models"]), dict(document.get("pad", {})))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelUnavailable(f"model manifest {directory / MANIFEST} unreadable: {exc}") from None


def read_verified(model: ModelFile) -> bytes:
    try:
        data = model.path.read_bytes()
    except OSError:
        raise ModelUnavailable(f"{model.role} model {model.path} is missing; run `make setup`") from None
    actual = hashlib.sha256(data).hexdigest()
    if actual != model.sha256:
        raise ModelUnavailable(f"{model.role} model {model.path} has sha256 {actual}, manifest says {model.sha256}")
    return data
