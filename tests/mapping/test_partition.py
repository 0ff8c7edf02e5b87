"""Tiling: every limit holds on every core (checked against dense matrices), counts reach
the hand-derived lower bounds, and a network that cannot fit names every violated limit."""
import numpy as np
import pytest

from snncc.diagnostics import SnnccError
from snncc.ir import Affine, Conv2d, Edge, Graph, Input, Output
from snncc.lowering import layer_graph
from snncc.mapping import map_network, resolve_model
from snncc.mapping.synthetic import cnn, if_layer, mlp


def _dense_fan_in(graph, result):
    """Per placed tile: distinct source neurons, from the dense projection matrices."""
    layers = layer_graph(graph)
    out = {}
    for name, part in result.parts.items():
        mats = [layers.matrix(p) != 0 for p in layers.into(name)]
        labels = part.tiles.labels()
        out[name] = [sum(int(m[labels == i].any(axis=0).sum()) for m in mats) for i in range(len(part.tiles))]
    return out


@pytest.mark.parametrize("model", ["loihi2", "spinnaker2"])
def test_every_core_respects_its_limits(model):
    graph = cnn((3, 24, 24), [16, 16], dense=[40, 10], pool_every=1)
    m = resolve_model(model, {"input_axons": 2400} if model == "loihi2" else None)
    result = map_network(graph, m)
    fan_in = _dense_fan_in(graph, result)
    for name, part in result.parts.items():
        assert part.tiles.labels().min() >= 0  # every neuron on exactly one core
        assert part.usage.neurons.max() <= (256 if model == "spinnaker2" else 8192)
        assert np.array_equal(part.usage.fan_in, fan_in[name])
        for check in part.usage.checks:
            assert check.values.max() <= check.cap, (name, check.measure)
    if model == "loihi2":
        assert max(max(v) for v in fan_in.values()) <= 2400
        assert len(result.parts["lif1"].tiles) > 1  # 9,216 neurons > 8,192 per core


def test_neuron_bound_layer_reaches_the_neuron_lower_bound():
    # 8 x 13 x 13 = 1352 neurons: 6 PEs of <= 256 (runs of 29 positions x 8 channels);
    # row or column blocks would need 7
    rng = np.random.default_rng(0)
    nodes = {"in": Input(shape=(8, 13, 13)),
             "conv": Conv2d(weight=rng.normal(size=(8, 8, 3, 3)), bias=np.zeros(8), input_shape=(8, 13, 13),
                            padding=(1, 1)),
             "n": if_layer((8, 13, 13)), "out": Output(shape=(8, 13, 13))}
    graph = Graph(nodes, [Edge("in", "conv"), Edge("conv", "n"), Edge("n", "out")], dt=1e-3)
    result = map_network(graph, resolve_model("spinnaker2"))
    part = result.parts["n"]
    assert len(part.tiles) == 6 and part.lower_bound == 6
    assert part.usage.neurons.max() <= 256


def test_dense_layer_split_by_synaptic_memory_hand_count():
    # Loihi 2, 512 -> 256 dense, 8-bit: one core would need 512 x 256 B + 512 x 4 B axons
    # = 133,120 B > 128 KiB; two cores of 128 neurons need 65,536 + 2,048 = 67,584 B each
    result = map_network(mlp([512, 256]), resolve_model("loihi2"))
    part = result.parts["lif1"]
    assert len(part.tiles) == 2 and part.bounds["synaptic memory"] == 2
    assert part.usage.memory["weights"].tolist() == [65536, 65536]
    assert part.usage.memory["axons"].tolist() == [2048, 2048]


def test_receptive_field_bound_hand_value():
    # 3x3 'same' conv, 16 input channels, 4096 input axons: 16 (sqrt(q) + 2)^2 <= 4096 gives
    # q <= 196 positions per core; 62 x 62 unclipped positions need >= ceil(3844 / 196) = 20
    graph = cnn((16, 64, 64), [8])
    result = map_network(graph, resolve_model("loihi2"))
    part = result.parts["lif1"]
    assert part.bounds["input axons (receptive fields)"] == 20
    assert 20 <= len(part.tiles) <= 21


def test_unfit_network_lists_every_violated_limit():
    rng = np.random.default_rng(1)
    nodes = {
        "in": Input(shape=(5184,)),
        "fc1": Affine(weight=rng.normal(size=(10, 5184)), bias=np.zeros(10)), "wide": if_layer((10,)),
        "fc2": Affine(weight=rng.normal(size=(300, 10)), bias=np.zeros(300)), "mid": if_layer((300,)),
        "fc3": Affine(weight=rng.normal(size=(4, 300)), bias=np.zeros(4)), "heavy": if_layer((4,)),
        "out": Output(shape=(4,)),
    }
    chain = ["in", "fc1", "wide", "fc2", "mid", "fc3", "heavy", "out"]
    graph = Graph(nodes, [Edge(a, b) for a, b in zip(chain, chain[1:])], dt=1e-3)
    # 'heavy': one neuron's 300 synapses as dense rows of one 8-bit entry: 300 B, plus
    # 300 x 4 B of input axons = 1,500 B > 1,000 B (the sparse format, 300 x 21 bits, is larger)
    model = resolve_model("loihi2", {"synaptic_memory_bytes": 1000, "chips": 1, "cores_per_chip": 2,
                                     "mesh_shape": (2, 1)})
    with pytest.raises(SnnccError) as info:
        map_network(graph, model)
    messages = [d.render() for d in info.value.diagnostics]
    codes = [d.code for d in info.value.diagnostics]
    assert codes.count("SNN452") == 3 and codes.count("SNN453") == 1, messages
    wide = next(m for m in messages if "layer wide:" in m)
    assert "fan-in 5,184 > 4,096 input axons per core" in wide and "split the kernel or reduce channels" in wide
    assert any("layer wide: synaptic memory 25,920 > 1,000" in m for m in messages)  # 5,184 x (1 + 4) B
    assert any("layer heavy: synaptic memory 1,500 > 1,000 bytes per core" in m for m in messages)
    assert any("needs at least" in m and "has 2" in m for m in messages)
