"""The officer side of ASSISTED mode. So far: per-officer credentials (credentials.py).

The console itself (TLS page, sessions, evidence, accept/refer/reject wired to the lane) is not
built yet; until it is, ASSISTED mode refers every traveller after `officer_s` (see issue 13).
"""
from .credentials import CredentialError, LockedOut, OfficerStore

__all__ = ["CredentialError", "LockedOut", "OfficerStore"]
