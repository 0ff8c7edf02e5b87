"""Keeping a subset of a 1-D layer's neurons: the neuron node, the rows of the weight layers
feeding it and the columns of those it feeds, integer forms included (used by prune)."""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from snncc.ir import Affine, Linear, Neuron, Quantization, Scale

from ._decay import stored


def _take(values: Any, keep: np.ndarray, n: int, axis: int = 0) -> Any:
    array = np.asarray(values)
    if array.ndim > axis and array.shape[axis] == n:
        return np.take(array, keep, axis=axis)
    return values


def _quant(quant: Quantization | None, keep: np.ndarray, n: int, axis: int, names: tuple[str, ...] | None
           ) -> Quantization | None:
    if quant is None:
        return None
    params = {k: (dataclasses.replace(p, values=_take(p.values, keep, n, axis)) if names is None or k in names else p)
              for k, p in quant.params.items()}
    extra = {k: (stored(np.asarray(v)[keep]) if isinstance(v, list) and len(v) == n else v)
             for k, v in quant.extra.items()}
    return Quantization(params, extra)


def take_neurons(node: Neuron, keep: np.ndarray) -> Neuron:
    """The neuron node with only neurons ``keep`` (1-D layer; shared size-1 values stay)."""
    n = node.size
    changes = {f: _take(np.asarray(getattr(node, f)).reshape(-1) if np.size(getattr(node, f)) == n
                        else getattr(node, f), keep, n) for f in node.array_fields}
    if getattr(node, "bias", None) is not None:
        changes["bias"] = _take(np.asarray(node.bias).reshape(-1), keep, n) if np.size(node.bias) == n else node.bias
    changes["quant"] = _quant(node.quant, keep, n, 0, None)
    return dataclasses.replace(node, **changes)


def take_rows(node: Affine | Linear | Scale, keep: np.ndarray) -> Any:
    """A weight layer that produces only outputs ``keep``."""
    if isinstance(node, Scale):
        n = np.asarray(node.scale).size
        return dataclasses.replace(node, scale=np.asarray(node.scale).reshape(-1)[keep],
                                   quant=_quant(node.quant, keep, n, 0, None))
    n = node.weight.shape[0]
    changes: dict[str, Any] = {"weight": np.asarray(node.weight)[keep], "quant": _quant(node.quant, keep, n, 0, None)}
    if isinstance(node, Affine):
        changes["bias"] = np.asarray(node.bias)[keep]
    return dataclasses.replace(node, **changes)


def take_columns(node: Affine | Linear, keep: np.ndarray) -> Any:
    """A weight layer that reads only inputs ``keep``."""
    n = node.weight.shape[1]
    return dataclasses.replace(node, weight=np.asarray(node.weight)[:, keep],
                               quant=_quant(node.quant, keep, n, 1, ("weight",)))
