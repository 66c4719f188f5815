"""DER OBJECT IDENTIFIER content encoding/decoding (bounded)."""
from __future__ import annotations

from firmware_app.emrtd.errors import TlvError

MAX_OID_BYTES = 64


def decode_oid(content: bytes) -> str:
    if not content or len(content) > MAX_OID_BYTES or content[-1] & 0x80:
        raise TlvError("malformed OBJECT IDENTIFIER")
    arcs, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])


def encode_oid(dotted: str) -> bytes:
    arcs = [int(part) for part in dotted.split(".")]
    if len(arcs) < 2:
        raise TlvError("an OID needs at least two arcs")
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return bytes(out)
