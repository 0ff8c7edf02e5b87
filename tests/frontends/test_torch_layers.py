"""torch layers -> IR: the extracted graph, run by the reference simulator, reproduces
the snncc.nn forward pass (float64) spike for spike; parameter mapping; SNN110 errors."""
import numpy as np
import pytest
import torch
from torch import nn

import snncc.nn as snn
from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.frontends.torch_layers import CONVERTERS, module_to_graph, register_converter
from snncc.runtime import simulate


def _randomise_norms(model, seed=0):
    """Random eval statistics and affine parameters for every BN and MPBN layer."""
    g = torch.Generator().manual_seed(seed)
    u = lambda shape, lo, hi: torch.rand(shape, generator=g) * (hi - lo) + lo  # noqa: E731
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d, snn.MPBNLIF)):
                weight, bias = (m.bn_weight, m.bn_bias) if isinstance(m, snn.MPBNLIF) else (m.weight, m.bias)
                m.running_mean.copy_(u(m.running_mean.shape, -0.3, 0.3))
                m.running_var.copy_(u(m.running_var.shape, 0.5, 2.0))
                weight.copy_(u(weight.shape, 0.5, 1.5))
                bias.copy_(u(bias.shape, -0.3, 0.3))
    return model


def mlp(reset):
    return snn.Sequential(
        nn.Linear(10, 24), snn.LIF(beta=0.85, threshold=0.8, reset=reset),
        nn.Sequential(nn.Dropout(0.5), nn.Linear(24, 16, bias=False)), nn.BatchNorm1d(16),
        snn.CubaLIF(alpha=0.6, beta=0.9, threshold=0.5, reset=reset),
        nn.Linear(16, 12), snn.MPBNLIF(12, beta=0.7, threshold=0.5, mode="element", reset=reset),
        nn.Identity(), nn.Linear(12, 6), snn.MPBNLIF(6, beta=0.8, threshold=0.3, mode="channel", reset=reset),
    )


def cnn(reset):
    return snn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm2d(4),
        snn.MPBNLIF(4, beta=0.8, threshold=0.5, mode="channel", reset=reset),
        nn.AvgPool2d(2), nn.Conv2d(4, 6, 3, stride=1, padding="same"),
        snn.MPBNLIF((6, 4, 4), beta=0.6, threshold=0.5, mode="element", reset=reset),
        nn.Flatten(), nn.Linear(96, 10), snn.LIF(beta=0.9, threshold=0.5, reset=reset),
    )


def cnn1d(reset):
    return snn.Sequential(
        nn.Conv1d(3, 5, 3, stride=2), nn.BatchNorm1d(5), snn.CubaLIF(alpha=0.5, beta=0.75, threshold=0.4, reset=reset),
        nn.Flatten(), nn.Linear(5 * 7, 4), snn.LIF(beta=0.5, threshold=0.3, reset=reset),
    )


CASES = {"mlp": (mlp, (10,)), "cnn": (cnn, (2, 8, 8)), "cnn1d": (cnn1d, (3, 16))}


