"""A contract-1 ONNX model whose effect is known exactly: output = input + a constant (identity at 0).

For tests that check numbers computed from a model's output (no-harm report, scale agreement): unlike
tests/model_factory.py's enhancer, this graph has no spatial context, so every pixel's result is known.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tests.model_factory import CONTRACT_METADATA


def shift_model(path: Path, levels: int, *, by_attention: bool = False,
                metadata: dict[str, str] | None = None) -> Path:
    """A contract-1 ONNX model whose output is its input plus ``levels`` / 255 (before the enhancer clamps),
    times the attention input when ``by_attention`` (the contract's O = R * A + I with a constant R); else the
    attention input is wired in (times zero) so the graph has the interface the engine feeds. ``metadata``
    extends or overrides the contract's."""
    nodes = [
        helper.make_node("Mul", ["attention", "scale"], ["weight"]),
        helper.make_node("Mul", ["weight", "offset"], ["lift"]),
        helper.make_node("Add", ["image", "lift"], ["enhanced"]),
    ]
    inits = [
        numpy_helper.from_array(np.ones((1,), np.float32) * float(by_attention), "scale"),
        numpy_helper.from_array(np.full((1,), 2 * levels / 255, np.float32), "offset"),
    ]
    if not by_attention:
        nodes = [
            helper.make_node("Mul", ["attention", "scale"], ["unused"]),
            helper.make_node("Add", ["image", "unused"], ["same"]),
            helper.make_node("Add", ["same", "offset"], ["enhanced"]),
        ]
    shape = ["batch", 3, "height", "width"]
    graph = helper.make_graph(
        nodes,
        "shift",
        [
            helper.make_tensor_value_info("image", TensorProto.FLOAT, shape),
            helper.make_tensor_value_info("attention", TensorProto.FLOAT, ["batch", 1, "height", "width"]),
        ],
        [helper.make_tensor_value_info("enhanced", TensorProto.FLOAT, shape)],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (CONTRACT_METADATA | (metadata or {})).items():
        model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=value))
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path
