"""A hostile MQTT peer: what MQTT 5 user properties cost paho, and what the gate's bound allows.

    .venv/bin/python -m bench mqtt_hostile [--counts 10000,20000,40000,80000]

paho parses a PUBLISH's properties in quadratic time (each property re-slices the rest of the
buffer). Prints, per count of user properties: the bytes, paho's parse time, and the time the gate's
check in front of paho takes to drop that packet unparsed (firmware_app/bmis/mqtt_client.py). Then
the worst case the gate still lets paho parse: MAX_PUBLISH_PROPERTY_BYTES filled with the smallest
user properties there are (5 bytes each).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from firmware_app.bmis.mqtt_client import MAX_PUBLISH_PROPERTY_BYTES, paho_parse_properties, publish_property_length  # noqa: E402

USER_PROPERTY = 0x26


def variable_byte_integer(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def property_block(count: int, key: bytes = b"k", value: bytes = b"v") -> bytes:
    one = bytes([USER_PROPERTY]) + len(key).to_bytes(2, "big") + key + len(value).to_bytes(2, "big") + value
    body = one * count
    return variable_byte_integer(len(body)) + body


def publish_packet(properties: bytes) -> tuple[int, bytes]:
    topic = b"gates/v1/gate-a/cmd/set-mode"
    return 0x32, len(topic).to_bytes(2, "big") + topic + b"\x00\x01" + properties + b"{}"


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def row(count: int) -> None:
    block = property_block(count)
    paho_s, parsed = timed(lambda: paho_parse_properties(block))
    header, packet = publish_packet(block)
    check_s, length = timed(lambda: publish_property_length(header, packet))
    verdict = "dropped unparsed" if length > MAX_PUBLISH_PROPERTY_BYTES else "parsed by paho"
    print(f"{count:>8,} user properties {len(block):>10,} B   paho {paho_s:8.3f} s   "
          f"gate check {check_s * 1e6:6.1f} us -> {verdict}")
    assert parsed == count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench mqtt_hostile")
    parser.add_argument("--counts", default="10000,20000,40000,80000")
    args = parser.parse_args(argv or [])
    for count in (int(c) for c in args.counts.split(",")):
        row(count)
    worst = (MAX_PUBLISH_PROPERTY_BYTES - 4) // 5
    block = property_block(worst, b"", b"")
    paho_s, _ = timed(lambda: paho_parse_properties(block))
    print(f"gate bound: {MAX_PUBLISH_PROPERTY_BYTES:,} property bytes; worst case paho still parses: "
          f"{worst:,} empty user properties in {paho_s * 1000:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
