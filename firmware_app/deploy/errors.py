"""Errors of the deployment tools. The CLI turns them into exit codes (2 usage/input, 1 refused)."""
from __future__ import annotations

import enum

from ..errors import GateError


class DeployError(GateError):
    """A deployment step could not be done; the message says what and why."""


class ProvisionError(DeployError):
    """`gatectl provision` refused or failed a step (nothing after it was done)."""


class EnrolmentRefused(DeployError):
    """The CA laptop refused to sign a device certificate."""

    def __init__(self, reason: RefusalReason, detail: str):
        super().__init__(f"{reason.value}: {detail}")
        self.reason, self.detail = reason, detail


class RefusalReason(str, enum.Enum):
    BAD_CSR = "bad_csr"
    BAD_CA = "bad_ca"
    TOKEN_UNKNOWN = "token_unknown"
    TOKEN_USED = "token_used"
    TOKEN_EXPIRED = "token_expired"
    TOKEN_OTHER_DEVICE = "token_other_device"


class RenewalError(DeployError):
    """A certificate renewal did not complete; the certificate in use was kept."""


class BundleError(DeployError):
    """The support bundle could not be written."""


class PackageInvalid(DeployError):
    """Not a border-gate package, unreadable, too large, or its sha256 is not the one expected."""


class NoRollbackPackage(DeployError):
    """The installed version's package is not kept: an update could not be undone, so it is refused."""


class UpdateInProgress(DeployError):
    """Another update holds the lock."""


class InstallFailed(DeployError):
    """dpkg or systemctl failed (their output, bounded, is in the message)."""


class ReadOnlyRoot(DeployError):
    """The root is overlayroot's RAM overlay (the read-only image): an install would be lost at the
    next boot. Persisting updates there (install into the lower layer, confirm after a reboot) is not
    built; switch the overlay off for maintenance (border-gate-maintenance on), update, switch it on."""
