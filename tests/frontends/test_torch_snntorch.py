"""snnTorch Leaky / Synaptic / RLeaky / RSynaptic -> IR: the reference simulation of the
imported graph reproduces snnTorch's own forward pass spike for spike (random weights
and inputs), every reset mode including the delayed zero reset (a refractory step);
approximated resets are flagged; inconsistent modules are refused."""
from __future__ import annotations

import pytest
import snntorch as snt
import torch
from frontend_kit import linear, random_case, run_snntorch
from snntorch import utils as snt_utils
from torch import nn

from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.frontends.library_neurons import APPROXIMATION
from snncc.frontends.torch_layers import module_to_graph
from snncc.runtime import simulate


def leaky(reset, delay=True):
    return nn.Sequential(
        linear(20, 120), snt.Leaky(beta=0.8, threshold=0.7, reset_mechanism=reset, reset_delay=delay, init_hidden=True),
        linear(120, 60), snt.Leaky(beta=torch.rand(60) * 0.5 + 0.4, threshold=0.5, reset_mechanism=reset,
                                   reset_delay=delay, init_hidden=True),
    )


def synaptic(reset, delay=True):
    return nn.Sequential(
        linear(20, 120), snt.Synaptic(alpha=0.6, beta=0.8, threshold=0.7, reset_mechanism=reset, reset_delay=delay,
                                      init_hidden=True),
        linear(120, 60), snt.Synaptic(alpha=torch.rand(60) * 0.5, beta=0.7, threshold=1.0, reset_mechanism=reset,
                                      reset_delay=delay, init_hidden=True),
    )


def recurrent(reset):
    return nn.Sequential(
        linear(20, 100), snt.RLeaky(beta=0.8, threshold=0.7, linear_features=100, reset_mechanism=reset, init_hidden=True),
        linear(100, 80), snt.RSynaptic(alpha=0.6, beta=0.8, threshold=0.7, linear_features=80, reset_mechanism=reset,
                                       init_hidden=True),
        linear(80, 40), snt.RLeaky(beta=0.7, V=torch.rand(40) - 0.5, all_to_all=False, reset_mechanism=reset,
                                   init_hidden=True),
        linear(40, 30), snt.RSynaptic(alpha=0.5, beta=0.7, V=0.3, all_to_all=False, reset_mechanism=reset, init_hidden=True),
    )


def convolutional():
    return nn.Sequential(
        nn.Conv2d(2, 4, 3, padding=1), snt.Leaky(beta=0.8, threshold=0.5, init_hidden=True),
        nn.Conv2d(4, 4, 3, padding=1), snt.RLeaky(beta=0.8, conv2d_channels=4, kernel_size=3, threshold=0.5,
                                                  init_hidden=True),
        nn.Flatten(), linear(4 * 6 * 6, 20, 3.0), snt.Synaptic(alpha=0.5, beta=0.8, init_hidden=True),
    )


def graded():
    return nn.Sequential(linear(20, 100), snt.Leaky(beta=0.8, threshold=0.7, graded_spikes_factor=2.0, init_hidden=True),
                         linear(100, 30, 1.0), snt.Leaky(beta=0.7, graded_spikes_factor=0.5, init_hidden=True))


EXACT = {
    "leaky-zero": (lambda: leaky("zero"), (20,)),
    "leaky-subtract": (lambda: leaky("subtract"), (20,)),
    "leaky-none": (lambda: leaky("none"), (20,)),
    "leaky-zero-immediate": (lambda: leaky("zero", delay=False), (20,)),
    "integrator-subtract": (lambda: nn.Sequential(linear(20, 120), snt.Leaky(beta=1.0, threshold=3.0, init_hidden=True),
                                                  linear(120, 60, 3.0), snt.Leaky(beta=1.0, threshold=1.0, init_hidden=True)),
                            (20,)),
    "synaptic-zero": (lambda: synaptic("zero"), (20,)),
    "synaptic-subtract": (lambda: synaptic("subtract"), (20,)),
    "synaptic-none": (lambda: synaptic("none"), (20,)),
    "synaptic-zero-immediate": (lambda: synaptic("zero", delay=False), (20,)),
    "recurrent-zero": (lambda: recurrent("zero"), (20,)),
    "recurrent-subtract": (lambda: recurrent("subtract"), (20,)),
    "recurrent-none": (lambda: recurrent("none"), (20,)),
    "conv": (convolutional, (2, 6, 6)),
    "graded": (graded, (20,)),
}


