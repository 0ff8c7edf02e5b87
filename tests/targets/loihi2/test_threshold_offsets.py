"""Threshold offsets (targets/loihi2/offsets.py): LIF/IF neurons with per-neuron thresholds of
either sign on one Lava process (one unsigned vth, reset to 0), through a shifted membrane.

Checked against implementations that do not use offsets: the float reference simulator on
IF networks (exact: no decay), and an independent transcription of the per-neuron-threshold
LIF in Lava's integers where the offsets are exact by construction (dv = 1024, thresholds
multiples of 4, non-negative membranes). Lava itself runs offset processes in
test_lava_backend.py (kitchen sink) and test_digits.py."""
from __future__ import annotations

import tempfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from loihi2_kit import DT, SCALE, compile_graph, cuba_neuron, if_neuron, lif_neuron, spikes, synapse, two_layer

from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.runtime.backend import run
from snncc.targets.loihi2.lower import lower

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)


def test_if_thresholds_of_both_signs_share_one_process_and_match_the_reference(tmp_path):
    rng = np.random.default_rng(5)
    theta = rng.integers(-1500, 400, 20)                  # spread 1900: coarse exponent 3 plus a fine part
    theta[0] = 400
    graph = two_layer(rng, hidden=if_neuron(theta))
    low = lower(graph)
    (pop,) = [p for p in low.spec.populations if p.name == "hidden"]
    assert pop.vth == 400 and not any(d.code == "SNN438" for d in low.notes)
    np.testing.assert_array_equal(pop.v_init, 64 * (400 - theta))
    # IF: no extra bias (a = 1); the reset correction |c| = 400 - theta, split coarse << 3 + fine
    np.testing.assert_array_equal(pop.bias_mant << pop.bias_exp, graph.nodes["fc1"].bias / SCALE * 64)
    offsets = {c.weight_exp: c for c in low.spec.connections if c.name.startswith("hidden__hidden__offset")}
    assert set(offsets) == {3, 0}
    total = sum(np.diag(c.weights) << c.weight_exp for c in offsets.values())
    np.testing.assert_array_equal(total, 400 - theta)
    assert low.offsets["hidden"]["reset_rounding_max"] == 0 and low.offsets["hidden"]["shifted"] == 19

    out = compile_graph(graph, tmp_path / "out")
    x = spikes(rng, 4, 40, 12)
    ref, gold = run(out, x, "reference", record_state=True), run(out, x, "golden", record_state=True)
    assert ref.spikes["hidden"][..., theta < 0].mean() > 0.2 and ref.spikes["hidden"][..., theta > 0].sum() > 20
    for name in ("hidden", "out"):
        np.testing.assert_array_equal(gold.spikes[name], ref.spikes[name])
        np.testing.assert_array_equal(gold.states[name]["v"] * gold.state_scale[name], ref.states[name]["v"][:, -1])
    assert not gold.raw["hidden"][:, :1].any()           # silent before its start (lag 1)


def _lava_lif_reference(x, layers, steps):
    """Per-neuron thresholds in Lava's integers without offsets (python ints, per neuron):
    V = floor(V * 3072 / 4096) + (sum W << exp << 6) + B (V >= 0 here), spike if V > 64 T, reset 0."""
    spikes_in, out = x, []
    for w, exp, bias, theta in layers:
        v = [0] * len(theta)
        fired = np.zeros((steps, len(theta)), np.uint8)
        for t in range(steps):
            for i in range(len(theta)):
                drive = sum(int(w[i][j]) for j in range(w.shape[1]) if spikes_in[t][j]) << exp << 6
                v[i] = (v[i] * 3072) // 4096 + drive + int(bias[i])
                if v[i] > 64 * int(theta[i]):
                    fired[t, i], v[i] = 1, 0
        out.append((fired, v))
        spikes_in = fired
    return out


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), n_hid=st.integers(1, 12), n_out=st.integers(1, 6),
       exp=st.integers(0, 3))
