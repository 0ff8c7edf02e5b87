"""Reading a trained ANN from ONNX: op whitelist (SNN120), constants, attributes, shapes.

Only what the ANN -> SNN converter needs: the model is loaded and shape-inferred with the
``onnx`` package, every node is checked against the supported op list *before* conversion
starts, and all unsupported nodes are reported together (each with its op type, node name
and index in ``graph.node``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from snncc.diagnostics import Diagnostic, SnnccError

#: ONNX ops the converter understands (Constant only provides values, e.g. a Reshape shape)
SUPPORTED_OPS = (
    "Conv", "Gemm", "MatMul", "Add", "Relu", "BatchNormalization", "AveragePool", "Flatten",
    "Reshape", "Identity", "Dropout", "Constant",
)

_HINTS = {
    "MaxPool": "replace MaxPool by AveragePool (nn.AvgPool2d) and retrain; max has no rate-coded IF equivalent",
    "Sigmoid": "use ReLU activations; only ReLU maps onto IF neurons",
    "Tanh": "use ReLU activations; only ReLU maps onto IF neurons",
    "LSTM": "recurrent ANN cells are not converted; train a feed-forward ReLU network or an SNN directly",
    "GRU": "recurrent ANN cells are not converted; train a feed-forward ReLU network or an SNN directly",
    "Softmax": "export the logits (drop the final Softmax); the SNN readout approximates logits",
    "Shape": "export with static shapes (use torch.flatten(x, 1) or nn.Flatten instead of x.view(x.size(0), -1))",
}


@dataclass
class OnnxModel:
    """A loaded, shape-inferred ONNX model with its constants and batch-free tensor shapes."""

    proto: Any  # onnx.ModelProto
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    #: batch-free shape of every tensor whose shape inference succeeded
    shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def nodes(self) -> list:
        return list(self.proto.graph.node)

    def consumers(self, tensor: str) -> int:
        """How many node inputs and graph outputs read ``tensor``."""
        used = sum(list(n.input).count(tensor) for n in self.proto.graph.node)
        return used + self.outputs.count(tensor)


def load_model(model_or_path: Any) -> OnnxModel:
    """A checked :class:`OnnxModel` from a path or ModelProto (an OnnxModel is already one)."""
    import onnx
    from onnx import numpy_helper

    if isinstance(model_or_path, OnnxModel):
        return model_or_path
    if isinstance(model_or_path, (str, Path)):
        try:
            proto = onnx.load(str(model_or_path))
        except Exception as exc:  # onnx raises DecodeError/OSError variants
            raise SnnccError.single("SNN101", f"cannot read ONNX model '{model_or_path}': {exc}",
                                    hint="pass a .onnx file written by torch.onnx.export or onnx.save") from exc
    else:
        proto = model_or_path
    proto = onnx.shape_inference.infer_shapes(proto)
    consts = {init.name: numpy_helper.to_array(init) for init in proto.graph.initializer}
    for node in proto.graph.node:
        if node.op_type == "Constant":
            attr = {a.name: a for a in node.attribute}
            if "value" in attr:
                consts[node.output[0]] = numpy_helper.to_array(attr["value"].t)
    model = OnnxModel(proto, consts)
    model.inputs = [i.name for i in proto.graph.input if i.name not in consts]
    model.outputs = [o.name for o in proto.graph.output]
    for info in [*proto.graph.input, *proto.graph.value_info, *proto.graph.output]:
        dims = info.type.tensor_type.shape.dim
        if info.type.tensor_type.HasField("shape") and len(dims) >= 1:
            rest = [d.dim_value if d.HasField("dim_value") else -1 for d in dims[1:]]
            if all(d > 0 for d in rest):
                model.shapes[info.name] = tuple(rest)
    check_supported(model)
    return model


def check_supported(model: OnnxModel) -> None:
    """Raise SNN120 for every node whose op type is outside :data:`SUPPORTED_OPS`."""
    problems = []
    for index, node in enumerate(model.proto.graph.node):
        if node.op_type in SUPPORTED_OPS and node.domain in ("", "ai.onnx"):
            continue
        name = node.name or f"<unnamed {node.op_type}>"
        problems.append(Diagnostic(
            "SNN120",
            f"unsupported ONNX op '{node.op_type}' (node '{name}', index {index} in graph.node)",
            node=name,
            hint=_HINTS.get(node.op_type, f"supported ops: {', '.join(SUPPORTED_OPS)}"),
        ))
    if problems:
        raise SnnccError(problems)


def attributes(node) -> dict[str, Any]:
    from onnx import helper

    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def unsupported_attribute(node, index: int, message: str, hint: str) -> SnnccError:
    name = node.name or f"<unnamed {node.op_type}>"
    return SnnccError.single(
        "SNN121", f"{node.op_type} node '{name}' (index {index}): {message}", node=name, hint=hint,
    )
