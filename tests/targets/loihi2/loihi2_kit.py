"""Hand-built graphs in canonical integer form (docs/lowering-contract.md section 3),
as discretize + quantize leave them for loihi2: per-step input gain 1, decays
1 - dv/4096, every value an integer times a power-of-two scale (so the float reference
simulator computes the integer network exactly wherever no decay truncates)."""
from __future__ import annotations

import numpy as np

from snncc import ir

DT = 1e-3
SCALE = 2.0**-8  # state scale s: the integer state is v / s


def quant_neuron(scale: float = SCALE) -> ir.Quantization:
    return ir.Quantization({}, {"state_scale": scale})


def synapse(w_int, exp: int = 0, scale: float = SCALE, bias_int=None) -> ir.Affine:
    w = np.asarray(w_int, dtype=np.float64)
    unit = scale * 2.0**exp
    bias = np.zeros(w.shape[0]) if bias_int is None else np.asarray(bias_int, float) * scale / 64
    params = {"weight": ir.IntParam(w.astype(np.int64), unit, 8)}
    return ir.Affine(weight=w * unit, bias=bias, quant=ir.Quantization(params, {"weight_exp": exp}))


def if_neuron(theta_int, n: int | None = None, scale: float = SCALE, bias_int=None, **kw) -> ir.IF:
    theta = np.broadcast_to(np.asarray(theta_int, float), (n,) if n else np.shape(theta_int)).copy()
    size = theta.size
    bias = None if bias_int is None else np.asarray(bias_int, float) * scale / 64
    return ir.IF(r=np.ones(size), v_threshold=theta * scale, v_reset=np.zeros(size), bias=bias,
                 quant=quant_neuron(scale), **kw)


def lif_neuron(theta_int, dv, n: int, scale: float = SCALE, bias_int=None, **kw) -> ir.LIF:
    tau = np.full(n, DT * 4096 / np.asarray(dv, float))
    bias = None if bias_int is None else np.asarray(bias_int, float) * scale / 64
    return ir.LIF(tau=tau, r=tau / DT, v_leak=np.zeros(n), v_threshold=np.full(n, theta_int * scale),
                  v_reset=np.zeros(n), bias=bias, quant=quant_neuron(scale), **kw)


def spikes(rng, batch: int, steps: int, n: int, density: float = 0.3) -> np.ndarray:
    return (rng.random((batch, steps, n)) < density).astype(np.float32)


def two_layer(rng, n_in=12, n_hid=20, n_out=6, recurrent=True, delay_steps=0, hidden=None) -> ir.Graph:
    """input -> fc1 -> hidden (IF, self-recurrent) -> [delay] -> fc2 -> out (IF)."""
    nodes = {"input": ir.Input(shape=(n_in,)),
             "fc1": synapse(rng.integers(-128, 128, (n_hid, n_in)), exp=1, bias_int=rng.integers(-300, 300, n_hid)),
             "hidden": hidden or if_neuron(rng.integers(200, 400, n_hid) * 0 + 300, n_hid),
             "fc2": synapse(rng.integers(-128, 128, (n_out, n_hid)), exp=0),
             "out": if_neuron(150, n_out),
             "output": ir.Output(shape=(n_out,))}
    edges = [ir.Edge("input", "fc1"), ir.Edge("fc1", "hidden"), ir.Edge("out", "output")]
    if delay_steps:
        nodes["delay"] = ir.Delay(delay=np.full(n_hid, delay_steps * DT))
        edges += [ir.Edge("hidden", "delay"), ir.Edge("delay", "fc2"), ir.Edge("fc2", "out")]
    else:
        edges += [ir.Edge("hidden", "fc2"), ir.Edge("fc2", "out")]
    if recurrent:
        nodes["rec"] = synapse(rng.integers(-60, 60, (n_hid, n_hid)), exp=0)
        edges += [ir.Edge("hidden", "rec"), ir.Edge("rec", "hidden")]
    return ir.Graph(nodes, edges, dt=DT)


def cuba_neuron(theta_int, d_syn, dv, n: int, scale: float = SCALE) -> ir.CubaLIF:
    """Current decay 1 - d_syn/4096 (Lava du = d_syn - 1), membrane decay 1 - dv/4096."""
    tau_syn, tau_mem = np.full(n, DT * 4096 / d_syn), np.full(n, DT * 4096 / dv)
    return ir.CubaLIF(tau_syn=tau_syn, tau_mem=tau_mem, r=tau_mem / DT, v_leak=np.zeros(n),
                      v_threshold=np.full(n, theta_int * scale), v_reset=np.zeros(n), w_in=tau_syn / DT,
                      quant=quant_neuron(scale))


def compile_graph(graph: ir.Graph, out) -> str:
    """Emit ``graph`` (already canonical) for loihi2 with no passes; returns the directory."""
    from snncc.compiler import compile as compile_model

    compile_model(graph, "loihi2", pipeline=[], out_dir=str(out))
    return str(out)
