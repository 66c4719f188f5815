"""`[identity]`: the gate's MQTT client certificate, how long one is signed for and its renewal.

The certificate's CN is `[device] id`; the files are `[bmis] cert_file` / `key_file`
(`gatectl provision` writes all of them). Kept apart from model.py so the deployment tools grow here.
"""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class IdentitySection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cert_validity_days: int = Field(
        default=365, ge=1, le=3650,
        description="validity of a client certificate signed by `gatectl pki sign-device` with this config")
    renew_before_days: int = Field(
        default=30, ge=1, le=365,
        description="`gatectl cert renew` (daily timer) renews a certificate ending within this many days")
    renew_command: list[str] = Field(
        default_factory=list, max_length=32,
        description="helper that signs a renewal: gets the CSR (PEM) on stdin, prints the certificate (PEM) "
                    "on stdout; empty: the CSR waits for a technician (`gatectl cert install`)")
    renew_timeout_s: float = Field(default=120.0, gt=0, le=3600,
                                   description="the renew_command is stopped after this long")
    verify_timeout_s: float = Field(
        default=15.0, gt=0, le=300,
        description="a new certificate must connect to the broker within this long, else the old one is kept")

    @model_validator(mode="after")
    def _renewal_inside_validity(self) -> IdentitySection:
        if self.renew_before_days >= self.cert_validity_days:
            raise ValueError("renew_before_days must be shorter than cert_validity_days")
        return self
