"""snncc.testing as installed (pytest11 entry point): the hil marker, --hil and the fixtures,
exercised in a separate pytest session on a user's test file."""
import pytest

from snncc.testing import hardware_status, hil_skip_reason

pytest_plugins = ["pytester"]

USER_TESTS = '''
import numpy as np
import pytest
from snncc.ir import IF, Affine, Graph
from snncc.testing import assert_accuracy, assert_backends_agree

def relay():
    ones = np.ones(2)
    return Graph.sequential(Affine(weight=np.eye(2), bias=np.zeros(2)),
                            IF(r=ones, v_threshold=ones / 2, v_reset=np.zeros(2)), dt=1e-3)

X = np.array([[[1, 0], [1, 0], [0, 0]], [[0, 1], [0, 0], [0, 1]]], np.float32)

def test_compiles_and_agrees(snncc_compile):
    artifact = snncc_compile(relay(), "reference", pipeline="")
    assert_backends_agree(artifact, X, backends=["reference"])
    assert assert_accuracy(artifact, X, [0, 1], at_least=1.0) == 1.0

def test_accuracy_failure_is_an_assertion(snncc_compile):
    artifact = snncc_compile(relay(), "reference", pipeline="")
    with pytest.raises(AssertionError, match="reference accuracy 0.0000 < 0.5"):
        assert_accuracy(artifact, X, [1, 0], at_least=0.5)

@pytest.mark.hil("loihi2")
def test_on_chip(hil_target, hil_backend):
    assert (hil_target, hil_backend) == ("loihi2", "hw")

@pytest.mark.hil("no-such-chip")
def test_unknown_target():
    pass

@pytest.mark.hil
def test_marker_without_target():
    pass
'''


def test_hil_tests_skip_with_the_reason_unless_requested_and_present(pytester):
    pytester.makepyfile(test_user=USER_TESTS)
    result = pytester.runpytest("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, skipped=2, errors=1)  # a marker without target: setup error
    result.stdout.fnmatch_lines(["*@pytest.mark.hil needs the target*",
                                 "*hardware test for loihi2: run with --hil=loihi2*",
                                 "*hardware test for no-such-chip: run with --hil=no-such-chip*"])
    on_chip = pytester.runpytest("-rs", "-p", "no:cacheprovider", "--hil=loihi2,no-such-chip", "-k", "chip or unknown")
    status = hardware_status("loihi2")
    if status is None:  # a machine with Intel's Loihi extension: the test runs on the chip
        on_chip.assert_outcomes(passed=1, skipped=1)
    else:
        on_chip.assert_outcomes(skipped=2)
        on_chip.stdout.fnmatch_lines(["*no loihi2 hardware runtime on this machine*", "*unknown target 'no-such-chip'*"])


def test_skip_reasons():
    assert hil_skip_reason("", "loihi2") == "hardware test for loihi2: run with --hil=loihi2"
    assert hil_skip_reason("fpga, spinnaker2", "loihi2") == "hardware test for loihi2: run with --hil=loihi2"
    assert hil_skip_reason("fpga,loihi2", "loihi2") == hardware_status("loihi2")
    assert "offers no 'hw' backend" in hardware_status("reference")


@pytest.mark.hil("loihi2")
def test_this_suite_sees_the_marker_too(hil_backend):
    assert hil_backend == "hw"
