"""Write the IR as NIR with the installed ``nir`` package.

dt goes into the graph metadata, the reset mode, comparator, bias currents and refractory
period into node metadata (NIR cannot say them), so snncc reads its own files back exactly.
Nodes NIR cannot express (BatchNorm, a neuron with an MPBN membrane norm) are
rejected with the pass that removes them.
"""
from __future__ import annotations

import inspect
import os

import numpy as np

from snncc import ir
from snncc.diagnostics import DiagnosticList

from .nir_import import META_BIAS, META_COMPARATOR, META_DT, META_REFRACTORY, META_RESET


def _accepts(cls, name: str) -> bool:
    return name in inspect.signature(cls).parameters


def _nir_node(name: str, node: ir.Node, errors: DiagnosticList):
    import nir

    metadata: dict = {}
    if isinstance(node, ir.SpikingNeuron):
        metadata = {META_RESET: node.reset.value, META_COMPARATOR: node.comparator.value}
        if node.bias is not None:
            metadata[META_BIAS] = np.asarray(node.bias)
        if node.refractory:
            metadata[META_REFRACTORY] = int(node.refractory)
        if node.membrane_bn is not None:
            errors.add("SNN301", "NIR cannot express a batch norm on the membrane (MPBN)", node=name,
                       hint="run the fold-mpbn pass before exporting")
    fields = {k: v for k, v in node.arrays().items()}
    if isinstance(node, ir.Input):
        return nir.Input(input_type={"input": np.asarray(node.shape)})
    if isinstance(node, ir.Output):
        return nir.Output(output_type={"output": np.asarray(node.shape)})
    if isinstance(node, (ir.Conv1d, ir.Conv2d)):
        cls = nir.Conv1d if isinstance(node, ir.Conv1d) else nir.Conv2d
        spatial = tuple(node.input_shape[1:]) or None
        return cls(input_shape=spatial if isinstance(node, ir.Conv2d) else (spatial[0] if spatial else None),
                   weight=node.weight, bias=node.bias,
                   stride=node.stride, padding=node.padding, dilation=node.dilation, groups=node.groups)
    if isinstance(node, (ir.SumPool2d, ir.AvgPool2d)):
        cls = nir.SumPool2d if isinstance(node, ir.SumPool2d) else nir.AvgPool2d
        return cls(kernel_size=np.asarray(node.kernel_size), stride=np.asarray(node.stride),
                   padding=np.asarray(node.padding))
    if isinstance(node, ir.Flatten):
        kwargs = {"input_type": {"input": np.asarray(node.input_shape)} if node.input_shape else None}
        return nir.Flatten(start_dim=node.start_dim, end_dim=node.end_dim, **kwargs)
    if isinstance(node, ir.BatchNorm):
        errors.add("SNN301", "NIR has no BatchNorm node", node=name, hint="run the fold-batchnorm pass before exporting")
        return None
    cls = getattr(nir, node.kind)
    if "v_reset" in fields and not _accepts(cls, "v_reset"):  # NIR < 1.0.5 has no v_reset field
        v_reset = fields.pop("v_reset")
        if np.any(v_reset != 0):
            metadata["snncc.v_reset"] = v_reset
    if isinstance(node, ir.Threshold):
        metadata[META_COMPARATOR] = node.comparator.value
    out = cls(**fields)
    if metadata:
        out.metadata.update(metadata)
    return out


def to_nir(graph: ir.Graph):
    import nir

    errors = DiagnosticList()
    nodes = {name: _nir_node(name, node, errors) for name, node in graph.nodes.items()}
    errors.raise_if_errors()
    metadata = {"snncc.version": _version()}
    if graph.dt is not None:
        metadata[META_DT] = float(graph.dt)
    edges = [(e.src, e.dst) for e in graph.edges]
    # nir >= 1.0.5 type-checks on construction and rejects old graphs' shape conventions
    # (e.g. Output (1, 1, 1) after a (1,) neuron) that snncc itself accepts.
    kwargs = {"type_check": False} if _accepts(nir.NIRGraph, "type_check") else {}
    out = nir.NIRGraph(nodes=nodes, edges=edges, **kwargs)
    out.metadata.update(metadata)
    return out


def write_nir(graph: ir.Graph, path: str) -> None:
    """Write atomically: a failed export leaves no partial file."""
    import nir

    tmp = f"{path}.tmp"
    try:
        nir.write(tmp, to_nir(graph))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _version() -> str:
    import snncc

    return snncc.__version__
