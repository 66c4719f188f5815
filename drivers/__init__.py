"""Hardware boundary: one small interface per kind, backends chosen by URL from config."""