@pytest.mark.parametrize("reset", ["zero", "subtract"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_simulated_graph_matches_module(case, reset):
    factory, shape = CASES[case]
    torch.manual_seed(0)
    model = _randomise_norms(factory(reset)).eval().double()
    x = torch.rand(4, 12, *shape, dtype=torch.float64) * 2.0
    graph = module_to_graph(model, shape, dt=1e-3)
    assert not [d for d in ir.verify(graph) if d.severity.value == "error"]
    with torch.no_grad():
        out, traces = model.run(x)
    result = simulate(graph, x, dtype=torch.float64)
    neurons = {node.metadata["torch_path"]: name for name, node in graph.items_of(ir.SpikingNeuron)}
    assert sorted(neurons) == sorted(traces)
    for path, name in neurons.items():
        spikes = result.spikes[name]
        assert torch.equal(spikes, traces[path]["spikes"]), f"{case}/{reset}: spikes differ at layer {path}"
        assert 0.01 < float(spikes.mean()) < 0.99, f"layer {path} is (nearly) silent or saturated"
        for state in graph.nodes[name].state_names:
            torch.testing.assert_close(result.states[name][state], traces[path][state], rtol=1e-9, atol=1e-9)
    assert torch.equal(result.output, out)


def test_parameter_mapping():
    model = snn.Sequential(
        nn.Linear(3, 4, bias=False), snn.LIF(beta=0.75, threshold=0.5, reset="subtract"),
        nn.Linear(4, 2), snn.CubaLIF(alpha=0.5, beta=0.75, threshold=2.0),
        nn.Linear(2, 2), snn.MPBNLIF(2, beta=0.5, mode="channel"),
        nn.Linear(2, 2), snn.LIF(beta=1.0),
    )
    g = module_to_graph(model, (3,), dt=1e-3)
    assert [n.kind for n in g.nodes.values()] == [
        "Input", "Affine", "LIF", "Affine", "CubaLIF", "Affine", "LIF", "Affine", "IF", "Output"]
    affine = g.nodes["affine_0"]
    np.testing.assert_array_equal(affine.bias, np.zeros(4))
    np.testing.assert_array_equal(affine.weight, model[0].weight.detach().double().numpy())
    lif = g.nodes["lif_1"]
    np.testing.assert_allclose(lif.tau, np.full(4, 4e-3))  # dt / (1 - 0.75)
    np.testing.assert_allclose(lif.r, np.full(4, 4.0))
    np.testing.assert_array_equal(lif.v_leak, np.zeros(4))
    np.testing.assert_array_equal(lif.v_threshold, np.full(4, 0.5))
    assert lif.reset is ir.ResetMode.SUBTRACT and lif.comparator is ir.Comparator.GT and lif.membrane_bn is None
    cuba = g.nodes["cubalif_3"]
    np.testing.assert_allclose(cuba.tau_syn, np.full(2, 2e-3))
    np.testing.assert_allclose(cuba.w_in, np.full(2, 2.0))
    np.testing.assert_allclose(cuba.tau_mem, np.full(2, 4e-3))
    np.testing.assert_allclose(cuba.r, np.full(2, 4.0))
    assert cuba.reset is ir.ResetMode.VALUE
    np.testing.assert_array_equal(cuba.v_reset, np.zeros(2))
    mpbn = g.nodes["lif_5"]
    assert mpbn.membrane_bn is not None and mpbn.membrane_bn.mean.shape == (2,)
    np.testing.assert_allclose(mpbn.tau, np.full(2, 2e-3))
    assert g.nodes["if_7"].r.tolist() == [1.0, 1.0]
    assert g.dt == 1e-3 and g.nodes["output"].shape == (2,)


def test_neuron_arrays_have_the_full_neuron_shape():
    model = snn.Sequential(nn.Conv2d(1, 3, 3), snn.MPBNLIF(3, beta=0.5), nn.AvgPool2d(2), snn.LIF(0.9))
    g = module_to_graph(model, (1, 6, 6), dt=1e-4)
    assert g.nodes["lif_1"].tau.shape == (3, 4, 4) and g.nodes["lif_3"].v_threshold.shape == (3, 2, 2)
    assert g.nodes["lif_1"].membrane_bn.gamma.shape == (3,)
    np.testing.assert_allclose(g.nodes["lif_3"].tau, 1e-3, rtol=1e-6)  # 1e-4 / (1 - 0.9f)
    flat = module_to_graph(snn.Sequential(nn.Flatten(), nn.Linear(36, 2)), (1, 6, 6))
    assert (flat.nodes["flatten_0"].start_dim, flat.nodes["flatten_0"].end_dim) == (0, -1)
    partial = module_to_graph(nn.Sequential(nn.Flatten(2, 3)), (2, 3, 4))  # torch dims count the batch
    assert partial.nodes["flatten_0"].start_dim == 1 and partial.nodes["output"].shape == (2, 12)
    with pytest.raises(SnnccError, match="batch"):
        module_to_graph(nn.Sequential(nn.Flatten(-4)), (2, 3, 4))


def test_batchnorm_becomes_an_ir_node_with_eval_statistics():
    bn = _randomise_norms(nn.BatchNorm2d(3)).train()  # export must not depend on the mode
    g = module_to_graph(nn.Sequential(bn), (3, 2, 2))
    params = g.nodes["batchnorm_0"].params
    np.testing.assert_array_equal(params.mean, bn.running_mean.double().numpy())
    np.testing.assert_array_equal(params.var, bn.running_var.double().numpy())
    assert params.eps == bn.eps and bn.training


def test_unsupported_layers_are_all_reported_with_position():
    model = nn.Sequential(nn.Linear(4, 4), nn.LSTM(4, 4), nn.Sequential(snn.LIF(0.9), nn.MaxPool2d(2)))
    with pytest.raises(SnnccError) as err:
        module_to_graph(model, (4,))
    found = {(d.code, d.node) for d in err.value.diagnostics}
    assert found == {("SNN110", "1"), ("SNN110", "2.1")}
    text = str(err.value)
    assert "LSTM" in text and "MaxPool2d" in text and "'2.1'" in text and "AvgPool2d" in text
    assert all(d.hint for d in err.value.diagnostics)


def test_bad_layer_configuration_is_reported():
    with pytest.raises(SnnccError) as err:
        module_to_graph(nn.Sequential(nn.Linear(4, 2)), (2, 4))
    assert err.value.diagnostics[0].code == "SNN110" and "Flatten" in err.value.diagnostics[0].hint


def test_registry_accepts_new_layer_types():
    class Doubler(nn.Module):
        def forward(self, x):
            return 2 * x

    with pytest.raises(SnnccError):
        module_to_graph(nn.Sequential(Doubler()), (3,))

    @register_converter(Doubler)
    def _doubler(layer, ctx):
        return [ir.Scale(scale=np.full(ctx.input_shape, 2.0))]

    try:
        g = module_to_graph(nn.Sequential(nn.Linear(2, 3), Doubler(), snn.LIF(0.5)), (2,))
        assert [n.kind for n in g.nodes.values()] == ["Input", "Affine", "Scale", "LIF", "Output"]
    finally:
        del CONVERTERS[Doubler]


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("reset", ["zero", "subtract"])
def test_mpbn_with_mixed_sign_gammas_matches(seed, reset):
    # Negative gamma flips the firing inequality; both sides must still agree spike for spike.
    torch.manual_seed(seed)
    model = snn.Sequential(nn.Linear(8, 20), snn.MPBNLIF(20, beta=0.9, threshold=0.2, mode="element", reset=reset))
    _randomise_norms(model, seed)
    with torch.no_grad():
        model[1].bn_weight.mul_(torch.where(torch.arange(20) % 3 == 0, -1.0, 1.0))
    model = model.eval().double()
    x = torch.randn(3, 15, 8, dtype=torch.float64)
    with torch.no_grad():
        _, traces = model.run(x)
    result = simulate(module_to_graph(model, (8,)), x)
    assert torch.equal(result.spikes["lif_1"], traces["1"]["spikes"])
    assert 0.01 < float(traces["1"]["spikes"].mean()) < 0.99
    torch.testing.assert_close(result.states["lif_1"]["v"], traces["1"]["v"], rtol=1e-9, atol=1e-9)
