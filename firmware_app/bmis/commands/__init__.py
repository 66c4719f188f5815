"""Signed commands from the BMIS, in the order one is handled.

    model.py      names, reason codes, the result body; parsing of the raw payload
    signing.py    Ed25519 signing bytes and the device's trust store of BMIS keys
    processor.py  verify, check the validity window, guard against replay, run the handler, answer
    journal.py    the replay guard and audit trail (SQLite, on a steady clock)

Built from the config by ../command_wiring.py; the link hands each incoming command to
`CommandProcessor.handle`.
"""
