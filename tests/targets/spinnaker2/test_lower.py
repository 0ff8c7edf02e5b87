"""Lowering IR -> S2 netlist on small graphs already in integer canonical form (integer
weights at state scale 1, ``r = tau/dt``): model choice, delays for skip connections,
comparator, readouts, core assignments, and every problem in one error. Where the
lowering claims exactness, the emulator must equal the reference simulator spike by spike.
"""
import numpy as np
import pytest

from snncc import ir
from snncc.compiler import compile as compile_model
from snncc.diagnostics import SnnccError
from snncc.runtime.backend import run
from snncc.targets.spinnaker2.emit import load

DT = 1e-3
RNG = np.random.default_rng(3)


def lif(shape, tau=4e-3, threshold=20.0, **kw):  # decay 1 - dt/tau = 0.75, exact in float32
    return ir.LIF(tau=np.full(shape, tau), r=np.full(shape, tau / DT), v_leak=np.zeros(shape),
                  v_threshold=np.full(shape, threshold), v_reset=np.zeros(shape), **kw)


def ints(n_out, n_in, low=-15, high=16):
    return RNG.integers(low, high, size=(n_out, n_in)).astype(float)


def graph(nodes, edges):
    edges = tuple(ir.Edge(a, b) for a, b in edges)
    return ir.Graph(nodes, edges, dt=DT).with_inferred_output_shapes()


def compiled(g, tmp_path, notes=None):
    out = tmp_path / "out"
    result = compile_model(g, "spinnaker2", pipeline="", out_dir=str(out))
    if notes is not None:
        notes.extend(result.manifest["reports"]["spinnaker2"]["notes"])
    return out, load(out)


def same_spikes(out, x):
    emu, ref = run(str(out), x, "spinnaker2-emu"), run(str(out), x, "reference")
    for name, spikes in ref.spikes.items():
        assert spikes.sum() > 0, name
        np.testing.assert_array_equal(emu.spikes[name], spikes, err_msg=name)
    return emu, ref


def test_skip_connection_uses_synaptic_delays(tmp_path):
    # x -> a -> b and x -> b: b runs two steps behind, so x -> b needs one extra step
    g = graph({"x": ir.Input(shape=(6,)), "wa": ir.Linear(weight=ints(5, 6, 0, 16)), "a": lif(5),
               "wb": ir.Linear(weight=ints(4, 5)), "skip": ir.Linear(weight=ints(4, 6, 0, 16)),
               "b": lif(4), "out": ir.Output()},
              [("x", "wa"), ("wa", "a"), ("a", "wb"), ("wb", "b"), ("x", "skip"), ("skip", "b"),
               ("b", "out")])
    out, spec = compiled(g, tmp_path)
    models = {p.name: p.neuron_model for p in spec.populations}
    assert models == {"x": "spike_list", "a": "lif_no_delay", "b": "lif"}
    delays = {j.name: int(j.delays.max()) for j in spec.projections}
    assert delays == {"x->a": 0, "a->b": 0, "x->b": 1}
    same_spikes(out, (RNG.random((3, 40, 6)) < 0.3).astype(np.float32))


def test_delay_node_and_conv_fallbacks(tmp_path):
    # a Delay node becomes synaptic delays; a conv into a CubaLIF (no lif_conv2d form)
    # and a dilated conv become dense integer matrices
    conv = ir.Conv2d(weight=RNG.integers(-8, 9, size=(2, 1, 3, 3)).astype(float), bias=np.zeros(2),
                     input_shape=(1, 6, 6), padding=(1, 1))
    dilated = conv.replace(dilation=(2, 2), padding=(2, 2))
    n = (2, 6, 6)
    cuba = ir.CubaLIF(tau_syn=np.full(n, 2e-3), tau_mem=np.full(n, 4e-3), r=np.full(n, 4.0),
                      v_leak=np.zeros(n), v_threshold=np.full(n, 30.0), v_reset=np.zeros(n),
                      w_in=np.full(n, 2.0))
    g = graph({"x": ir.Input(shape=(1, 6, 6)), "d": ir.Delay(delay=np.full((1, 6, 6), 2 * DT)),
               "c1": conv, "cuba": cuba, "c2": dilated, "plain": lif(n, threshold=12.0),
               "out": ir.Output()},
              [("x", "d"), ("d", "c1"), ("c1", "cuba"), ("cuba", "out"), ("x", "c2"),
               ("c2", "plain"), ("plain", "out")])
    out, spec = compiled(g, tmp_path)
    assert {p.name: p.neuron_model for p in spec.populations} == {
        "x": "spike_list", "cuba": "lif_curr_exp", "plain": "lif_no_delay"}
    assert {j.name: (j.kind, int(j.delays.max())) for j in spec.projections} == {
        "x->cuba": ("dense", 2), "x->plain": ("dense", 0)}
    x = (RNG.random((2, 30, 1, 6, 6)) < 0.4).astype(np.float32)
    emu, ref = same_spikes(out, x)
    np.testing.assert_array_equal(emu.output, ref.output)  # the sum of both layers' spikes


