"""discretize: the per-step canonical form (gain 1, v_leak in bias, realised decays).

"float" must be exact (0 spike mismatches, same membrane); the rounded formats must give
the decays computed by hand here and run as an independent numpy model with those decays."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fold_netkit import DT, chain, compare, layer, neuron, out_shape, per_channel_params, spikes_in
from snncc import ir
from snncc.diagnostics import Severity, SnnccError
from snncc.lowering import layer_graph
from snncc.passbase import PassContext
from snncc.passes.discretize import Discretize
from snncc.runtime import simulate
from snncc.target import Capabilities

PROPERTY = settings(max_examples=25, deadline=None, derandomize=True)
FRACTION = {"kind": "fraction", "bits": 12}
SHIFT = {"kind": "shift", "max": 15}


def ctx(fmt="float"):
    return PassContext(Capabilities("t", extra={"decay_format": fmt}))


def run(graph, fmt="float"):
    context = ctx(fmt)
    return Discretize().run(graph, context), context


def assert_canonical(node, dt=DT):
    """Gain 1 and no v_leak, read off the parameters as the reference simulator uses them."""
    if isinstance(node, ir.IF):
        np.testing.assert_array_equal(node.r, 1.0)
        return
    tau = node.tau_mem if isinstance(node, ir.CubaLIF) else node.tau
    np.testing.assert_allclose(dt / tau * node.r, 1.0, rtol=1e-12)
    np.testing.assert_array_equal(node.v_leak, 0.0)
    if isinstance(node, ir.CubaLIF):
        np.testing.assert_allclose(dt / node.tau_syn * node.w_in, 1.0, rtol=1e-12)


@PROPERTY
@given(seed=st.integers(0, 2**31 - 1), layer_kind=st.sampled_from(["affine", "linear", "conv1d", "conv2d"]),
       kind=st.sampled_from(["LIF", "IF", "CubaLIF"]), reset=st.sampled_from(["value", "subtract", "none"]),
       comparator=st.sampled_from([">", ">="]), bias=st.booleans())
def test_float_format_is_exact(seed, layer_kind, kind, reset, comparator, bias):
    rng = np.random.default_rng(seed)
    in_shape, weights = layer(layer_kind, rng)
    shape = out_shape(weights, in_shape)
    cell = neuron(kind, shape, rng, reset, comparator, bias=bias)
    if layer_kind.startswith("conv"):  # a conv takes one gain per channel: parameters per channel
        cell = per_channel_params(cell)
    graph = chain(("w", weights), ("cell", cell))
    result, _ = run(graph)
    new = result.graph.nodes["cell"]
    assert list(result.graph.nodes) == ["input", "w", "cell", "output"]  # the gain went into the weights
    assert_canonical(new)
    c = compare(graph, result.graph, spikes_in(in_shape, seed, p=0.5))
    assert c.mismatches == 0
    np.testing.assert_allclose(c.after.states["cell"]["v"], c.before.states["cell"]["v"], rtol=0, atol=1e-9)
    if kind == "CubaLIF":  # i' = g_v i with g_v = dt r / tau_mem
        g_v = DT / cell.tau_mem * cell.r
        np.testing.assert_allclose(c.after.states["cell"]["i"], g_v * c.before.states["cell"]["i"].numpy(),
                                   rtol=0, atol=1e-9)
    again = Discretize().run(result.graph, ctx())
    assert again.graph is result.graph and not again.modified


def _lif_net(rng, tau, n=6, n_in=5, reset="value"):
    w = ir.Affine(weight=rng.normal(0.3, 0.6, (n, n_in)), bias=rng.normal(0, 0.05, n))
    cell = ir.LIF(tau=np.full(n, tau), r=np.full(n, 2.0), v_leak=np.full(n, 0.1), v_threshold=np.full(n, 0.4),
                  v_reset=np.zeros(n), reset=reset)
    return chain(("w", w), ("cell", cell)), w, cell


def _numpy_lif(x, w, b, a, gain, drive, theta):
    """Independent per-step model: v = a v + gain (W x + b) + drive, spike v > theta, reset to 0."""
    v = np.zeros((x.shape[0], w.shape[0]))
    out = []
    for t in range(x.shape[1]):
        v = a * v + gain * (x[:, t] @ w.T + b) + drive
        s = v > theta
        v = np.where(s, 0.0, v)
        out.append(s)
    return np.stack(out, 1)


@pytest.mark.parametrize("fmt, tau, a", [
    (FRACTION, 5e-3, 1 - 819 / 4096),     # 4096 dt/tau = 819.2 -> dv = 819
    (FRACTION, 3e-3, 1 - 1365 / 4096),    # 1365.33 -> 1365
    (SHIFT, 13e-3, 1 - 2**-4),            # tau/dt = 13: 2^4 is 23 % off, 2^3 38 %
    (SHIFT, 10e-3, 1 - 2**-3),            # tau/dt = 10: 2^3 is 20 % off, 2^4 60 %
    ("float32", 7e-3, float(np.float32(1 - 1 / 7))),
])
def test_rounded_decay_runs_as_the_hand_computed_per_step_model(fmt, tau, a):
    rng = np.random.default_rng(3)
    graph, w, cell = _lif_net(rng, tau)
    result, context = run(graph, fmt)
    new = result.graph.nodes["cell"]
    assert_canonical(new)
    np.testing.assert_allclose(1 - DT / new.tau, a, rtol=0, atol=1e-15)
    report = context.reports["discretize"]["layers"]["cell"]["tau"]
    effective = DT / (1 - a)
    assert report["requested"] == pytest.approx(tau) and report["effective"] == pytest.approx(effective, rel=1e-12)
    assert report["rel_error"] == pytest.approx(abs(effective / tau - 1), rel=1e-9)
    x = spikes_in((5,), 3, p=0.5)
    gain = DT / tau * 2.0
    expected = _numpy_lif(x, w.weight, w.bias, a, gain, DT / tau * 0.1, 0.4)
    got = simulate(result.graph, x).spikes["cell"].numpy().astype(bool)
    assert expected.sum() > 10
    np.testing.assert_array_equal(got, expected)
    assert Discretize().run(result.graph, ctx(fmt)).graph is result.graph


def test_integer_decays_in_quant_extra():
    rng = np.random.default_rng(0)
    cuba = neuron("CubaLIF", (4,), rng).replace(tau_syn=np.full(4, 2e-3), tau_mem=np.full(4, 5e-3))
    graph = chain(("w", ir.Linear(weight=rng.normal(size=(4, 3)))), ("cuba", cuba),
                  ("w2", ir.Linear(weight=rng.normal(size=(2, 4)))), ("lif", neuron("LIF", (2,), rng).replace(tau=np.array([10e-3, 4e-3]))),
                  ("w3", ir.Linear(weight=rng.normal(size=(2, 2)))), ("if", neuron("IF", (2,), rng)))
    nodes = lambda fmt: run(graph, fmt)[0].graph.nodes  # noqa: E731
    extra = lambda fmt: {n: dict(q.extra) if (q := nodes(fmt)[n].quant) else {} for n in ("cuba", "lif", "if")}  # noqa: E731
    # current: Lava decays u by (du + 1) / 4096: 4096 * dt/tau_syn = 2048 -> du = 2047; no current: du = 4095;
    # per-neuron decays are a list: 409.6 -> 410, 1024
    assert extra(FRACTION) == {"cuba": {"dv": 819, "du": 2047}, "lif": {"dv": [410, 1024], "du": 4095},
                               "if": {"dv": 0, "du": 4095}}
    assert extra({"kind": "fraction", "bits": 12, "syn_offset": 0})["cuba"] == {"dv": 819, "du": 2048}
    shifts = extra(SHIFT)
    assert shifts["cuba"] == {"leak_shift": 2, "leak_shift_syn": 1} and shifts["lif"] == {"leak_shift": [3, 2]}
    assert shifts["if"] == {}
    alphas = extra("float32")
    assert alphas["cuba"] == {"alpha": float(np.float32(0.8)), "alpha_syn": 0.5} and alphas["if"] == {"alpha": 1.0}


def test_input_without_weights_gets_a_scale_and_recurrence_stays_a_back_edge():
    """Input -> LIF with a recurrent Linear: the feed-forward edge has no weight layer, so a
    Scale goes on every incoming edge; the recurrent projection is still the back edge."""
    rng = np.random.default_rng(1)
    n = 5
    cell = neuron("LIF", (n,), rng, "subtract").replace(v_threshold=np.full(n, 0.15))
    graph = ir.Graph(
        {"input": ir.Input(shape=(n,)), "cell": cell, "rec": ir.Linear(weight=rng.normal(0, 0.4, (n, n))),
         "output": ir.Output(shape=(n,))},
        (ir.Edge("input", "cell"), ir.Edge("cell", "rec"), ir.Edge("rec", "cell"), ir.Edge("cell", "output")), dt=DT)
    result, _ = run(graph)
    assert result.changes["gain_scale"] == ["cell_gain", "cell_gain1"]
    assert [p for p in layer_graph(result.graph).projections if p.src == "cell" and p.dst == "cell"][0].back
    c = compare(graph, result.graph, spikes_in((n,), 1, p=0.6))
    assert c.mismatches == 0 and c.spikes > 10
    assert Discretize().run(result.graph, ctx()).graph is result.graph


@pytest.mark.parametrize("kind", ["LI", "CubaLI", "I"])
def test_non_spiking_readout_keeps_its_output(kind):
    rng = np.random.default_rng(2)
    n = 4
    params = dict(tau=np.full(n, 8e-3), tau_mem=np.full(n, 8e-3), tau_syn=np.full(n, 3e-3), r=rng.uniform(0.5, 2, n),
                  v_leak=rng.uniform(-0.2, 0.2, n), w_in=rng.uniform(0.5, 2, n))
    cls = getattr(ir, kind)
    node = cls(**{k: v for k, v in params.items() if k in cls.array_fields})
    graph = chain(("w", ir.Affine(weight=rng.normal(size=(n, 3)), bias=rng.normal(0, 0.1, n))), ("out", node))
    for fmt in ("float", FRACTION):
        result, _ = run(graph, fmt)
        x = spikes_in((3,), 2, p=0.5)
        before, after = simulate(graph, x).output.numpy(), simulate(result.graph, x).output.numpy()
        if fmt == "float":
            np.testing.assert_allclose(after, before, rtol=0, atol=1e-9)
        else:  # 8 ms -> 4096/8 = 512 exactly; 3 ms -> 1365.33: the current decay moves slightly
            assert np.abs(after - before).max() < (1e-9 if kind != "CubaLI" else 0.05 * np.abs(before).max())


@pytest.mark.parametrize("fmt, tau, nearest, floor", [
    (FRACTION, 25e-3, 1 - 164 / 4096, 1 - 163 / 4096),   # 163.84: the NIR paper's converter kept 163
    (FRACTION, 3e-3, 1 - 1365 / 4096, 1 - 1365 / 4096),  # 1365.33 rounds down either way
    (SHIFT, 13e-3, 1 - 2**-4, 1 - 2**-4),                # 1/13 -> 2^-4 (2^-3 leaks more than asked)
    (SHIFT, 10e-3, 1 - 2**-3, 1 - 2**-4),                # 1/10: nearest 2^-3, floor 2^-4
])
def test_floor_rounding_never_leaks_more_than_asked_and_is_idempotent(fmt, tau, nearest, floor):
    graph, _, _ = _lif_net(np.random.default_rng(4), tau)
    for rounding, a in (("nearest", nearest), ("floor", floor)):
        context = ctx(fmt)
        result = Discretize(decay_rounding=rounding).run(graph, context)
        np.testing.assert_allclose(1 - DT / result.graph.nodes["cell"].tau, a, rtol=0, atol=1e-15)
        again = Discretize(decay_rounding=rounding).run(result.graph, ctx(fmt))
        assert again.graph is result.graph


def test_diagnostics():
    rng = np.random.default_rng(0)
    graph, _, cell = _lif_net(rng, 5e-3)
    with pytest.raises(SnnccError) as info:
        Discretize(decay_rounding="up").run(graph, ctx(FRACTION))
    assert [d.code for d in info.value.diagnostics] == ["SNN324"]
    with pytest.raises(SnnccError) as info:
        Discretize().run(graph.replace(dt=None), ctx())
    assert [d.code for d in info.value.diagnostics] == ["SNN322"]
    with pytest.raises(SnnccError) as info:
        Discretize().run(graph, ctx({"kind": "log"}))
    assert [d.code for d in info.value.diagnostics] == ["SNN320"]
    quantized = graph.with_node("cell", cell.replace(quant=ir.Quantization({"v_threshold": ir.IntParam([1], 0.4, 8)})))
    with pytest.raises(SnnccError) as info:
        Discretize().run(quantized, ctx())
    assert [(d.code, d.node) for d in info.value.diagnostics] == [("SNN323", "cell")]
    # tau = dt/2: forward Euler's decay is -1, a 12-bit fraction cannot go below 1/4096
    short, _, _ = _lif_net(rng, 0.5e-3)
    result, context = run(short, FRACTION)
    assert [(d.code, d.severity) for d in context.notes] == [("SNN321", Severity.WARNING)]
    assert result.graph.nodes["cell"].quant.extra["dv"] == 4095


@pytest.mark.parametrize("between", ["delay", "flatten"])
def test_gain_goes_through_private_delay_and_flatten(between):
    rng = np.random.default_rng(5)
    if between == "delay":
        w, n, in_shape = ir.Linear(weight=rng.normal(0.3, 0.8, (4, 3))), 4, (3,)
        middle = ir.Delay(delay=np.array([0, 1, 2, 3]) * DT)
    else:
        in_shape, w = layer("conv2d", rng)
        n = int(np.prod(out_shape(w, in_shape)))
        middle = ir.Flatten(start_dim=0, end_dim=-1, input_shape=out_shape(w, in_shape))
    cell = neuron("LIF", (n,), rng, "subtract").replace(tau=np.full(n, 4e-3), r=np.full(n, 3.0))
    graph = chain(("w", w), ("mid", middle), ("cell", cell))
    result, _ = run(graph)
    assert result.changes == {"discretized": ["cell"], "gain_into_weights": ["cell"]}
    np.testing.assert_allclose(result.graph.nodes["w"].weight, graph.nodes["w"].weight * DT / 4e-3 * 3.0, rtol=1e-12)
    c = compare(graph, result.graph, spikes_in(in_shape, 5, p=0.5))
    assert c.mismatches == 0 and c.spikes > 10
