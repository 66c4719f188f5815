"""The base of every config section: frozen, and unknown keys refused so a typo never passes silently."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
