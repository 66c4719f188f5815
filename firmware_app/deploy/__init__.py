"""Deployment tools for technicians: provisioning a gate's identity, enrolment against the post's
CA, certificate renewal, the effective config and the redacted support bundle; software updates
with rollback and the kept packages (update.py; the BMIS update-apply command in requests.py and
request_runner.py; the updater built from the config in wiring.py), gate-app's device drop-in
(devices.py).

Used by `gatectl` (firmware_app/cli); the running appliance reads certificate expiry from here and
hands the updater's alarms and update-apply requests over (firmware_app/appliance/field_ops.py).
"""
