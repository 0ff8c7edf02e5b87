"""Compiling networks SpiNNaker 2 cannot hold: every violation in one SnnccError (exit 2
from ``snncc compile``), nothing written. The graphs already have integer weights (scale
1), so they compile without quantize and keep their out-of-range values."""
import nir
import numpy as np
import pytest
from click.testing import CliRunner

from snncc import ir
from snncc.cli import main
from snncc.compiler import compile as compile_model
from snncc.diagnostics import SnnccError

DT = 1e-3


def _weights(n_out, n_in, seed=0, big=20):
    w = np.random.default_rng(seed).integers(-15, 16, size=(n_out, n_in)).astype(float)
    w[7, 3] = big  # one weight outside the delay models' ±15
    return w


def _if(n, **kw):
    return ir.IF(r=np.ones(n), v_threshold=np.full(n, 10.0), v_reset=np.zeros(n), **kw)


def over_limit_graph():
    """300 IF neurons behind a 3-step Delay (-> delay model 'lif'), put on one PE by the
    core assignment: weight 20 > 15, 300 > 256 neurons per PE, and that PE's synapse rows
    + state + spike recording (1000 steps) > 96 KB."""
    nodes = {
        "x": ir.Input(shape=(100,)),
        "delay": ir.Delay(delay=np.full(100, 3 * DT)),
        "w": ir.Affine(weight=_weights(300, 100), bias=np.zeros(300)),
        "delayed": _if(300, cores=ir.CoreAssignment((ir.CoreSlice(0, 0, 300),))),
        "out": ir.Output(),
    }
    edges = [ir.Edge("x", "delay"), ir.Edge("delay", "w"), ir.Edge("w", "delayed"),
             ir.Edge("delayed", "out")]
    return ir.Graph(nodes, tuple(edges), dt=DT)


def test_every_violation_in_one_error(tmp_path):
    with pytest.raises(SnnccError) as info:
        compile_model(over_limit_graph(), "spinnaker2", pipeline="", out_dir=str(tmp_path / "o"))
    found = {d.code: d for d in info.value.diagnostics}
    assert sorted(d.code for d in info.value.diagnostics) == ["SNN441", "SNN443", "SNN444"]
    assert found["SNN441"].node == "x->delayed"
    assert "measured 20, limit 15" in found["SNN441"].message
    assert found["SNN443"].node == "delayed"
    assert "measured 300, limit 256" in found["SNN443"].message
    assert found["SNN444"].node == "delayed" and "over 1000 steps" in found["SNN444"].message
    assert all(d.hint for d in info.value.diagnostics)
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_without_the_core_assignment_the_split_fits(tmp_path):
    graph = over_limit_graph()
    graph = graph.with_node("delayed", graph.nodes["delayed"].replace(cores=None))
    with pytest.raises(SnnccError) as info:
        compile_model(graph, "spinnaker2", pipeline="", out_dir=str(tmp_path / "o"))
    assert [d.code for d in info.value.diagnostics] == ["SNN441"]  # only the weight is left


def _write_nir(path):
    """40 inputs -> 3-step Delay -> Affine with a weight of 20 -> 300 IF neurons."""
    nodes = {
        "x": nir.Input(input_type=np.array([40])),
        "delay": nir.Delay(delay=np.full(40, 3 * DT)),
        "w": nir.Affine(weight=_weights(300, 40), bias=np.zeros(300)),
        "delayed": nir.IF(r=np.ones(300), v_threshold=np.full(300, 10.0)),
        "out": nir.Output(output_type=np.array([300])),
    }
    edges = [("x", "delay"), ("delay", "w"), ("w", "delayed"), ("delayed", "out")]
    nir.write(str(path), nir.NIRGraph(nodes=nodes, edges=edges))


def test_cli_exits_2_listing_every_violation(tmp_path):
    # map-cores told of PEs larger than the chip's puts all 300 neurons on one PE; the
    # target checks the real limits: 4-bit weights, 256 neurons per PE, 96 KB DTCM
    model = tmp_path / "over.nir"
    _write_nir(model)
    pipeline = "map-cores{overrides=neurons_per_core:300;dtcm_bytes:200000}"
    result = CliRunner().invoke(main, ["compile", str(model), "-t", "spinnaker2", "-p", pipeline,
                                       "--dt", str(DT), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("error[")]
    assert sorted(line[:13] for line in lines) == ["error[SNN441]", "error[SNN443]", "error[SNN444]"]
    assert any("measured 300, limit 256" in line for line in lines)
    assert any("limit 98304" in line and "node 'delayed'" in line for line in lines)
    assert "Traceback" not in result.output and not (tmp_path / "o").exists()
