"""Build an ONNX graph of MiniVision's MiniFASNet from its PyTorch state dict (no torch).

Architecture (Silent-Face-Anti-Spoofing, src/model_lib/MiniFASNet.py, facts only): a stride-2
3x3 conv block, a depthwise 3x3 block, then bottleneck units (1x1 expand -> depthwise 3x3 ->
1x1 project, no activation after the projection) in four resolutions: a stride-2 transition
unit (conv_23, conv_34, conv_45) followed by residual units (conv_3, conv_4, conv_5). In the SE
variant the last residual unit of each stage scales its projection by a squeeze-excitation
(global average, 1x1 conv, BN, ReLU, 1x1 conv, BN, sigmoid) before the shortcut is added.
Then a 1x1 block to 512 channels, a 5x5 depthwise conv with BN and no padding (80x80 input:
5x5 maps), flatten, linear 512->128, BatchNorm1d, linear 128->3. A "conv block" is conv, BN,
PReLU; a "linear block" is conv and BN. Every conv is bias-free.

The graph folds each BatchNorm into the conv or linear before it (running statistics, eps 1e-5,
as in evaluation mode) and ends with a softmax: output `probabilities` (N, 3), index 1 = live.
"""
from __future__ import annotations

import re

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BN_EPS = 1e-5
INPUT_SIZE = 80
OPSET = 13
STRIDE_2 = ("conv1", "conv_23.conv_dw", "conv_34.conv_dw", "conv_45.conv_dw")
SEQUENCE = ("conv1", "conv2_dw", "conv_23", "conv_3", "conv_34", "conv_4", "conv_45", "conv_5",
            "conv_6_sep", "conv_6_dw")


class ArchitectureMismatch(ValueError):
    """The state dict does not have the layers this builder expects."""


class _Graph:
    def __init__(self, weights: dict[str, np.ndarray]) -> None:
        self.weights = weights
        self.nodes: list = []
        self.inits: list = []
        self.count = 0

    def const(self, array: np.ndarray, hint: str) -> str:
        name = f"{hint}_{len(self.inits)}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def op(self, op_type: str, inputs: list[str], **attrs) -> str:
        self.count += 1
        out = f"{op_type.lower()}_{self.count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def w(self, key: str) -> np.ndarray:
        if key not in self.weights:
            raise ArchitectureMismatch(f"missing {key}")
        return self.weights[key]


def _bn_fold(g: _Graph, prefix: str) -> tuple[np.ndarray, np.ndarray]:
    gamma, beta = g.w(prefix + ".weight"), g.w(prefix + ".bias")
    mean, var = g.w(prefix + ".running_mean"), g.w(prefix + ".running_var")
    scale = gamma / np.sqrt(var + BN_EPS)
    return scale, beta - mean * scale


def _conv_bn(g: _Graph, x: str, prefix: str, activation: bool) -> str:
    kernel = g.w(prefix + ".conv.weight")
    scale, shift = _bn_fold(g, prefix + ".bn")
    out_c, in_per_group, kh, kw = kernel.shape
    groups = out_c if in_per_group == 1 and out_c > 1 else 1
    pad = 0 if prefix == "conv_6_dw" else (kh - 1) // 2
    stride = 2 if prefix in STRIDE_2 else 1
    y = g.op("Conv", [x, g.const(kernel * scale[:, None, None, None], "w"), g.const(shift, "b")],
             kernel_shape=[kh, kw], pads=[pad] * 4, strides=[stride, stride], group=groups)
    if activation:
        slope = g.w(prefix + ".prelu.weight").reshape(-1, 1, 1)
        y = g.op("PRelu", [y, g.const(slope, "slope")])
    return y


def _squeeze_excite(g: _Graph, x: str, prefix: str) -> str:
    s = g.op("GlobalAveragePool", [x])
    for fc, bn, act in (("fc1", "bn1", "Relu"), ("fc2", "bn2", "Sigmoid")):
        kernel = g.w(f"{prefix}.{fc}.weight")
        scale, shift = _bn_fold(g, f"{prefix}.{bn}")
        s = g.op("Conv", [s, g.const(kernel * scale[:, None, None, None], "w"), g.const(shift, "b")],
                 kernel_shape=[1, 1])
        s = g.op(act, [s])
    return g.op("Mul", [x, s])


def _bottleneck(g: _Graph, x: str, prefix: str, residual: bool) -> str:
    y = _conv_bn(g, x, prefix + ".conv", True)
    y = _conv_bn(g, y, prefix + ".conv_dw", True)
    y = _conv_bn(g, y, prefix + ".project", False)
    if prefix + ".se_module.fc1.weight" in g.weights:
        y = _squeeze_excite(g, y, prefix + ".se_module")
    return g.op("Add", [x, y]) if residual else y


def _stage(g: _Graph, x: str, name: str) -> str:
    if name in ("conv1", "conv2_dw", "conv_6_sep"):
        return _conv_bn(g, x, name, True)
    if name == "conv_6_dw":
        return _conv_bn(g, x, name, False)
    if name in ("conv_23", "conv_34", "conv_45"):
        return _bottleneck(g, x, name, residual=False)
    units = sorted({int(m.group(1)) for k in g.weights
                    if (m := re.match(rf"{name}\.model\.(\d+)\.", k))})
    if not units:
        raise ArchitectureMismatch(f"no residual units in {name}")
    for index in units:
        x = _bottleneck(g, x, f"{name}.model.{index}", residual=True)
    return x


def _head(g: _Graph, x: str) -> str:
    x = g.op("Flatten", [x], axis=1)
    scale, shift = _bn_fold(g, "bn")
    linear = g.w("linear.weight") * scale[:, None]
    x = g.op("Gemm", [x, g.const(linear, "fc"), g.const(shift, "fcb")], transB=1)
    prob = g.w("prob.weight")
    x = g.op("Gemm", [x, g.const(prob, "prob"), g.const(np.zeros(prob.shape[0]), "probb")], transB=1)
    return g.op("Softmax", [x], axis=1)


def strip_prefix(weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Upstream saved a DataParallel model: every key starts with `module.`."""
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in weights.items()}


def build_model(weights: dict[str, np.ndarray], name: str) -> bytes:
    """Serialised ONNX model: input `input` (N, 3, 80, 80) BGR 0-255, output `probabilities`."""
    g = _Graph(strip_prefix(weights))
    x = "input"
    for stage in SEQUENCE:
        x = _stage(g, x, stage)
    _head(g, x)
    g.nodes[-1].output[0] = "probabilities"
    graph = helper.make_graph(
        g.nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 3, INPUT_SIZE, INPUT_SIZE])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])], g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="border-gate models/minifasnet.py")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString(deterministic=True)