@pytest.mark.parametrize("case", sorted(EXACT))
def test_graph_reproduces_snntorch(case, agreement):
    model, x, graph = random_case(*EXACT[case], seed=1)
    assert not any(APPROXIMATION in node.metadata for node in graph.nodes.values())
    fractions = agreement(graph, x, run_snntorch(model, x))
    assert all(f >= 0.999 for f in fractions.values()), fractions


def test_immediate_subtraction_is_flagged(agreement):
    """snnTorch's immediate subtraction differs from every IR reset: the graph carries a note
    and the spike trains really differ."""
    model, x, graph = random_case(lambda: leaky("subtract", delay=False), (20,), seed=1)
    flagged = {name for name, node in graph.items_of(ir.SpikingNeuron) if APPROXIMATION in node.metadata}
    fractions = agreement(graph, x, run_snntorch(model, x))
    assert flagged == set(fractions)  # every layer
    assert min(fractions.values()) < 0.999, fractions


def test_delayed_zero_reset_below_a_negative_threshold_is_flagged():
    """With a threshold below 0, snnTorch's membrane held at 0 after a spike fires again (and
    so on for ever); the IR's refractory step cannot spike: flagged, and the trains differ."""
    model, x, graph = random_case(lambda: nn.Sequential(linear(20, 60), snt.Synaptic(
        alpha=0.5, beta=0.8, threshold=-0.2, reset_mechanism="zero", init_hidden=True)), (20,), seed=1)
    [(name, neuron)] = list(graph.items_of(ir.SpikingNeuron))
    assert "negative threshold" in neuron.metadata[APPROXIMATION]
    [theirs] = run_snntorch(model, x)
    ours = simulate(graph, x.double(), dtype=torch.float64).spikes[name]
    assert float((ours == (theirs != 0).double()).double().mean()) < 0.5


def run_snntorch_states(model: nn.Module, x: torch.Tensor) -> dict[str, list[torch.Tensor]]:
    """snnTorch's spk, mem (and syn) of the last neuron layer per step, in float32 as it computes."""
    neuron = [m for m in model.modules() if isinstance(m, snt.SpikingNeuron)][-1]
    trace = {"spk": [], "mem": [], "syn": []}
    snt_utils.reset(model)
    with torch.no_grad():
        for t in range(x.shape[1]):
            trace["spk"].append(model(x[:, t]))
            trace["mem"].append(neuron.mem.clone())
            if hasattr(neuron, "syn"):
                trace["syn"].append(neuron.syn.clone())
    return {k: torch.stack(v, 1).double() for k, v in trace.items() if v}


