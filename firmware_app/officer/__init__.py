"""The officer side of ASSISTED mode.

credentials.py  per-officer passwords (salted scrypt file, lockout after failed logins)
review.py       the review desk: the lane's OfficerPort; holds the one pending review
server.py       the HTTPS console on the post LAN (handler.py: its requests; page.py: its HTML)
sessions.py     login sessions with CSRF tokens; audit.py: the SQLite audit of logins and decisions
"""
from .audit import AuditAction, OfficerAudit
from .credentials import CredentialError, LockedOut, OfficerStore
from .errors import OfficerAuditError, OfficerConsoleError, OfficerError, StaleReview
from .review import ImageKind, PendingReview, ReviewDesk

__all__ = ["AuditAction", "CredentialError", "ImageKind", "LockedOut", "OfficerAudit", "OfficerAuditError",
           "OfficerConsoleError", "OfficerError", "OfficerStore", "PendingReview", "ReviewDesk", "StaleReview"]
