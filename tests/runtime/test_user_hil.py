"""A user's own hardware-in-the-loop tests, written the way the docs show (docs/runtime.md):
only snncc's pytest plugin (fixtures, marker, assertions), no snncc internals.

    pytest tests/runtime/test_user_hil.py               # simulators; the chip test is skipped
    pytest tests/runtime/test_user_hil.py --hil=loihi2  # also on a Loihi 2, where Intel's runtime exists
"""
import numpy as np
import pytest

from snncc.ir import IF, Affine, Graph
from snncc.testing import assert_accuracy, assert_backends_agree

@pytest.fixture(scope="module")
def digits_on_fpga(snncc_compile, digits):
    return snncc_compile(str(digits / "model.pt"), "fpga")


def test_fpga_simulators_match_golden_spike_for_spike(digits_on_fpga, digits):
    x = np.load(digits / "test_x.npy")[:32]
    report = assert_backends_agree(digits_on_fpga, x, backends=["golden", "fpga-sim"])
    assert [c.b for c in report.comparisons] == ["fpga-sim"]


def test_fpga_golden_keeps_the_trained_accuracy(digits_on_fpga, digits):
    x, y = np.load(digits / "test_x.npy"), np.load(digits / "test_y.npy")
    assert assert_accuracy(digits_on_fpga, x, y, at_least=0.9, backend="golden") >= 0.9


def _small_if_net():
    rng = np.random.default_rng(0)
    return Graph.sequential(Affine(weight=rng.integers(-2, 5, (6, 4)) / 2, bias=np.zeros(6)),
                            IF(r=np.ones(6), v_threshold=np.full(6, 1.5), v_reset=np.zeros(6)), dt=1e-3)


@pytest.mark.hil("loihi2")
def test_loihi2_chip_matches_the_golden_model(snncc_compile, hil_backend):
    artifact = snncc_compile(_small_if_net(), "loihi2")
    x = (np.random.default_rng(2).random((2, 10, 4)) < 0.4).astype(np.float32)
    assert_backends_agree(artifact, x, backends=["golden", hil_backend])
