"""Remove initializers from an ONNX graph's input list, working on the protobuf wire format.

Older exporters (SFace 2021dec among them) list every weight as a graph input too. onnxruntime
then treats the weights as overridable and skips constant folding and fusions. Dropping those
input entries leaves the weights themselves untouched; only the graph's declared inputs change.
Done on the raw wire format so setup needs no `onnx` package.
"""
from __future__ import annotations

from typing import Iterator

WIRE_VARINT, WIRE_FIXED64, WIRE_LENGTH, WIRE_FIXED32 = 0, 1, 2, 5
MODEL_GRAPH = 7          # ModelProto.graph
GRAPH_INITIALIZER = 5    # GraphProto.initializer
GRAPH_INPUT = 11         # GraphProto.input
TENSOR_NAME = 8          # TensorProto.name
VALUE_INFO_NAME = 1      # ValueInfoProto.name


class WireFormatError(ValueError):
    """The bytes are not a well-formed protobuf message of the expected shape."""


def read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data) or shift > 63:
            raise WireFormatError(f"truncated or overlong varint at byte {pos}")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if not byte & 0x80:
            return value, pos


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def iter_fields(data: bytes) -> Iterator[tuple[int, int, bytes, bytes]]:
    """Yield (field number, wire type, payload, raw bytes of the whole field) in order."""
    pos = 0
    while pos < len(data):
        start = pos
        key, pos = read_varint(data, pos)
        field, wire = key >> 3, key & 7
        if wire == WIRE_VARINT:
            _, end = read_varint(data, pos)
        elif wire == WIRE_FIXED64:
            end = pos + 8
        elif wire == WIRE_FIXED32:
            end = pos + 4
        elif wire == WIRE_LENGTH:
            length, pos = read_varint(data, pos)
            end = pos + length
        else:
            raise WireFormatError(f"unsupported wire type {wire} at byte {start}")
        if end > len(data):
            raise WireFormatError(f"field {field} runs past the end ({end} > {len(data)})")
        yield field, wire, data[pos:end], data[start:end]
        pos = end


def string_field(message: bytes, number: int) -> str | None:
    for field, wire, payload, _ in iter_fields(message):
        if field == number and wire == WIRE_LENGTH:
            return payload.decode("utf-8", errors="replace")
    return None


def length_field(number: int, payload: bytes) -> bytes:
    return encode_varint((number << 3) | WIRE_LENGTH) + encode_varint(len(payload)) + payload


def strip_graph(graph: bytes) -> tuple[bytes, int]:
    fields = list(iter_fields(graph))
    weights = {string_field(p, TENSOR_NAME) for f, w, p, _ in fields if f == GRAPH_INITIALIZER and w == WIRE_LENGTH}
    kept, dropped = [], 0
    for field, wire, payload, raw in fields:
        if field == GRAPH_INPUT and wire == WIRE_LENGTH and string_field(payload, VALUE_INFO_NAME) in weights:
            dropped += 1
            continue
        kept.append(raw)
    return b"".join(kept), dropped


def strip_initializer_inputs(model: bytes) -> tuple[bytes, int]:
    """Return the model without graph inputs that name an initializer, and how many were dropped."""
    out, dropped, graphs = [], 0, 0
    for field, wire, payload, raw in iter_fields(model):
        if field == MODEL_GRAPH and wire == WIRE_LENGTH:
            graph, dropped = strip_graph(payload)
            out.append(length_field(MODEL_GRAPH, graph))
            graphs += 1
        else:
            out.append(raw)
    if graphs != 1:
        raise WireFormatError(f"expected one graph in the model, found {graphs}")
    return b"".join(out), dropped
