"""Emulator vs independent numpy recurrences (float64), written from the model equations."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from snncc.targets.spinnaker2 import (
    Conv2DParams, NetSpec, NeuronParams, Population, Projection, RunOptions,
)
from snncc.targets.spinnaker2 import emulator
from snncc.targets.spinnaker2.pe_model import CycleCosts


def lif_reference(current, alpha, offset, threshold, subtract, v_reset=0.0):
    """v[t] = alpha v[t-1] + offset + I[t]; spike if v > thr; reset. I: [B, T, n]."""
    b, t_max, n = current.shape
    v = np.zeros((b, n))
    vs, ss = np.zeros((b, t_max, n)), np.zeros((b, t_max, n), dtype=bool)
    for t in range(t_max):
        v = alpha * v + offset + current[:, t]
        s = v > threshold
        v = np.where(s, v - threshold if subtract else v_reset, v)
        vs[:, t], ss[:, t] = v, s
    return ss, vs


def delayed_input(spikes, weights, delays):
    """I[b, t, j] = sum_i w[i, j] * s[b, t - 1 - d[i, j], i]."""
    b, t_max, n_pre = spikes.shape
    out = np.zeros((b, t_max, weights.shape[1]))
    for i in range(n_pre):
        for j in range(weights.shape[1]):
            lag = 1 + delays[i, j]
            out[:, lag:, j] += weights[i, j] * spikes[:, : t_max - lag, i]
    return out


def f64(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


@pytest.fixture(scope="module")
def two_layer():
    rng = np.random.default_rng(7)
    x = rng.random((3, 60, 20)) < 0.2
    w1 = rng.integers(-127, 128, size=(20, 30)) * (rng.random((20, 30)) < 0.6)
    w2 = rng.integers(-127, 128, size=(30, 10))
    hid = NeuronParams(threshold=rng.uniform(100, 300, 30), alpha_decay=rng.uniform(0.8, 1.0, 30),
                       i_offset=rng.uniform(-2, 5, 30))
    out = NeuronParams(threshold=150.3, alpha_decay=0.93, i_offset=1.7, v_reset=-20.5,
                       reset="reset_to_v_reset")
    spec = NetSpec("two", (
        Population("x", 20, "spike_list"),
        Population("h", 30, "lif_no_delay", hid, max_atoms_per_core=8, v_scale=4.0),
        Population("o", 10, "lif_no_delay", out, max_atoms_per_core=4),
    ), (Projection("w1", "x", "h", "dense", w1), Projection("w2", "h", "o", "dense", w2)),
        RunOptions(timesteps=62))
    return spec, x, w1, w2, hid, out


def _reference_two_layer(spec, x, w1, w2, hid, out):
    xt = np.zeros((x.shape[0], spec.run.timesteps, 20))
    xt[:, : x.shape[1]] = x
    s_h, v_h = lif_reference(delayed_input(xt, w1, np.zeros_like(w1)), f64(hid.alpha_decay),
                             f64(hid.i_offset), f64(hid.threshold), True)
    s_o, v_o = lif_reference(delayed_input(s_h.astype(float), w2, np.zeros_like(w2)),
                             f64(out.alpha_decay), f64(out.i_offset), f64(out.threshold), False,
                             f64(out.v_reset))
    return s_h, v_h, s_o, v_o


@pytest.mark.parametrize("precision", ["float64", "float32"])
def test_two_layer_matches_reference(two_layer, precision):
    spec, x, w1, w2, hid, out = two_layer
    s_h, v_h, s_o, v_o = _reference_two_layer(*two_layer)
    assert 50 < s_h.sum() and 20 < s_o.sum()  # the net is active
    r = emulator.run(spec, {"x": x}, precision=precision)
    np.testing.assert_array_equal(r.spikes["h"], s_h)
    np.testing.assert_array_equal(r.spikes["o"], s_o)
    rtol = 1e-12 if precision == "float64" else 1e-5
    np.testing.assert_allclose(r.v_hw["h"], v_h, rtol=rtol, atol=rtol * 300)
    np.testing.assert_allclose(r.v_hw["o"], v_o, rtol=rtol, atol=rtol * 300)
    np.testing.assert_allclose(r.v["h"], v_h / 4.0, rtol=rtol, atol=rtol * 300)


def test_pe_counts(two_layer):
    spec, x, w1, w2, *_ = two_layer
    s_h, _, s_o, _ = _reference_two_layer(*two_layer)
    r = emulator.run(spec, {"x": x})
    pe = r.pe
    assert pe.population == ("x",) + ("h",) * 4 + ("o",) * 3
    # source PE 0 sends one packet per input spike; h's PEs send theirs; o sends none
    assert pe.packets_sent[..., 0].sum() == x.sum()
    assert pe.packets_sent[..., 1:5].sum() == s_h.sum() and pe.packets_sent[..., 5:].sum() == 0
    for k, (s, e) in enumerate([(0, 8), (8, 16), (16, 24), (24, 30)]):
        nnz = (w1[:, s:e] != 0).sum(axis=1)
        events = (x.astype(int) * nnz).sum()
        received = (x.astype(int) * (nnz > 0)).sum()
        assert pe.synaptic_events[..., 1 + k].sum() == events
        assert pe.packets_received[..., 1 + k].sum() == received
    costs = CycleCosts()
    p = 1  # first PE of h: cycles = overhead + 8 neurons + packets + events
    expected = (costs.tick_overhead + 8 * costs.per_neuron
                + costs.per_packet_received * pe.packets_received[..., p]
                + costs.per_synaptic_event * pe.synaptic_events[..., p]
                + costs.per_packet_sent * pe.packets_sent[..., p])
    np.testing.assert_allclose(pe.cycles[..., p], expected)
    np.testing.assert_allclose(pe.time_per_step_s[..., p], expected / 300e6)
    low = NetSpec(spec.name, spec.populations, spec.projections,
                  RunOptions(timesteps=spec.run.timesteps, dvfs="low"))
    r_low = emulator.run(low, {"x": x})
    np.testing.assert_allclose(r_low.pe.time_per_step_s, 2 * pe.time_per_step_s)


def test_delays_match_reference():
    rng = np.random.default_rng(3)
    x = rng.random((2, 40, 12)) < 0.3
    w = rng.integers(-15, 16, size=(12, 9))
    d = rng.integers(0, 8, size=(12, 9))
    params = NeuronParams(threshold=20.5, alpha_decay=0.9, i_offset=0.5)
    spec = NetSpec("delay", (Population("x", 12, "spike_list"), Population("y", 9, "lif", params)),
                   (Projection("w", "x", "y", "dense", w, delays=d),), RunOptions(timesteps=50))
    xt = np.zeros((2, 50, 12))
    xt[:, :40] = x
    s_ref, v_ref = lif_reference(delayed_input(xt, w, d), f64(0.9), 0.5, 20.5, True)
    r = emulator.run(spec, {"x": x}, precision="float64")
    assert s_ref.sum() > 20
    np.testing.assert_array_equal(r.spikes["y"], s_ref)
    np.testing.assert_allclose(r.v_hw["y"], v_ref, rtol=1e-12, atol=1e-10)
    # a delay of d must shift a lone spike's effect to step 1 + d exactly
    one = np.zeros((1, 50, 12))
    one[0, 0, 4] = 1
    lone = NetSpec("lone", spec.populations[:1] + (Population(
        "y", 9, "lif", NeuronParams(threshold=1e9, alpha_decay=1.0)),), spec.projections, spec.run)
    v = emulator.run(lone, {"x": one}).v_hw["y"][0]
    for j in range(9):
        if w[4, j]:
            assert np.flatnonzero(np.diff(np.r_[0.0, v[:, j]])).tolist() == [1 + d[4, j]]


def test_curr_exp_with_refractory_matches_reference():
    rng = np.random.default_rng(11)
    x = rng.random((2, 50, 6)) < 0.4
    w = rng.integers(-60, 61, size=(6, 5))
    spec = NetSpec("cx", (Population("x", 6, "spike_list"), Population(
        "y", 5, "lif_curr_exp_no_delay", NeuronParams(
            threshold=30.5, alpha_decay=0.85, i_offset=0.3, exc_decay=0.6, inh_decay=0.7,
            reset="reset_to_v_reset", v_reset=-2.0, t_refrac=2))),
        (Projection("w", "x", "y", "dense", w),), RunOptions(timesteps=50))
    current = np.zeros((2, 50, 6))
    current[:, :50] = x
    inp = delayed_input(current, w.astype(float), np.zeros_like(w))
    exc_in = delayed_input(current, np.maximum(w, 0), np.zeros_like(w))
    inh_in = delayed_input(current, np.maximum(-w, 0), np.zeros_like(w))
    assert np.allclose(exc_in - inh_in, inp)
    i_e = i_i = v = np.zeros((2, 5))
    refrac = np.zeros((2, 5), dtype=int)
    spikes = np.zeros((2, 50, 5), dtype=bool)
    for t in range(50):
        i_e = f64(0.6) * i_e + exc_in[:, t]
        i_i = f64(0.7) * i_i + inh_in[:, t]
        free = refrac == 0
        v = np.where(free, f64(0.85) * v + f64(0.3) + i_e - i_i, v)
        refrac = np.maximum(refrac - 1, 0)
        s = (v > 30.5) & free
        refrac = np.where(s, 2, refrac)
        v = np.where(s, -2.0, v)
        spikes[:, t] = s
    r = emulator.run(spec, {"x": x}, precision="float64")
    assert spikes.sum() >= 10 and (spikes[:, 1:] & spikes[:, :-1]).sum() == 0  # refractory
    np.testing.assert_array_equal(r.spikes["y"], spikes)


def test_conv2d_matches_torch():
    rng = np.random.default_rng(5)
    conv = Conv2DParams(in_channels=2, in_height=9, in_width=8, stride_x=2, stride_y=1,
                        pool_x=2, pool_y=2, pad_top=1, pad_bottom=0, pad_left=1, pad_right=1)
    w_nir = rng.integers(-127, 128, size=(3, 2, 3, 2))  # NIR/torch (C_out, C_in, kH, kW)
    ho, wo = conv.output_hw(3, 2)
    x = rng.random((2, 6, 2 * 9 * 8)) < 0.3
    spec = NetSpec("conv", (
        Population("x", 144, "spike_list"),
        Population("c", 3 * ho * wo, "lif_conv2d", NeuronParams(threshold=1e9, alpha_decay=1.0),
                   max_atoms_per_core=7)),
        (Projection("k", "x", "c", "conv2d", w_nir.swapaxes(0, 1), conv=conv),),
        RunOptions(timesteps=7))
    r = emulator.run(spec, {"x": x}, precision="float64")
    xt = torch.tensor(x, dtype=torch.float64).reshape(12, 2, 9, 8)[:, :, :8, :8]  # pool drops row 8
    pooled = F.avg_pool2d(xt, 2) * 4
    ref = F.conv2d(F.pad(pooled, (1, 1, 1, 0)), torch.tensor(w_nir, dtype=torch.float64),
                   stride=(1, 2))
    ref = ref.reshape(2, 6, -1).cumsum(dim=1).numpy()  # alpha 1, no spikes: v integrates
    np.testing.assert_allclose(r.v_hw["c"][:, 1:], ref, rtol=0, atol=1e-9)
    # each receiving PE gets exactly the spikes inside its neurons' receptive fields
    assert r.pe.packets_received[..., 1:].sum() <= x.sum() * (r.pe.cycles.shape[2] - 1)
    assert r.pe.conv_macs.sum() > 0


def test_conv_from_nir_matches_torch_module():
    import nir

    from snncc.targets.spinnaker2.nir_import import conv2d_projection_from_nir

    rng = np.random.default_rng(9)
    weight = rng.normal(size=(4, 2, 3, 3)).astype(np.float32)
    node = nir.Conv2d(input_shape=(5, 6), weight=weight, stride=(2, 1), padding=(1, 0),
                      dilation=1, groups=1, bias=np.zeros(4, dtype=np.float32))
    proj = conv2d_projection_from_nir("k", "x", "c", node, in_channels=2, w_scale=10.0,
                                      pool=(2, 2))
    ho, wo = proj.conv.output_hw(3, 3)
    spec = NetSpec("c", (Population("x", 2 * 10 * 12, "spike_list"), Population(
        "c", 4 * ho * wo, "lif_conv2d", NeuronParams(threshold=1e9, alpha_decay=1.0))),
        (proj,), RunOptions(timesteps=2))
    x = rng.random((1, 1, 240)) < 0.5
    v = emulator.run(spec, {"x": x}, precision="float64").v_hw["c"][0, 1]
    module = torch.nn.Sequential(torch.nn.LPPool2d(1, 2), torch.nn.Conv2d(
        2, 4, 3, stride=(2, 1), padding=(1, 0), bias=False))
    with torch.no_grad():
        module[1].weight.copy_(torch.tensor(np.rint(weight * 10.0)))
        ref = module(torch.tensor(x.reshape(1, 2, 10, 12), dtype=torch.float32)).numpy().ravel()
    np.testing.assert_allclose(v, ref, atol=1e-4)


def test_strict_comparator_and_subtractive_reset():
    # v reaches the threshold exactly after two input spikes: no spike (v > threshold)
    spec = NetSpec("eq", (Population("x", 1, "spike_list"), Population(
        "y", 1, "lif_no_delay", NeuronParams(threshold=10.0, alpha_decay=1.0))),
        (Projection("w", "x", "y", "dense", [[5]]),), RunOptions(timesteps=5))
    r = emulator.run(spec, {"x": np.ones((4, 1))})
    assert r.spikes["y"][0, :, 0].tolist() == [False, False, False, True, False]
    assert r.v_hw["y"][0, :, 0].tolist() == [0.0, 5.0, 10.0, 5.0, 10.0]
