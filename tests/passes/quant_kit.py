"""Target-like capabilities and an independent checker of the integer form (lowering contract
§3) for the quantize tests. The suggested values of docs/lowering-contract.md, written out."""
from __future__ import annotations

import numpy as np

from snncc.ir import CubaLIF, SpikingNeuron
from snncc.lowering import layer_graph
from snncc.target import Capabilities

LOIHI = Capabilities("loihi-like", weight_bits=8, state_bits=24, threshold_granularity="process", extra={
    "decay_format": {"kind": "fraction", "bits": 12}, "weight_exp_range": (0, 7), "weight_mixed_sign_lsb": True,
    "threshold_bits": 17, "positive_threshold": True, "bias_mant_bits": 13, "bias_exp_range": (0, 7),
    "state_frac_bits": 6})
FPGA = Capabilities("fpga-like", weight_bits=8, state_bits=16, extra={
    "decay_format": {"kind": "fraction", "bits": 12}, "weight_bits_range": (4, 16)})
SPINNAKER2 = Capabilities("spinnaker2-like", weight_bits=8, state_bits=None, extra={
    "decay_format": "float32", "weight_max": 127, "weight_max_with_delays": 15, "synaptic_latency_steps": 1})
TARGETS = {"loihi": LOIHI, "fpga": FPGA, "spinnaker2": SPINNAKER2}


def integral(x, tol=1e-6):
    x = np.asarray(x, dtype=np.float64)
    return np.abs(x - np.rint(x)) <= tol * np.maximum(1.0, np.abs(x))


def check_integer_form(graph, caps, bits):
    """Assert the contract's integer form independently of quantize's own code; returns the
    per-projection integer matrices."""
    extra = caps.extra
    layers = layer_graph(graph)
    ints = {}
    for name in layers.neurons():
        node = graph.nodes[name]
        s = node.quant.extra["state_scale"]
        for p in layers.into(name):
            weighted = [graph.nodes[c] for c in p.chain if graph.nodes[c].quant is not None]
            assert len(weighted) == 1
            exp = weighted[0].quant.extra["weight_exp"]
            lo, hi = extra.get("weight_exp_range", (0, 0))
            assert lo <= exp <= hi
            m = layers.matrix(p) / (s * 2.0**exp)
            assert np.all(integral(m)), p.name
            m = np.rint(m)
            if extra.get("weight_mixed_sign_lsb") and (m.min() >= 0 or m.max() <= 0):
                assert np.abs(m).max() <= 2**bits - 1
            else:
                assert np.abs(m).max() <= min(2 ** (bits - 1) - 1, extra.get("weight_max", 1 << 30))
            ints[p.name] = m
        if caps.state_bits is None or not isinstance(node, SpikingNeuron):
            continue
        frac = extra.get("state_frac_bits", 0)
        theta = np.asarray(node.v_threshold) / s
        assert np.all(integral(theta))
        tbits = extra.get("threshold_bits", caps.state_bits - frac)
        if extra.get("positive_threshold"):
            assert theta.min() >= 0 and theta.max() <= 2**tbits - 1
        else:
            assert np.abs(theta).max() <= 2 ** (tbits - 1)
        total = np.asarray(node.bias if node.bias is not None else 0.0).reshape(-1)
        if not isinstance(node, CubaLIF):
            total = total + layers.bias(name)
        units = total * 2.0**frac / s
        assert np.all(integral(units))
        if "bias_mant_bits" in extra:
            assert all(_mant_exp_fits(int(v), extra["bias_mant_bits"], extra["bias_exp_range"]) for v in np.rint(units))
        # no step can wrap the state register: every input active at once still fits
        worst = sum(np.abs(ints[p.name]).sum(1) * 2.0 ** _exp(graph, p) for p in layers.into(name))
        if isinstance(node, CubaLIF):
            worst = worst * np.asarray(node.tau_syn).reshape(-1) / graph.dt
        assert np.max(worst) <= 2 ** (caps.state_bits - 1 - frac) - 1
        for key in ("v_threshold", "v_reset", "bias"):
            q, value = node.quant.params[key], getattr(node, key)
            value = np.broadcast_to(0.0 if value is None else value, q.values.shape)
            np.testing.assert_allclose(np.asarray(value).reshape(-1), (q.values * q.scale).reshape(-1),
                                       rtol=0, atol=1e-12 * max(1.0, np.abs(q.values * q.scale).max()))
    return ints


def _exp(graph, p):
    return next(graph.nodes[c].quant.extra["weight_exp"] for c in p.chain if graph.nodes[c].quant is not None)


def _mant_exp_fits(value: int, mant_bits: int, exp_range) -> bool:
    for e in range(exp_range[0], exp_range[1] + 1):
        if value % (1 << e) == 0 and -(1 << (mant_bits - 1)) <= value >> e <= (1 << (mant_bits - 1)) - 1:
            return True
    return False
