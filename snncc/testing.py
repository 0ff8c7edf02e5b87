"""pytest plugin for hardware-in-the-loop and cross-backend tests of compiled networks.

Installed with snncc (entry point ``pytest11``), so any project's tests can use::

    from snncc.testing import assert_backends_agree

    def test_simulators_agree(snncc_compile, x):
        artifact = snncc_compile("model.pt", target="fpga", calibration=x)
        assert_backends_agree(artifact, x)                 # golden, fpga-sim, rtl: spike for spike

    @pytest.mark.hil("loihi2")
    def test_on_chip(snncc_compile, hil_backend, x, y):
        artifact = snncc_compile("model.pt", target="loihi2")
        assert_backends_agree(artifact, x, backends=["golden", hil_backend])

A test marked ``hil(TARGET)`` runs only with ``pytest --hil=TARGET`` (comma-separate
several) and only where the target's hardware runtime is present (the target lists an
``hw`` backend); otherwise it is skipped with the reason.
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

import pytest

__all__ = ["assert_accuracy", "assert_backends_agree", "hardware_status"]

HW_BACKEND = "hw"


# ----------------------------------------------------------------------------- hooks


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("snncc", "snncc hardware-in-the-loop tests")
    group.addoption("--hil", action="store", default="", metavar="TARGETS",
                    help="run tests marked hil(TARGET) on the real hardware of these targets, e.g. --hil=loihi2")


def pytest_configure(config: Any) -> None:
    config.addinivalue_line("markers", "hil(target): runs on TARGET's real hardware; needs --hil=TARGET and its runtime")


def pytest_runtest_setup(item: Any) -> None:
    for marker in item.iter_markers("hil"):
        target = marker.args[0] if marker.args else marker.kwargs.get("target")
        if not target:
            pytest.fail("@pytest.mark.hil needs the target: @pytest.mark.hil('loihi2')", pytrace=False)
        reason = hil_skip_reason(item.config.getoption("hil"), target)
        if reason:
            pytest.skip(reason)


def hil_skip_reason(requested: str, target: str) -> str | None:
    """Why a hil(target) test does not run with ``--hil=requested``, or None when it does."""
    if target not in {t.strip() for t in (requested or "").split(",") if t.strip()}:
        return f"hardware test for {target}: run with --hil={target}"
    return hardware_status(target)


def hardware_status(target: str) -> str | None:
    """None when ``target``'s hardware runtime is present (it lists an "hw" backend), else why not."""
    from snncc.diagnostics import SnnccError
    from snncc.registry import TARGETS

    try:
        found = TARGETS.get(target)
    except SnnccError as exc:
        return exc.diagnostics[0].render()
    if HW_BACKEND not in (getattr(found, "backends", {}) or {}):
        return f"no {target} hardware runtime on this machine (the target offers no '{HW_BACKEND}' backend)"
    return None


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def snncc_compile(tmp_path_factory: Any) -> Callable[..., Any]:
    """``snncc_compile(model, target="reference", **options) -> Artifact``: compile into a fresh
    temporary directory (options as for :func:`snncc.compile`)."""
    from snncc.api import compile as compile_model
    from snncc.api import load_artifact

    def build(model: Any, target: str = "reference", **options: Any) -> Any:
        out = tmp_path_factory.mktemp(f"snncc-{target}") / "out"
        compile_model(model, target, out_dir=str(out), **options)
        return load_artifact(str(out))

    return build


@pytest.fixture
def hil_target(request: Any) -> str:
    """The target of the test's ``hil`` marker."""
    marker = request.node.get_closest_marker("hil")
    if marker is None:
        pytest.fail("the hil_target fixture needs @pytest.mark.hil(TARGET)", pytrace=False)
    return marker.args[0] if marker.args else marker.kwargs["target"]


@pytest.fixture
def hil_backend(hil_target: str) -> str:
    """The backend that runs on the hardware (the test only runs where it is present)."""
    return HW_BACKEND


# ----------------------------------------------------------------------------- assertions


def assert_backends_agree(artifact: Any, inputs: Any, backends: Sequence[str] | None = None, *,
                          tolerance: float = 1.0, baseline: str | None = None) -> Any:
    """Every backend's spikes agree with the baseline's, layer by layer, to ``tolerance``
    (1.0: spike for spike). ``backends`` defaults to all of the target's except ``reference``
    (the float simulator is not bit-exact with integer hardware). Returns the BenchReport;
    on failure the message names the first divergence (layer, neuron, step, states)."""
    from snncc.api import bench
    from snncc.runtime.backend import backends_of, load_artifact

    artifact = load_artifact(artifact)
    if backends is None:
        backends = [b for b in backends_of(artifact) if b != "reference"] or ["reference"]
    report = bench(artifact, inputs, list(backends), baseline=baseline, tolerance=tolerance)
    if not report.passed:
        lines = [f"backends of {artifact.path} ({artifact.target_name}) disagree:"]
        for check, comparison in zip(report.checks, report.comparisons):
            if not check.passed:
                lines.append(f"  {check.b} vs {check.a}: agreement {check.agreement:.6f} < {check.tolerance:g}")
                if comparison.divergence is not None:
                    lines.append("  " + comparison.divergence.describe(comparison.a, comparison.b))
        raise AssertionError("\n".join(lines))
    return report


def assert_accuracy(artifact: Any, inputs: Any, labels: Any, *, at_least: float, backend: str = "reference") -> float:
    """The backend's classification accuracy (output summed over time, argmax) is at least ``at_least``."""
    import numpy as np

    from snncc.api import run
    from snncc.runtime.bench import predictions

    result = run(artifact, inputs, backend)
    accuracy = float((predictions(result.output) == np.asarray(labels).reshape(-1)).mean())
    if accuracy < at_least:
        raise AssertionError(f"{backend} accuracy {accuracy:.4f} < {at_least}")
    return accuracy
