"""rockpool LIFTorch / LIFBitshiftTorch / LinearTorch in rockpool's Sequential -> IR: the
reference simulation of the imported graph reproduces rockpool's own forward pass, biases
and recurrent weights included; multi-spike neurons are refused; state dicts load with --arch."""
from __future__ import annotations

import snncc.frontends.torch_rockpool  # noqa: F401 - first: keeps rockpool from pip-installing samna

import pytest
import torch
from frontend_kit import random_spikes
from rockpool.nn.combinators import Sequential
from rockpool.nn.modules import LIFBitshiftTorch, LIFTorch, LinearTorch
from torch import nn

from snncc import ir
from snncc.diagnostics import SnnccError
from snncc.frontends.torch_file import load_with_options
from snncc.frontends.torch_layers import module_to_graph
from snncc.loading import LoadOptions

ARCH = '''
import snncc.frontends.torch_rockpool
import torch
from frontend_kit import random_spikes
from rockpool.nn.combinators import Sequential
from rockpool.nn.modules import LIFTorch, LinearTorch

def build():
    model = Sequential(LinearTorch((20, 120), has_bias=True), LIFTorch(120, has_rec=True, max_spikes_per_dt=1, dt=1e-3),
                       torch.nn.Linear(120, 30), LIFTorch(30, max_spikes_per_dt=1, dt=1e-3))
    model.input_shape = (20,)
    return model
'''


def build(seed=0):
    torch.manual_seed(seed)
    n = 120
    return Sequential(
        LinearTorch((20, n), has_bias=True, weight_init_func=lambda s: torch.randn(s) * 0.6),
        LIFTorch(n, tau_mem=torch.rand(n) * 0.02 + 0.005, tau_syn=0.004, bias=torch.rand(n) * 0.05,
                 threshold=torch.rand(n) + 0.5, max_spikes_per_dt=1, has_rec=True, w_rec=torch.randn(n, n) * 0.1, dt=1e-3),
        nn.Linear(n, 60),
        LIFBitshiftTorch(60, tau_mem=0.01, tau_syn=0.003, max_spikes_per_dt=1, threshold=0.3, dt=1e-3),
        LinearTorch((60, 30), weight_init_func=lambda s: torch.randn(s) * 0.8),
        LIFTorch(30, leak_mode="decays", alpha=0.9, beta=0.6, max_spikes_per_dt=1, dt=1e-3),
    )


def run_rockpool(model, x) -> list[torch.Tensor]:
    model.reset_state()
    with torch.no_grad():
        _, _, record = model(x, record=True)
    return [record[f"{name}_output"] for name, m in nn.Module.named_children(model) if isinstance(m, LIFTorch)]


def test_graph_reproduces_rockpool(agreement):
    model = build()
    x = random_spikes((20,))
    graph = module_to_graph(model, (20,), dt=1e-3)
    fractions = agreement(graph, x, run_rockpool(model, x))
    assert all(f == 1.0 for f in fractions.values()), fractions
    neuron = graph.nodes["cubalif_1_LIFTorch"]
    # rockpool's bias reaches the IR (its own NIR export drops it), '>=' and subtractive reset
    torch.testing.assert_close(torch.tensor(neuron.bias), model[1].bias.double())
    assert neuron.comparator is ir.Comparator.GE and neuron.reset is ir.ResetMode.SUBTRACT


def test_multi_spike_neurons_are_refused():
    model = Sequential(LinearTorch((4, 3)), LIFTorch(3))  # default: up to 2**16 spikes per step
    with pytest.raises(SnnccError) as err:
        module_to_graph(model, (4,))
    [diag] = err.value.diagnostics
    assert diag.code == "SNN110" and "position '1_LIFTorch'" in diag.message and "max_spikes_per_dt" in diag.hint


def test_state_dict_loads_with_arch(tmp_path, agreement):
    arch = tmp_path / "arch.py"
    arch.write_text(ARCH)
    namespace: dict = {}
    exec(ARCH, namespace)  # noqa: S102 - the same factory the loader runs
    torch.manual_seed(3)
    model = namespace["build"]()
    with torch.no_grad():
        model[1].threshold.fill_(0.3)
    torch.save(model.state_dict(), tmp_path / "model.pt")
    graph = load_with_options(str(tmp_path / "model.pt"), LoadOptions(arch=f"{arch}:build")).graph
    assert graph.dt == 1e-3  # the layers' own dt
    x = random_spikes((20,))
    fractions = agreement(graph, x, run_rockpool(model, x))
    assert all(f == 1.0 for f in fractions.values()), fractions