def test_exact_lif_offsets_equal_the_per_neuron_threshold_lif(seed, n_hid, n_out, exp):
    rng = np.random.default_rng(seed)
    n_in, steps = 6, 24
    layers, nodes, edges, previous = [], {"input": ir.Input(shape=(n_in,))}, [], "input"
    for k, (n, fan_in) in enumerate([(n_hid, n_in), (n_out, n_hid)]):
        w = rng.integers(0, 60, (n, fan_in))
        theta = 4 * rng.integers(-30, 30, n)      # multiples of 4: a |c| = 3|c|/4 is whole
        bias = rng.integers(0, 16, n)             # Lava units, >= 0 (V >= 0); + 16 |c| still a 13-bit mantissa
        cell = lif_neuron(1, dv=1024, n=n, bias_int=bias).replace(v_threshold=theta * SCALE)
        nodes |= {f"fc{k}": synapse(w, exp=exp if k == 0 else 0), f"lif{k}": cell}
        edges += [ir.Edge(previous, f"fc{k}"), ir.Edge(f"fc{k}", f"lif{k}")]
        layers.append((w, exp if k == 0 else 0, bias, theta))
        previous = f"lif{k}"
    nodes["output"] = ir.Output(shape=(n_out,))
    edges.append(ir.Edge(previous, "output"))
    graph = ir.Graph(nodes, edges, dt=DT)
    low = lower(graph)
    assert all(r["reset_rounding_max"] == 0 and r["bias_rounding_max"] == 0 for r in low.offsets.values())
    with tempfile.TemporaryDirectory() as tmp:
        out = compile_graph(graph, f"{tmp}/out")
        x = spikes(rng, 1, steps, n_in, density=0.4)
        gold = run(out, x, "golden", record_state=True)
    expected = _lava_lif_reference(x[0].astype(bool), layers, steps)
    assert expected[0][0].any(), "the first layer must spike"
    for k, (fired, v) in enumerate(expected):
        np.testing.assert_array_equal(gold.spikes[f"lif{k}"][0], fired)
        np.testing.assert_array_equal(gold.states[f"lif{k}"]["v"][0], v)


def test_golden_computes_from_the_ir_not_from_the_emitted_files(tmp_path):
    rng = np.random.default_rng(2)
    out = compile_graph(two_layer(rng), tmp_path / "out")
    x = spikes(rng, 2, 30, 12)
    before = run(out, x, "golden")
    params = tmp_path / "out" / "loihi2" / "params.npz"
    with np.load(params) as data:
        arrays = {k: data[k] * 0 if k.endswith(".weights") else data[k] for k in data.files}
    np.savez(params, **arrays)
    after = run(out, x, "golden")
    assert before.spikes["hidden"].sum() > 10
    for name in ("hidden", "out"):
        np.testing.assert_array_equal(after.spikes[name], before.spikes[name])


def test_offsets_beyond_lava_formats_and_negative_cuba_thresholds_are_reported():
    wide = if_neuron(np.array([60000, -60000, 0]))        # reset correction 120000 > 255 << 7
    graph = ir.Graph.sequential(ir.Input(shape=(2,)), synapse(np.ones((3, 2), int)), wide, names=["in", "fc", "wide"],
                                dt=DT)
    with pytest.raises(SnnccError) as info:
        lower(graph)
    assert [(d.code, d.node) for d in info.value.diagnostics] == [("SNN437", "wide")]
    assert "reset correction" in info.value.diagnostics[0].message
    cuba = cuba_neuron(100, d_syn=800, dv=200, n=2).replace(v_threshold=np.array([100, -20]) * SCALE)
    graph = ir.Graph.sequential(ir.Input(shape=(2,)), synapse(np.ones((2, 2), int)), cuba, names=["in", "fc", "cuba"],
                                dt=DT)
    with pytest.raises(SnnccError) as info:
        lower(graph)
    (diag,) = info.value.diagnostics
    assert diag.code == "SNN437" and diag.node == "cuba" and "CubaLIF" in diag.message
