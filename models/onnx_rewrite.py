"""Small rewrites of ONNX models, done on the protobuf wire format so setup needs no `onnx`.

strip_initializer_inputs: older exporters (SFace 2021dec among them) list every weight as a
graph input too; onnxruntime then treats the weights as overridable and skips constant folding
and fusions. Dropping those input entries leaves the weights themselves untouched.

make_dims_symbolic: YuNet 2023mar declares a fixed 640x640 input although its graph only uses
shape-agnostic reshapes; naming the height/width (and the outputs' anchor count) symbolically
lets a 640x480 frame run without padding it to 640x640.

decompose_prelu: onnxruntime's CPU PRelu kernel (per-channel slope) took more time than all of
SFace's convolutions together (profiled here: 14 of 27 ms) and forced its blocked-layout
convolutions to convert every layer's output back and forth. PRelu(x, s) becomes
x + Relu((s - 1) * x) where every slope <= 1 (equal up to float rounding, ~1e-6), else
Relu(x) + Min(x, 0) * s (exact: one of the two terms is always zero).
"""
from __future__ import annotations

import struct
from collections.abc import Iterator

WIRE_VARINT, WIRE_FIXED64, WIRE_LENGTH, WIRE_FIXED32 = 0, 1, 2, 5
MODEL_GRAPH = 7          # ModelProto.graph
GRAPH_INITIALIZER = 5    # GraphProto.initializer
GRAPH_INPUT = 11         # GraphProto.input
GRAPH_OUTPUT = 12        # GraphProto.output
TENSOR_NAME = 8          # TensorProto.name
VALUE_INFO_NAME = 1      # ValueInfoProto.name
GRAPH_NODE = 1           # GraphProto.node
NODE_INPUT, NODE_OUTPUT, NODE_NAME, NODE_OP_TYPE = 1, 2, 3, 4   # NodeProto
TENSOR_DIMS, TENSOR_DATA_TYPE, TENSOR_FLOAT_DATA, TENSOR_RAW_DATA = 1, 2, 4, 9  # TensorProto
TENSOR_FLOAT = 1         # TensorProto.DataType.FLOAT
# ValueInfoProto.type -> TypeProto.tensor_type -> Tensor.shape -> TensorShapeProto.dim
SHAPE_PATH = (2, 1, 2)
SHAPE_DIM = 1
DIM_PARAM = 2            # TensorShapeProto.Dimension.dim_param (a symbolic name)


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


def rewrite_the_graph(model: bytes, rewrite_graph) -> tuple[bytes, int]:
    """Apply `rewrite_graph(graph) -> (graph, count)` to the model's one graph; return model and count."""
    out, count, graphs = [], 0, 0
    for field, wire, payload, raw in iter_fields(model):
        if field == MODEL_GRAPH and wire == WIRE_LENGTH:
            graph, count = rewrite_graph(payload)
            out.append(length_field(MODEL_GRAPH, graph))
            graphs += 1
        else:
            out.append(raw)
    if graphs != 1:
        raise WireFormatError(f"expected one graph in the model, found {graphs}")
    return b"".join(out), count


def strip_initializer_inputs(model: bytes) -> tuple[bytes, int]:
    """Return the model without graph inputs that name an initializer, and how many were dropped."""
    return rewrite_the_graph(model, strip_graph)


def rewrite_submessages(message: bytes, path: tuple[int, ...], change) -> bytes:
    """Apply `change` to every length-delimited submessage reached by following field numbers."""
    if not path:
        return change(message)
    out = []
    for field, wire, payload, raw in iter_fields(message):
        if field == path[0] and wire == WIRE_LENGTH:
            out.append(length_field(field, rewrite_submessages(payload, path[1:], change)))
        else:
            out.append(raw)
    return b"".join(out)


def symbolic_dims(names: dict[int, str]):
    """A shape rewrite that replaces the dimensions at the given positions by named ones."""
    def change(shape: bytes) -> bytes:
        out, position = [], 0
        for field, _, _, raw in iter_fields(shape):
            if field == SHAPE_DIM:
                name = names.get(position)
                position += 1
                out.append(length_field(SHAPE_DIM, length_field(DIM_PARAM, name.encode())) if name else raw)
            else:
                out.append(raw)
        return b"".join(out)
    return change


def make_dims_symbolic(model: bytes, input_dims: dict[int, str], output_dims: dict[int, str]) -> bytes:
    """Name the given dimensions of every graph input and output (e.g. {2: "height", 3: "width"})."""
    if sum(1 for field, _, _, _ in iter_fields(model) if field == MODEL_GRAPH) != 1:
        raise WireFormatError("expected one graph in the model")
    model = rewrite_submessages(model, (MODEL_GRAPH, GRAPH_INPUT, *SHAPE_PATH), symbolic_dims(input_dims))
    return rewrite_submessages(model, (MODEL_GRAPH, GRAPH_OUTPUT, *SHAPE_PATH), symbolic_dims(output_dims))


def repeated_strings(message: bytes, number: int) -> list[str]:
    return [p.decode("utf-8", errors="replace")
            for f, w, p, _ in iter_fields(message) if f == number and w == WIRE_LENGTH]


