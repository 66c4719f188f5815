"""Deployment tools for technicians: provisioning a gate's identity, enrolment against the post's
CA, certificate renewal, the effective config and the redacted support bundle.

Used by `gatectl` (firmware_app/cli); the running appliance only reads certificate expiry from here.
"""
