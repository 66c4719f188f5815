"""Is this DG14/DG15 the one the SOD vouches for? Asked before the chip-authentication and
active-authentication maths run on it, during the read.

The SOD is read first, so its hash of DG14/DG15 can be compared at once. A hash alone binds the
file to a SOD the chip itself supplied; the lane also passes `trusted` (the SOD's signature and
Document Signer chain, i.e. passive authentication without the data groups), so that only keys an
issuing state signed reach the arithmetic. A file not vouched for is not checked at all: passive
authentication reports why, and the policy acts on that.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from firmware_app.emrtd.errors import LdsError
from firmware_app.emrtd.lds import SecurityObject, parse_sod

SodTrust = Callable[[SecurityObject], bool]


class SodVouch:
    def __init__(self, trusted: SodTrust | None = None):
        self.trusted = trusted
        self._verdicts: dict[bytes, bool] = {}  # one signature/chain check per SOD, not per file

    def refusal(self, sod: bytes | None, number: int, data: bytes) -> str | None:
        """None when the SOD vouches for DG`number` = `data`; otherwise why not (no data in it)."""
        if sod is None:
            return "no EF.SOD"
        try:
            security_object = parse_sod(sod)
        except LdsError:
            return "EF.SOD malformed"
        expected = security_object.dg_hashes.get(number)
        if expected is None:
            return f"DG{number} not listed in EF.SOD"
        if not hmac.compare_digest(hashlib.new(security_object.hash_algorithm, data).digest(), expected):
            return f"DG{number} hash differs from EF.SOD's"
        if self.trusted is not None and not self._trusted(sod, security_object):
            return "EF.SOD not trusted (signature or Document Signer chain)"
        return None

    def _trusted(self, sod: bytes, security_object: SecurityObject) -> bool:
        assert self.trusted is not None         # asked only when a trust check is configured
        if sod not in self._verdicts:
            self._verdicts[sod] = bool(self.trusted(security_object))
        return self._verdicts[sod]
