"""Storage shared by the appliance's SQLite files: versioned schemas migrated forward."""
from .schema import Migration, MigrationFailed, Schema, SchemaError, SchemaTooNew, migrate, read_version

__all__ = ["Migration", "MigrationFailed", "Schema", "SchemaError", "SchemaTooNew", "migrate", "read_version"]
