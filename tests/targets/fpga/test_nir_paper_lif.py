"""The NIR paper's one-neuron LIF (tau 2.5 ms, dt 0.1 ms, threshold 0.1, Affine weight 1),
quantized by hand, on the recorded 1000-step input train: the integer model spikes at the
analytic solution's steps, and golden == cycle simulator == iverilog RTL on all 1000 steps."""
import numpy as np

from snncc.targets.fpga import LayerSpec, LeakSpec, NetSpec, cosimulate

from fpga_ir_nets import requires_iverilog

SCALE = 1e-5  # membrane units per integer step: threshold 0.1 -> 10000


def nir_lif_spec() -> NetSpec:
    # v <- v + dt/tau (R*I - v): beta = 1 - 0.04 = 0.96 ~ 3932 / 2^12; one input spike adds
    # dt/tau * R * w = 0.04 -> 4000 integer units; the analytic trace resets by subtraction
    lif = LayerSpec("lif", np.array([[4000]]), threshold=10000,
                    leak=LeakSpec("mul", round(0.96 * 4096), 12), reset="subtract",
                    comparator=">=", w_bits=14, v_bits=16, acc_bits=14)
    return NetSpec(1, (lif,))


@requires_iverilog
def test_nir_paper_lif_trace(paper, tmp_path):
    data = np.loadtxt(paper("01_lif", "lif_exact.csv"), delimiter=",")
    x = data[:, 0].astype(np.uint8).reshape(1, -1, 1)
    rep = cosimulate(nir_lif_spec(), x, tmp_path)
    assert rep.ok
    spikes = np.flatnonzero(rep.golden.spikes[0][0, :, 0])
    assert spikes.tolist() == np.flatnonzero(data[:, 2]).tolist() == [460, 510, 710, 760]
    v = rep.rtl.v[0][0, :, 0] * SCALE
    assert np.abs(v - data[:, 1]).max() < 0.002  # 2 % of the threshold
