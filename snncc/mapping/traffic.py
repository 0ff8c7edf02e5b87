"""Spike traffic between tiles: how many source neurons of tile a reach tile b, and how
many spikes per step that carries (uniform activity, or rates from a reference run).

One spike of a neuron travels once to every core that holds one of its targets (Loihi's
one output axon per destination core; one multicast delivery per PE on SpiNNaker).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from snncc.diagnostics import Diagnostic, Severity
from snncc.ir import Graph, Input, SpikingNeuron

from .network import Network
from .partition import LayerPartition
from .stats import receptive_indices

#: samples of the calibration batch simulated for activity estimates (keeps compiles fast)
CALIBRATION_SAMPLES = 16


@dataclass(frozen=True)
class Traffic:
    """Global tile index = position in ``tiles``. ``count[a, b]``: source neurons of tile a
    with a synapse into tile b; ``rate[a, b]``: their spikes per step."""

    tiles: tuple[tuple[str, int], ...]  # (layer, tile index in its partition)
    count: sp.csr_matrix
    rate: sp.csr_matrix


def activity(graph: Graph, calibration: np.ndarray | None) -> tuple[dict[str, np.ndarray] | None, list[Diagnostic]]:
    """Per population, spikes per step per neuron from a reference simulation of the
    calibration inputs ``[B, T, *input_shape]``; None (uniform) without usable data."""
    if calibration is None:
        return None, []
    inputs = [n for n, node in graph.nodes.items() if isinstance(node, Input)]
    x = np.asarray(calibration)
    shape = tuple(graph.nodes[inputs[0]].shape) if len(inputs) == 1 else None
    if shape is None or x.ndim != len(shape) + 2 or tuple(x.shape[2:]) != shape:
        return None, [Diagnostic(
            "SNN456", f"calibration data of shape {x.shape} cannot drive a spiking simulation of the "
            f"graph (one Input of shape {shape} expects [B, T, *shape]); core placement assumes "
            "uniform activity", severity=Severity.WARNING,
            hint="pass spike inputs [B, T, *input_shape] as calibration data")]
    from snncc.runtime.reference import simulate

    x = x[:CALIBRATION_SAMPLES]
    result = simulate(graph, x)
    rates = {inputs[0]: (x != 0).reshape(x.shape[0], x.shape[1], -1).mean(axis=(0, 1))}
    for name, node in graph.nodes.items():
        if isinstance(node, SpikingNeuron) and name in result.spikes:
            spikes = result.spikes[name].numpy()
            rates[name] = spikes.reshape(spikes.shape[0], spikes.shape[1], -1).mean(axis=(0, 1))
    return rates, []


def tile_traffic(network: Network, parts: dict[str, LayerPartition],
                 rates: dict[str, np.ndarray] | None) -> Traffic:
    """Traffic between every pair of placed tiles (layers in ``parts``)."""
    tiles = tuple((name, i) for name, part in parts.items() for i in range(len(part.tiles)))
    offset, start = {}, 0
    for name, part in parts.items():
        offset[name], start = start, start + len(part.tiles)
    labels = {name: part.tiles.labels() for name, part in parts.items()}
    rows, cols, counts, weights = [], [], [], []
    for p in network.projections:
        if p.src not in parts or p.dst not in parts:
            continue
        src_labels = labels[p.src]
        rate = rates.get(p.src) if rates is not None else None
        n_src_tiles = len(parts[p.src].tiles)
        dst_tiles = parts[p.dst].tiles
        for i in range(len(dst_tiles)):
            idx = receptive_indices(p.pattern, dst_tiles, i)
            if idx.size == 0:
                continue
            lab = src_labels[idx]
            count = np.bincount(lab, minlength=n_src_tiles)
            spikes = np.bincount(lab, weights=rate[idx], minlength=n_src_tiles) if rate is not None else count
            hit = np.flatnonzero(count)
            rows.append(offset[p.src] + hit)
            cols.append(np.full(hit.size, offset[p.dst] + i))
            counts.append(count[hit])
            weights.append(np.asarray(spikes, dtype=float)[hit])
    n = len(tiles)
    if rows:
        r, c = np.concatenate(rows), np.concatenate(cols)
        count = sp.csr_matrix((np.concatenate(counts).astype(np.int64), (r, c)), shape=(n, n))
        rate = sp.csr_matrix((np.concatenate(weights), (r, c)), shape=(n, n))
    else:
        count = sp.csr_matrix((n, n), dtype=np.int64)
        rate = sp.csr_matrix((n, n), dtype=float)
    return Traffic(tiles, count, rate)
