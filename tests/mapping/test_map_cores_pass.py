"""The map-cores pass: no-op without a resource model, CoreAssignments on every placed
node, OUT/mapping.json from `snncc compile`, overrides, calibration, the core-map SVG."""
import json
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from click.testing import CliRunner

from snncc.cli import main
from snncc.diagnostics import SnnccError
from snncc.frontends.nir_export import write_nir
from snncc.mapping import resolve_model
from snncc.mapping.plot import core_map_svg
from snncc.mapping.synthetic import cnn, mlp
from snncc.passbase import PassContext
from snncc.pipeline import parse_pipeline
from snncc.target import Capabilities


def _run(graph, spec="map-cores", model="loihi2", calibration=None, **extra):
    ctx = PassContext(capabilities=Capabilities("t", extra={"resource_model": model, **extra}) if model else None,
                      calibration=calibration)
    (p,) = parse_pipeline(spec)
    return p.run(graph, ctx), ctx


def test_without_a_resource_model_nothing_happens():
    graph = mlp([20, 30, 5])
    for caps in (None, Capabilities("reference")):
        (p,) = parse_pipeline("map-cores")
        ctx = PassContext(capabilities=caps)
        result = p.run(graph, ctx)
        assert result.graph is graph and not result.modified and "mapping" not in ctx.reports


def test_assignments_cover_every_neuron_once_and_a_second_run_changes_nothing():
    graph = cnn((2, 16, 16), [8, 8], dense=[20])
    result, ctx = _run(graph, model="spinnaker2")
    assert result.modified
    mapping = ctx.reports["mapping"]
    for name in ("input", "lif1", "lif2", "dense1"):  # SpiNNaker spike sources occupy PEs too
        slices = result.graph.nodes[name].cores.slices
        covered = np.zeros(graph.nodes[name].shape if name != "input" else (2, 16, 16)).size
        seen = np.zeros(covered, dtype=int)
        for s in slices:
            seen[s.start:s.stop] += 1
            assert s.chip == s.core // 148
        assert np.all(seen == 1)
        assert sorted({s.core for s in slices}) == mapping["layers"][name]["cores"]
    again, _ = _run(result.graph, model="spinnaker2")
    assert again.graph is result.graph and not again.modified


def test_overrides_from_capabilities_and_options():
    graph = mlp([100, 300, 10])
    _, ctx = _run(graph, "map-cores{chips=3,overrides=input_axons:320;mesh_shape:4x30}",
                  resource_overrides={"chips": 2, "output_axons": 2048})
    model = ctx.reports["mapping"]["resource_model"]
    assert (model["chips"], model["input_axons"], model["output_axons"], model["mesh_shape"]) == (3, 320, 2048, [4, 30])
    assert all(c["fan_in"] <= 320 for c in ctx.reports["mapping"]["cores"])
    with pytest.raises(SnnccError) as info:
        _run(graph, "map-cores{overrides=input_axon:64;chips:-1}")
    assert [d.code for d in info.value.diagnostics] == ["SNN451", "SNN451"]
    with pytest.raises(SnnccError) as info:
        _run(graph, model="truenorth")
    assert info.value.diagnostics[0].code == "SNN450"


def test_calibration_activity_weights_the_traffic():
    graph = mlp([64, 300, 300, 10])
    steps = np.zeros((4, 10, 64))
    steps[:, :, :16] = 1  # only a quarter of the inputs spike
    _, uniform = _run(graph, model="spinnaker2")
    _, calibrated = _run(graph, model="spinnaker2", calibration=steps)
    assert uniform.reports["mapping"]["activity"] == "uniform"
    assert calibrated.reports["mapping"]["activity"] == "calibration"
    from_input = lambda m: sum(e[3] for e in m["traffic"] if e[0] in m["layers"]["input"]["cores"])  # noqa: E731
    # uniform: every input neuron spikes once per step (64 x its destination PEs); calibrated: 16 of 64
    assert from_input(calibrated.reports["mapping"]) == pytest.approx(from_input(uniform.reports["mapping"]) / 4)
    _, bad = _run(graph, model="spinnaker2", calibration=np.zeros((4, 64)))
    assert bad.reports["mapping"]["activity"] == "uniform" and bad.notes[0].code == "SNN456"


def test_compile_writes_mapping_json_deterministically_and_the_cli_exits_2_when_it_cannot_fit(tmp_path):
    graph = cnn((2, 16, 16), [8], dense=[10])
    model = tmp_path / "net.nir"
    write_nir(graph, str(model))
    outs = []
    for k in range(2):
        out = tmp_path / f"OUT{k}"
        run = CliRunner().invoke(main, ["compile", str(model), "-t", "reference", "-o", str(out),
                                        "-p", "map-cores{model=loihi2}"])
        assert run.exit_code == 0, run.output
        assert "core map (loihi2)" in run.output and "below sequential fill" in run.output
        outs.append((out / "mapping.json").read_bytes())
    assert outs[0] == outs[1]
    mapping = json.loads(outs[0])
    assert mapping["summary"]["cores"] == len(mapping["cores"]) >= 2
    manifest = json.loads((tmp_path / "OUT0" / "manifest.json").read_text())
    assert "mapping.json" in manifest["artifacts"]
    run = CliRunner().invoke(main, ["compile", str(model), "-t", "reference", "-o", str(tmp_path / "BAD"),
                                    "-p", "map-cores{model=loihi2,overrides=input_axons:100;chips:1}"])
    assert run.exit_code == 2
    assert "SNN452" in run.output and "input axons per core" in run.output and "Traceback" not in run.output
    assert not (tmp_path / "BAD").exists()


def test_core_map_svg_has_a_cell_per_slot_and_routes():
    _, ctx = _run(cnn((2, 16, 16), [8, 8]), model="spinnaker2")
    mapping = ctx.reports["mapping"]
    svg = core_map_svg(mapping)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    cells = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None
             and r.find(f"{ns}title").text.startswith("core ")]
    assert len(cells) == 148 * mapping["summary"]["chips_used"]
    assert sum("free" not in c.find(f"{ns}title").text for c in cells) == mapping["summary"]["cores"]
    assert len(list(root.iter(f"{ns}line"))) == min(200, sum(e[0] != e[1] for e in mapping["traffic"]))
    assert svg == core_map_svg(mapping)


def test_spinnaker2_model_matches_the_spinnaker2_target_limits():
    from snncc.targets.spinnaker2.limits import SpiNNaker2Limits

    model, limits = resolve_model("spinnaker2"), SpiNNaker2Limits()
    pairs = {"cores_per_chip": "pes_per_chip", "dtcm_bytes": "dtcm_bytes", "router_entries": "router_entries_per_chip",
             "neurons_per_core": "neurons_per_pe_delay", "pe_fixed_bytes": "pe_fixed_bytes",
             "mpt_entry_bytes": "mpt_entry_bytes", "row_header_bytes": "row_header_bytes",
             "delay_synapse_bytes": "delay_synapse_bytes", "no_delay_synapse_bytes": "no_delay_synapse_bytes",
             "conv_params_bytes": "conv_params_bytes", "ring_types": "ring_types",
             "spike_list_words": "spike_list_words_per_neuron"}
    assert {k: getattr(model, k) for k in pairs} == {k: getattr(limits, v) for k, v in pairs.items()}
    assert model.delay_slots == limits.delay_max + 1
    assert (model.state_words["LIF"], model.state_words["CubaLIF"]) == (
        limits.lif_words_per_neuron, limits.curr_exp_words_per_neuron)
