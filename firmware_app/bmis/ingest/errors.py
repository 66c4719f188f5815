"""Errors of the BMIS ingest (derived from the BMIS layer's root)."""
from __future__ import annotations

from ..errors import BmisLinkError


class IngestError(BmisLinkError):
    """Base of the ingest's errors."""


class StoreUnavailable(IngestError):
    """The database cannot be opened, migrated or written (the batch stays unacknowledged)."""


class DatabaseUrlError(IngestError):
    """`--database` names no backend we support."""
