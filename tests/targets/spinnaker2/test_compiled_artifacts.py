"""Compiled OUT/spinnaker2: the netlist validates against the repo's JSON schema, the
artifacts are deterministic, and the generated runner builds exactly the netlist on a
recording fake of the py-spinnaker2 API (conftest.FAKE)."""
import json

import jsonschema
import numpy as np
import pytest

from snncc.compiler import compile as compile_model
from snncc.ir import ResetMode
from snncc.loading import LoadOptions
from snncc.targets.spinnaker2.emit import SCHEMA_PATH, load

MODELS = {
    "cnn": ("02_cnn", "cnn_sinabs.nir", LoadOptions(dt=1e-3)),
    "braille": ("03_rnn", "braille_noDelay_noBias_subtract.nir",
                LoadOptions(reset=ResetMode.SUBTRACT)),
}


@pytest.fixture(scope="module", params=sorted(MODELS))
def compiled(request, paper, s2_compiled):
    folder, file, options = MODELS[request.param]
    out, result = s2_compiled(paper(folder, file), options)
    return request.param, out, result


def test_netlist_matches_the_schema_file(compiled):
    _, out, result = compiled
    assert sorted(result.artifacts) == sorted(
        ["ir/graph.json", "ir/graph.npz", "mapping.json", "spinnaker2/netlist.json", "spinnaker2/weights.npz",
         "spinnaker2/run_py_spinnaker2.py"])
    doc = json.loads((out / "spinnaker2" / "netlist.json").read_text())
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)
    broken = dict(doc, populations=[dict(doc["populations"][1], neuron_model="izhikevich")])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, schema, cls=jsonschema.Draft202012Validator)


def test_artifacts_are_byte_identical_across_compiles(compiled, tmp_path):
    # the lowered graph (OUT/ir) emits the same files again: lowering is deterministic and
    # idempotent on its own output
    _, out, result = compiled
    compile_model(result.graph, "spinnaker2", pipeline="", out_dir=str(tmp_path / "again"))
    for artifact in ("netlist.json", "weights.npz", "run_py_spinnaker2.py"):
        assert (out / "spinnaker2" / artifact).read_bytes() == \
            (tmp_path / "again" / "spinnaker2" / artifact).read_bytes(), artifact


def test_generated_runner_builds_the_compiled_netlist(compiled, run_on_fake_api, tmp_path):
    name, out, _ = compiled
    runner = out / "spinnaker2" / "run_py_spinnaker2.py"
    compile(runner.read_text(), str(runner), "exec")  # syntactically valid Python
    spec = load(out)
    source = next(p for p in spec.populations if p.neuron_model == "spike_list")
    spikes = np.zeros((1, 6, source.size), dtype=np.uint8)
    spikes[0, 2, [0, 5]] = 1
    np.savez(tmp_path / "in.npz", **{source.name: spikes})
    calls = run_on_fake_api(runner, "--backend", "brian2", "--input", str(tmp_path / "in.npz"),
                            "--out", str(tmp_path / "r.npz"))

    pops = {c["name"]: c for c in calls if c["kind"] == "Population"}
    assert list(pops) == [p.name for p in spec.populations]
    atoms = {c["name"]: c["n"] for c in calls if c["kind"] == "set_max_atoms_per_core"}
    assert atoms == {p.name: p.max_atoms_per_core for p in spec.populations}
    assert pops[source.name]["params"]["0"] == [2] and pops[source.name]["params"]["1"] == []
    for pop in spec.populations[1:]:
        call = pops[pop.name]
        assert call["neuron_model"] == pop.neuron_model and call["record"] == list(pop.record)
        for field in ("threshold", "alpha_decay", "i_offset"):
            got = np.broadcast_to(np.float32(call["params"][field]), (pop.size,))
            np.testing.assert_array_equal(got, pop.params.per_neuron(field, pop.size))

    dense = [c for c in calls if c["kind"] == "Projection"]
    convs = [c for c in calls if c["kind"] == "Conv2DProjection"]
    expected_dense = [j for j in spec.projections if j.kind != "conv2d"]
    expected_conv = [j for j in spec.projections if j.kind == "conv2d"]
    assert len(dense) == len(expected_dense) and len(convs) == len(expected_conv)
    for call, proj in zip(dense, expected_dense):
        assert (call["pre"], call["post"]) == (proj.pre, proj.post)
        assert sorted(map(tuple, call["connections"])) == sorted(
            map(tuple, proj.connection_list().tolist()))
    for call, proj in zip(convs, expected_conv):
        assert call["dtype"] == "int8" and call["weights"] == proj.weights.tolist()
        assert call["conv_params"] == proj.conv.as_s2_dict()
    if name == "cnn":
        # three convolutions, the first sum-pool fused into the third; the second pool
        # and the flatten fold into the dense 128 -> 256 matrix
        assert len(convs) == 3 and [c["conv_params"]["pool_x"] for c in convs] == [1, 1, 2]
        assert [len(c["connections"]) > 0 for c in dense] == [True, True]
    run = next(c for c in calls if c["kind"] == "run")
    assert run["timesteps"] == spec.run.timesteps


def test_map_cores_split_is_the_netlists(paper, s2_compiled, tmp_path):
    """With map-cores in the pipeline its tiles set max_atoms_per_core (the most neurons
    it put on one PE), budgeted with the same recording, and the netlist still fits."""
    _, quantized = s2_compiled(paper("02_cnn", "cnn_sinabs.nir"), LoadOptions(dt=1e-3))
    result = compile_model(quantized.graph, "spinnaker2", pipeline="map-cores",
                           out_dir=str(tmp_path / "out"))
    spec = load(tmp_path / "out")
    for pop in spec.populations[1:]:
        cores = result.graph.nodes[pop.name].cores
        per_core = {}
        for s in cores.slices:
            per_core[(s.chip, s.core)] = per_core.get((s.chip, s.core), 0) + s.stop - s.start
        assert pop.max_atoms_per_core == max(per_core.values()), pop.name
    assert spec.population("10").max_atoms_per_core < 64  # fan-in 512: DTCM-bound
