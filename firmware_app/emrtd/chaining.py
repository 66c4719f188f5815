"""ISO/IEC 7816-4 command chaining (CLA bit 0x10): a command whose data does not fit a short APDU
is sent as several short APDUs when extended length is not available (e.g. a 2048-bit DH public key
in PACE's GENERAL AUTHENTICATE, 264 bytes of data).

Every part but the last carries the chaining bit; the last keeps the command's own CLA (for PACE's
non-final steps that already has the bit: the chip tells the parts apart by the incomplete 7C object).
Long answers come back through 61xx / GET RESPONSE, which the PC/SC transport handles.
"""
from __future__ import annotations

from firmware_app.emrtd.apdu import SHORT_MAX_LC, CommandApdu, ResponseApdu
from firmware_app.emrtd.session import Session

CLA_CHAINING = 0x10
MAX_PARTS = 16  # 16 x 255 bytes: far above any PACE or CA public key


def send_chained(session: Session, command: CommandApdu, step: str, extended: bool) -> ResponseApdu:
    """Send `command`, split into chained short APDUs when its data needs it and extended length is off."""
    if extended or len(command.data) <= SHORT_MAX_LC:
        return session.send(command, step)
    parts = [command.data[i:i + SHORT_MAX_LC] for i in range(0, len(command.data), SHORT_MAX_LC)]
    if len(parts) > MAX_PARTS:
        raise ValueError(f"{step}: {len(command.data)} bytes of command data is too long to chain")
    for index, part in enumerate(parts[:-1]):
        chained = CommandApdu(command.cla | CLA_CHAINING, command.ins, command.p1, command.p2, part)
        response = session.send(chained, f"{step} (part {index + 1}/{len(parts)})")
        if not response.ok:
            return response  # the chip refused a part: the caller reports its status word
    last = CommandApdu(command.cla, command.ins, command.p1, command.p2, parts[-1], min(command.ne, 256))
    return session.send(last, step)