def float_values(tensor: bytes) -> list[float] | None:
    """The values of a float32 TensorProto (raw or float_data), or None for any other type."""
    dtype, raw, packed = TENSOR_FLOAT, b"", []
    for field, wire, payload, _ in iter_fields(tensor):
        if field == TENSOR_DATA_TYPE and wire == WIRE_VARINT:
            dtype = read_varint(payload, 0)[0]
        elif field == TENSOR_RAW_DATA and wire == WIRE_LENGTH:
            raw = payload
        elif field == TENSOR_FLOAT_DATA:
            packed.append(payload)  # packed (length) or one fixed32 value: both are 4-byte floats
    data = raw or b"".join(packed)
    if dtype != TENSOR_FLOAT or len(data) % 4:
        return None
    return list(struct.unpack(f"<{len(data) // 4}f", data))


def node(op_type: str, inputs: list[str], outputs: list[str], name: str) -> bytes:
    fields = [length_field(NODE_INPUT, i.encode()) for i in inputs]
    fields += [length_field(NODE_OUTPUT, o.encode()) for o in outputs]
    fields += [length_field(NODE_NAME, name.encode()), length_field(NODE_OP_TYPE, op_type.encode())]
    return length_field(GRAPH_NODE, b"".join(fields))


def float_scalar(name: str, value: float) -> bytes:
    tensor = (encode_varint((TENSOR_DATA_TYPE << 3) | WIRE_VARINT) + encode_varint(TENSOR_FLOAT)
              + length_field(TENSOR_NAME, name.encode()) + length_field(TENSOR_RAW_DATA, struct.pack("<f", value)))
    return length_field(GRAPH_INITIALIZER, tensor)


PRELU_ZERO = "prelu_rewrite_zero"


def float_initializers(fields) -> dict[str, bytes]:
    """Name -> TensorProto bytes of the graph's float32 initializers that hold values."""
    found = {}
    for field, wire, payload, _ in fields:
        if field == GRAPH_INITIALIZER and wire == WIRE_LENGTH and float_values(payload):
            found[string_field(payload, TENSOR_NAME)] = payload
    return found


def slope_minus_one(tensor: bytes, name: str) -> bytes:
    """The initializer s - 1 with the slope's dims (exact in float32 for slopes in [0.5, 2])."""
    dims = b"".join(raw for field, _, _, raw in iter_fields(tensor) if field == TENSOR_DIMS)
    values = [value - 1.0 for value in float_values(tensor)]
    tensor = (dims + encode_varint((TENSOR_DATA_TYPE << 3) | WIRE_VARINT) + encode_varint(TENSOR_FLOAT)
              + length_field(TENSOR_NAME, name.encode())
              + length_field(TENSOR_RAW_DATA, struct.pack(f"<{len(values)}f", *values)))
    return length_field(GRAPH_INITIALIZER, tensor)


def prelu_replacement(inputs: list[str], output: str, name: str, slope: bytes | None) -> tuple[bytes, bytes]:
    """Nodes computing PRelu, and any initializer they need.

    Every slope <= 1: x + Relu((s - 1) * x), which onnxruntime keeps in its blocked layout (the
    Mul becomes a 1x1 depthwise convolution with the Relu fused, the Add stays blocked). Otherwise
    (a slope above 1, or one computed at run time): Relu(x) + Min(x, 0) * s, exact.
    """
    if len(inputs) != 2:
        raise WireFormatError(f"PRelu node {name!r} has {len(inputs)} inputs, expected 2")
    x, s = inputs
    if slope is not None and max(float_values(slope)) <= 1.0:
        shifted = output + "_prelu_slope_minus_1"
        return (node("Mul", [x, shifted], [output + "_prelu_t"], name + "_mul")
                + node("Relu", [output + "_prelu_t"], [output + "_prelu_r"], name + "_relu")
                + node("Add", [x, output + "_prelu_r"], [output], name + "_add")), slope_minus_one(slope, shifted)
    return (node("Relu", [x], [output + "_prelu_pos"], name + "_relu")
            + node("Min", [x, PRELU_ZERO], [output + "_prelu_neg"], name + "_min")
            + node("Mul", [output + "_prelu_neg", s], [output + "_prelu_sneg"], name + "_mul")
            + node("Add", [output + "_prelu_pos", output + "_prelu_sneg"], [output], name + "_add")), b""


def rewrite_prelu_graph(graph: bytes) -> tuple[bytes, int]:
    fields = list(iter_fields(graph))
    slopes = float_initializers(fields)
    out, added, rewritten = [], [], 0
    for field, wire, payload, raw in fields:
        if field == GRAPH_NODE and wire == WIRE_LENGTH and string_field(payload, NODE_OP_TYPE) == "PRelu":
            inputs, outputs = repeated_strings(payload, NODE_INPUT), repeated_strings(payload, NODE_OUTPUT)
            name = string_field(payload, NODE_NAME) or f"prelu_{rewritten}"
            if len(outputs) != 1:
                raise WireFormatError(f"PRelu node {name!r} has {len(outputs)} outputs, expected 1")
            slope = slopes.get(inputs[1]) if len(inputs) == 2 else None
            nodes, initializer = prelu_replacement(inputs, outputs[0], name, slope)
            out.append(nodes)
            added.append(initializer or float_scalar(PRELU_ZERO, 0.0))
            rewritten += 1
        else:
            out.append(raw)
    return b"".join(out + list(dict.fromkeys(added))), rewritten


def decompose_prelu(model: bytes) -> tuple[bytes, int]:
    """Return the model with every PRelu node replaced by equivalent nodes, and how many were."""
    return rewrite_the_graph(model, rewrite_prelu_graph)
