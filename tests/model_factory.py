"""Small ONNX graphs that follow docs/MODEL_CONTRACT.md, made by the tests (no torch, no download).

The graph has the trained generator's interface and its structural demands: inputs ``image`` and
``attention``, output ``enhanced = image + attention * R``, H and W that must be multiples of 16 (a 16x16
pooling branch fails on any other size), and a receptive field of a few dozen pixels (dilated convolutions),
so that tiling, padding and attention handling are exercised for real. Dark pixels are lifted, so outputs
are visibly enhanced.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

CONTRACT_METADATA = {
    "enlighten.contract": "1",
    "enlighten.model_name": "test-enhancer",
    "enlighten.model_version": "0.0.1",
    "enlighten.precision": "fp32",
    "enlighten.input_range": "-1,1",
    "enlighten.attention": "1-luma601",
    "enlighten.size_multiple": "16",
    "enlighten.receptive_margin": "32",
    "enlighten.backbone": "none",
    "enlighten.width": "8",
    "enlighten.params": "0",
    "enlighten.trained_on": "nothing: a graph made by the test suite",
}


def _conv(name: str, x: str, w: np.ndarray, b: np.ndarray, dilation: int, nodes: list, inits: list) -> str:
    inits += [numpy_helper.from_array(w, f"{name}.w"), numpy_helper.from_array(b, f"{name}.b")]
    k = w.shape[-1]
    pad = dilation * (k // 2)
    nodes.append(
        helper.make_node(
            "Conv", [x, f"{name}.w", f"{name}.b"], [name], pads=[pad] * 4, dilations=[dilation] * 2
        )
    )
    return name


def build_contract_model(*, seed: int = 0, metadata: dict[str, str] | None = None) -> onnx.ModelProto:
    """Return the test model; ``metadata`` entries override or extend CONTRACT_METADATA."""
    rng = np.random.default_rng(seed)
    nodes: list = []
    inits: list = []
    nodes.append(helper.make_node("Concat", ["image", "attention"], ["x"], axis=1))
    h = _conv("c1", "x", rng.normal(0, 0.2, (8, 4, 3, 3)).astype(np.float32), np.zeros(8, np.float32), 1,
              nodes, inits)
    nodes.append(helper.make_node("LeakyRelu", [h], ["a1"], alpha=0.2))
    h = _conv("c2", "a1", rng.normal(0, 0.1, (8, 8, 3, 3)).astype(np.float32), np.zeros(8, np.float32), 4,
              nodes, inits)
    nodes.append(helper.make_node("LeakyRelu", [h], ["a2"], alpha=0.2))
    h = _conv("c3", "a2", rng.normal(0, 0.05, (8, 8, 3, 3)).astype(np.float32), np.zeros(8, np.float32), 8,
              nodes, inits)
    # A 16x16 pooling branch, as the U-Net's four 2x2 max-pools: any H or W not a multiple of 16 fails.
    nodes.append(helper.make_node("AveragePool", ["x"], ["pooled"], kernel_shape=[16, 16], strides=[16, 16]))
    inits.append(numpy_helper.from_array(np.array([1, 1, 16, 16], np.float32), "up_scales"))
    nodes.append(helper.make_node("Resize", ["pooled", "", "up_scales"], ["up"], mode="nearest"))
    h2 = _conv("c4", "up", rng.normal(0, 0.05, (8, 4, 1, 1)).astype(np.float32), np.zeros(8, np.float32), 1,
               nodes, inits)
    nodes.append(helper.make_node("Add", [h, h2], ["mixed"]))
    nodes.append(helper.make_node("LeakyRelu", ["mixed"], ["a3"], alpha=0.2))
    # The bias lifts the residual so that dark (high-attention) pixels get brighter.
    _conv("residual", "a3", rng.normal(0, 0.05, (3, 8, 1, 1)).astype(np.float32),
          np.full(3, 0.9, np.float32), 1, nodes, inits)
    nodes.append(helper.make_node("Mul", ["residual", "attention"], ["gated"]))
    nodes.append(helper.make_node("Add", ["gated", "image"], ["enhanced"]))
    dims = ["batch", "height", "width"]
    graph = helper.make_graph(
        nodes,
        "test_enhancer",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, [dims[0], 3, dims[1], dims[2]]),
            helper.make_tensor_value_info("attention", TensorProto.FLOAT, [dims[0], 1, dims[1], dims[2]]),
        ],
        [helper.make_tensor_value_info("enhanced", TensorProto.FLOAT, [dims[0], 3, dims[1], dims[2]])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {**CONTRACT_METADATA, **(metadata or {})}.items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(model)
    return model


def write_contract_model(path: Path, **kwargs) -> Path:
    """Write the test model to ``path`` and return the path."""
    onnx.save(build_contract_model(**kwargs), str(path))
    return path
