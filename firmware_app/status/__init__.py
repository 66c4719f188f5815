"""Seeing a running gate from the device itself: `gatectl status` over a local Unix socket, and
the Prometheus textfile. Both read one snapshot (a JSON-ready dict the appliance assembles)."""