def test_conv_chain_with_sum_pool_becomes_a_conv2d_projection(tmp_path):
    conv = ir.Conv2d(weight=RNG.integers(-20, 21, size=(3, 2, 3, 3)).astype(float),
                     bias=np.full(3, 0.5), input_shape=(2, 4, 4), stride=(1, 1), padding=(1, 0))
    pool = ir.SumPool2d(kernel_size=(2, 2), stride=(2, 2))
    g = graph({"x": ir.Input(shape=(2, 8, 8)), "pool": pool,
               "conv": conv, "c": lif((3, 4, 2), threshold=15.0), "out": ir.Output()},
              [("x", "pool"), ("pool", "conv"), ("conv", "c"), ("c", "out")])
    notes = []
    out, spec = compiled(g, tmp_path, notes)
    (proj,) = spec.projections
    assert proj.kind == "conv2d" and spec.population("c").neuron_model == "lif_conv2d"
    conv_params = proj.conv
    assert (conv_params.pool_x, conv_params.pool_y, conv_params.pad_top,
            conv_params.pad_left) == (2, 2, 1, 0)
    np.testing.assert_array_equal(proj.weights, np.swapaxes(conv.weight, 0, 1))
    # the conv bias is a constant current, i_offset; it acts from tick 0, one step before
    # the layer's first reference step, so spikes are compared on a bias-free copy
    np.testing.assert_array_equal(spec.population("c").params.i_offset, np.full(24, 0.5))
    assert len(notes) == 1 and notes[0].startswith("note[SNN449] node 'c'")
    g0 = g.with_node("conv", conv.replace(bias=np.zeros(3)))
    out0, _ = compiled(g0, tmp_path / "nobias")
    same_spikes(out0, (RNG.random((2, 20, 2, 8, 8)) < 0.5).astype(np.float32))


def test_ge_comparator_is_exact_with_value_reset(tmp_path):
    # weight 5, threshold 10: v reaches the threshold exactly, so '>=' and '>' differ
    def net(comparator):
        return graph({"x": ir.Input(shape=(1,)), "w": ir.Linear(weight=np.array([[5.0]])),
                      "n": ir.IF(r=np.ones(1), v_threshold=np.full(1, 10.0), v_reset=np.zeros(1),
                                 comparator=comparator), "out": ir.Output()},
                     [("x", "w"), ("w", "n"), ("n", "out")])
    x = np.ones((1, 8, 1), dtype=np.float32)
    out_ge, _ = compiled(net(ir.Comparator.GE), tmp_path / "ge")
    emu, _ = same_spikes(out_ge, x)
    assert emu.spikes["n"][0, :, 0].tolist() == [0, 1] * 4
    out_gt, _ = compiled(net(ir.Comparator.GT), tmp_path / "gt")
    emu, _ = same_spikes(out_gt, x)
    assert emu.spikes["n"][0, :, 0].tolist() == [0, 0, 1] * 2 + [0, 0]


def test_non_spiking_readout_is_the_output(tmp_path):
    li = ir.LI(tau=np.full(3, 4e-3), r=np.full(3, 4.0), v_leak=np.zeros(3))
    g = graph({"x": ir.Input(shape=(6,)), "w1": ir.Linear(weight=ints(5, 6, 0, 16)), "h": lif(5),
               "w2": ir.Linear(weight=ints(3, 5, -40, 41)), "readout": li, "out": ir.Output()},
              [("x", "w1"), ("w1", "h"), ("h", "w2"), ("w2", "readout"), ("readout", "out")])
    out, spec = compiled(g, tmp_path)
    assert spec.population("readout").record == ("v",)
    x = (RNG.random((2, 25, 6)) < 0.4).astype(np.float32)
    emu, ref = same_spikes(out, x)
    assert np.abs(ref.output).max() > 10
    np.testing.assert_allclose(emu.output, ref.output, rtol=1e-5, atol=1e-4)  # float32 v


def test_core_assignment_sets_the_slice_size(tmp_path):
    # map-cores tiles: two runs of 30 + 20 neurons on core 0, the rest on core 1
    slices = (ir.CoreSlice(0, 0, 30), ir.CoreSlice(1, 30, 70), ir.CoreSlice(0, 70, 90),
              ir.CoreSlice(1, 90, 100))
    g = graph({"x": ir.Input(shape=(6,)), "w": ir.Linear(weight=ints(100, 6)),
               "h": lif(100, cores=ir.CoreAssignment(slices)), "out": ir.Output()},
              [("x", "w"), ("w", "h"), ("h", "out")])
    _, spec = compiled(g, tmp_path)
    assert spec.population("h").max_atoms_per_core == 50


def test_every_lowering_problem_in_one_error(tmp_path):
    bn = ir.BatchNormParams(mean=np.zeros(4), var=np.ones(4), gamma=np.ones(4), beta=np.zeros(4))
    li = ir.LI(tau=np.full(4, 4e-3), r=np.full(4, 4.0), v_leak=np.zeros(4))
    g = graph({"x": ir.Input(shape=(3,)),
               "w1": ir.Linear(weight=ints(4, 3) + 0.25),  # not integers: not quantized
               "a": lif(4, reset=ir.ResetMode.NONE, membrane_bn=bn),
               "w2": ir.Linear(weight=ints(4, 4)),
               "b": lif(4, comparator=ir.Comparator.GE, reset=ir.ResetMode.SUBTRACT),
               "w3": ir.Linear(weight=ints(4, 4)), "r": li, "w4": ir.Linear(weight=ints(4, 4)),
               "c": lif(4), "out": ir.Output()},
              [("x", "w1"), ("w1", "a"), ("a", "w2"), ("w2", "b"), ("b", "w3"), ("w3", "r"),
               ("r", "w4"), ("w4", "c"), ("c", "out")])
    with pytest.raises(SnnccError) as info:
        compile_model(g, "spinnaker2", pipeline="", out_dir=str(tmp_path / "o"))
    found = sorted((d.code, d.node) for d in info.value.diagnostics)
    assert found == [("SNN440", "a"), ("SNN440", "a"), ("SNN449", "a"), ("SNN449", "b"),
                     ("SNN449", "r")]
    assert all(d.hint for d in info.value.diagnostics) and not (tmp_path / "o").exists()
