"""The digits model compiled for every hardware target with calibration data: a report with
per-core rows, totals equal to the sum of the cores, every constant sourced; on Loihi 2 also a
plain LIF MLP with map-cores' mesh positions."""
import json

import numpy as np
import pytest

from snncc.compiler import compile as compile_model
from snncc.energy import validate_report

SAMPLES = 16


@pytest.mark.parametrize("target", ["loihi2", "spinnaker2", "fpga"])
def test_digits_on_every_target_has_per_core_rows_that_sum_to_the_totals(digits, target, tmp_path):
    x = np.load(digits / "test_x.npy")[:SAMPLES]
    result = compile_model(str(digits / "model.pt"), target, out_dir=str(tmp_path / "OUT"), calibration=x)
    _check(result, target, tmp_path / "OUT")


def _mlp(path):
    """Linear(64, 48) -> LIF -> Linear(48, 10) -> LIF, seeded, weights x 4 so both layers spike."""
    import torch
    from torch import nn

    import snncc.nn as snn

    torch.manual_seed(0)
    model = snn.Sequential(nn.Linear(64, 48), snn.LIF(beta=0.9, threshold=1.0, reset="zero"), nn.Linear(48, 10),
                           snn.LIF(beta=0.9, threshold=1.0, reset="zero"))
    with torch.no_grad():
        model[0].weight.mul_(4)
        model[2].weight.mul_(4)
    model.dt, model.input_shape = 1e-3, (64,)
    torch.save(model.eval(), path)
    return path


def test_loihi2_mlp_with_map_cores_uses_the_mapped_mesh_positions(digits, tmp_path):
    from snncc.registry import TARGETS

    pipeline = TARGETS.get("loihi2").default_pipeline
    pipeline += "" if "map-cores" in pipeline else ",map-cores"
    x = np.load(digits / "test_x.npy")[:SAMPLES]
    result = compile_model(str(_mlp(tmp_path / "mlp.pt")), "loihi2", pipeline=pipeline, out_dir=str(tmp_path / "OUT"),
                           calibration=x)
    report = _check(result, "loihi2", tmp_path / "OUT")
    mapping = json.loads((tmp_path / "OUT" / "mapping.json").read_text())
    placed = {(c["chip"], c["core"]): (c["x"], c["y"]) for c in mapping["cores"]}
    assert {(c["chip"], c["index"]): (c["x"], c["y"]) for c in report["cores"]} == placed
    assert report["backend"] == "golden" and "core map from map-cores" in (tmp_path / "OUT" / "report.html").read_text()


def _check(result, target, out):
    report = result.energy
    assert report is not None, [n.render() for n in result.notes]
    validate_report(report)
    assert json.loads((out / "report.json").read_text()) == json.loads(json.dumps(report))
    cores = report["cores"]
    assert len(cores) >= 2 and report["target"] == target
    for key in ("dynamic_total", "memory", "static", "total"):
        assert report["totals"]["energy_j"][key] == pytest.approx(sum(c["energy_j"][key] for c in cores), rel=1e-12)
    for key, value in report["totals"]["counts"].items():
        assert value == pytest.approx(sum(c["counts"][key] for c in cores), rel=1e-12)
    assert report["totals"]["energy_per_inference_j"] > 0 and report["totals"]["time_per_step_s"] > 0
    assert all(c["source"] and c["confidence"] for c in report["cost_table"]["constants"].values())
    # the run spiked, and effective synaptic ops never exceed the structural ones
    assert report["totals"]["counts"]["spikes_out"] > 0
    synops = report["neurobench"]["synaptic_operations"]
    assert synops["effective_ac"] + synops["effective_mac"] <= synops["dense"]
    return report
