"""quantize for a target with threshold offsets (loihi2's capabilities): LIF/IF thresholds of
either sign are kept (nothing clipped at 0), and the state scale keeps the offset's reset
correction, the shifted state and the shifted bias inside the target's formats, so the
Loihi 2 lowering accepts every such layer; CubaLIF thresholds are still clipped at 0."""
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import chain, layer, neuron, out_shape
from snncc.passbase import PassContext
from snncc.passes.discretize import Discretize
from snncc.passes.quantize import Quantize
from snncc.registry import TARGETS
from snncc.targets.loihi2.lower import lower

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)
LOIHI2 = TARGETS.get("loihi2").capabilities


def _quantized(graph):
    ctx = PassContext(LOIHI2)
    return Quantize().run(Discretize().run(graph, ctx).graph, ctx), ctx


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), layer_kind=st.sampled_from(["affine", "linear"]),
       kind=st.sampled_from(["LIF", "IF"]), spread=st.sampled_from([0.5, 5.0, 50.0]))
def test_thresholds_of_either_sign_are_kept_and_lower(seed, layer_kind, kind, spread):
    rng = np.random.default_rng(seed)
    in_shape, w = layer(layer_kind, rng)
    shape = out_shape(w, in_shape)
    cell = neuron(kind, shape, rng).replace(v_threshold=rng.uniform(-spread, spread, shape), v_reset=np.zeros(shape))
    if kind == "LIF":  # one time constant: one Lava process
        cell = cell.replace(tau=np.full(shape, rng.uniform(2e-3, 2e-2)))
    result, ctx = _quantized(chain(("w", w), ("n", cell)))
    node = result.graph.nodes["n"]
    s = node.quant.extra["state_scale"]
    t = node.quant.params["v_threshold"].values.reshape(-1)
    np.testing.assert_allclose(t, np.rint(np.asarray(cell.v_threshold).reshape(-1) / s), atol=0)
    assert ctx.reports["quantize"]["layers"]["n"]["thresholds_out_of_range"] == 0 and t.min() < 0
    shift = max(t.max(), 0) - t
    decay = 1 - np.asarray(node.quant.extra["dv"]) / 4096 if kind == "LIF" else 1.0
    assert (shift * decay).max() <= LOIHI2.extra["threshold_offset_max"] + 1
    low = lower(result.graph)                                   # no SNN437: every offset fits
    assert low.offsets["n"]["shifted"] == np.count_nonzero(shift)


def test_cuba_thresholds_are_still_clipped_at_zero():
    rng = np.random.default_rng(1)
    in_shape, w = layer("affine", rng)
    shape = out_shape(w, in_shape)
    cell = neuron("CubaLIF", shape, rng).replace(v_threshold=np.linspace(-0.5, 0.5, shape[0]), v_reset=np.zeros(shape))
    result, ctx = _quantized(chain(("w", w), ("n", cell)))
    assert result.graph.nodes["n"].quant.params["v_threshold"].values.min() == 0
    assert ctx.reports["quantize"]["layers"]["n"]["thresholds_out_of_range"] > 0
