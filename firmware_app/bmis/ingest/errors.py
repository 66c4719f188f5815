"""Errors of the BMIS ingest (derived from the BMIS layer's root)."""
from __future__ import annotations

from ..errors import BmisLinkError


class IngestError(BmisLinkError):
    """Base of the ingest's errors."""


class StoreUnavailable(IngestError):
    """The database cannot be opened, migrated or written (the batch stays unacknowledged)."""


class DatabaseUrlError(IngestError):
    """`--database` names no backend we support."""


class SchemaMismatch(StoreUnavailable):
    """The database's recorded migrations do not fit this build: refused, nothing changed in it."""


class SchemaTooNew(SchemaMismatch):
    """Migrated by a newer release (e.g. after a rollback of bmis-ingest): this build cannot know
    what the newer steps changed, so it neither reads nor writes."""

    def __init__(self, found: int, supported: int):
        self.found, self.supported = found, supported
        super().__init__(f"database schema version {found} is newer than the {supported} this bmis-ingest "
                         f"supports: it was migrated by a newer release; run that release (or a newer "
                         f"one) against it, or use another database; nothing was changed")


class SchemaGap(SchemaMismatch):
    """A newer step is recorded but an older one this build has is not: migrated by a different build."""

    def __init__(self, applied: list[int], missing: list[int]):
        self.applied, self.missing = applied, missing
        super().__init__(f"database schema versions {applied} lack step(s) {missing} that come before the "
                         f"newest one: it was migrated by a different build; nothing was changed")