@pytest.mark.parametrize("layer", ["synaptic", "rsynaptic", "rleaky"])
def test_delayed_zero_reset_is_reset_to_zero_plus_one_refractory_step(layer):
    """snnTorch leaves the membrane above threshold in the spike step and forces it to 0 in the
    next, dropping that step's input (and bias) while syn keeps integrating. The IR resets to 0
    at once and holds it one step: membranes agree everywhere except in spike steps (IR: the
    post-reset 0, snnTorch: the pre-reset value), the synaptic currents everywhere."""
    make = {"synaptic": lambda: snt.Synaptic(alpha=0.6, beta=0.8, threshold=0.7, reset_mechanism="zero",
                                             init_hidden=True),
            "rsynaptic": lambda: snt.RSynaptic(alpha=0.6, beta=0.8, threshold=0.7, linear_features=40,
                                               reset_mechanism="zero", init_hidden=True),
            "rleaky": lambda: snt.RLeaky(beta=0.8, threshold=0.7, linear_features=40, reset_mechanism="zero",
                                         init_hidden=True)}[layer]
    model, x, graph = random_case(lambda: nn.Sequential(linear(20, 40), make()), (20,), seed=3)
    [(name, neuron)] = list(graph.items_of(ir.SpikingNeuron))
    assert neuron.refractory == 1 and neuron.reset is ir.ResetMode.VALUE and APPROXIMATION not in neuron.metadata
    theirs = run_snntorch_states(model, x)
    ours = simulate(graph, x.double(), dtype=torch.float64)
    spikes, v = ours.spikes[name], ours.states[name]["v"]
    assert 0.05 < float(spikes.mean()) < 0.5
    assert torch.equal(spikes, (theirs["spk"] != 0).double())
    fired = spikes.bool()
    assert torch.all(v[fired] == 0) and torch.all(theirs["mem"][fired] > 0.7)
    assert torch.allclose(v[~fired], theirs["mem"][~fired], atol=1e-5)
    held = torch.zeros_like(fired)
    held[:, 1:] = fired[:, :-1]
    assert torch.all(theirs["mem"][held] == 0) and torch.all(v[held] == 0)
    if "syn" in theirs:
        assert torch.allclose(ours.states[name]["i"], theirs["syn"], atol=1e-5)
        assert float(theirs["syn"][held].abs().max()) > 0.1  # the held step keeps its current


def test_delayed_subtract_reset_is_subtraction_plus_a_correction_loop():
    """snnTorch subtracts thr one step late; the IR subtracts at once and the decay leaves beta * thr,
    so a loop adds the missing -(1 - beta) thr. Targets that reset by subtraction keep that reset."""
    graph = module_to_graph(nn.Sequential(nn.Linear(3, 5), snt.Leaky(beta=0.75, threshold=0.5, init_hidden=True)), (3,))
    neuron = graph.nodes["lif_1"]
    assert neuron.reset is ir.ResetMode.SUBTRACT and neuron.comparator is ir.Comparator.GT
    [loop] = [graph.nodes[e.src] for e in graph.incoming("lif_1") if e.src != "affine_0"]
    assert isinstance(loop, ir.Scale) and (loop.scale == -0.125).all()
    integrator = module_to_graph(nn.Sequential(nn.Linear(3, 5), snt.Leaky(beta=1.0, init_hidden=True)), (3,))
    assert [n.kind for n in integrator.nodes.values()] == ["Input", "Affine", "IF", "Output"]  # no decay, no loop


def test_state_dict_reset_that_the_module_does_not_use_is_refused():
    """snnTorch binds the reset at construction; a loaded reset_mechanism_val does not change it."""
    model = nn.Sequential(nn.Linear(3, 5), snt.Synaptic(alpha=0.5, beta=0.5, init_hidden=True))  # subtract
    state = model.state_dict()
    state["1.reset_mechanism_val"] = torch.tensor(1)  # "zero"
    model.load_state_dict(state)
    with pytest.raises(SnnccError) as err:
        module_to_graph(model, (3,))
    [diag] = err.value.diagnostics
    assert diag.code == "SNN110" and diag.node == "1" and "'zero'" in diag.message and "reset_mechanism='zero'" in diag.hint


def test_inhibition_is_refused_with_position():
    model = nn.Sequential(nn.Linear(3, 5), snt.Leaky(beta=0.5, inhibition=True, init_hidden=True))
    with pytest.raises(SnnccError) as err:
        module_to_graph(model, (3,))
    assert err.value.diagnostics[0].code == "SNN110" and "inhibition" in err.value.diagnostics[0].message
    assert "position '1'" in err.value.diagnostics[0].message
