"""snnTorch architecture of the NIR paper's Braille reading SRNN (03_rnn), for its state dicts:

    snncc compile nir-paper/03_rnn/data/model_noDelay_noBias_ref_subtract.pt \
        --arch examples/braille/arch.py:nobias_subtract --target reference
    snncc compile nir-paper/03_rnn/data/model_noDelay_bias_ref_zero.pt \
        --arch examples/braille/arch.py:bias_zero --target reference

12 taxel inputs -> Linear -> RSynaptic (recurrent Linear) -> Linear -> Synaptic (7 letters),
layer names fc1, lif1, fc2, lif2 as in the state dicts. The reset is fixed when snnTorch
builds a neuron (a loaded reset_mechanism_val does not change it), so each file has its
own factory. alpha, beta and thresholds come from the state dict; dt = 1e-4 s as in the paper.
"""
from __future__ import annotations

from collections import OrderedDict

import snntorch as snn
from torch import nn

INPUTS, OUTPUTS, DT = 12, 7, 1e-4


def _build(hidden: int, bias: bool, reset: str) -> nn.Module:
    lif1 = snn.RSynaptic(alpha=0.5, beta=0.5, linear_features=hidden, reset_mechanism=reset, init_hidden=True)
    lif1.recurrent = nn.Linear(hidden, hidden, bias=bias)
    model = nn.Sequential(OrderedDict(
        fc1=nn.Linear(INPUTS, hidden, bias=bias),
        lif1=lif1,
        fc2=nn.Linear(hidden, OUTPUTS, bias=bias),
        lif2=snn.Synaptic(alpha=0.5, beta=0.5, reset_mechanism=reset, init_hidden=True),
    ))
    model.dt, model.input_shape = DT, (INPUTS,)
    return model


def bias_zero() -> nn.Module:
    """model_noDelay_bias_ref_zero.pt: 38 hidden neurons, biases, reset to zero."""
    return _build(38, bias=True, reset="zero")


def nobias_subtract() -> nn.Module:
    """model_noDelay_noBias_ref_subtract.pt: 40 hidden neurons, no biases, reset by subtraction."""
    return _build(40, bias=False, reset="subtract")
