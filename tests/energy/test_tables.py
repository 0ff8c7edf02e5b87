"""Cost tables: every constant sourced and flagged, bad tables rejected with every problem,
and no drift from the constants the targets' own models use."""
import dataclasses
import json

import pytest

from snncc.diagnostics import SnnccError
from snncc.energy.tables import BUILTIN, CONFIDENCE, REQUIRED, load_table, parse_table


@pytest.mark.parametrize("name", BUILTIN)
def test_builtin_tables_load_and_every_constant_carries_source_and_confidence(name):
    table = load_table(name)
    assert table.origin == f"builtin:{name}" and len(table.sha256) == 64
    assert set(REQUIRED[table.model]) <= set(table.constants)
    for constant in [*table.constants.values(), *table.calibration.values()]:
        assert constant.source.strip() and constant.confidence in CONFIDENCE and constant.unit


def test_a_bad_table_reports_every_problem_at_once(tmp_path):
    bad = {"id": "mine", "model": "loihi", "constants": {
        "e_synop": {"value": 1e-12, "unit": "J", "source": "mine", "confidence": "guessed"},
        "e_neuron_active": {"value": -1, "unit": "J", "source": "mine", "confidence": "estimate"},
        "e_neuron_idle": {"value": 1e-12, "unit": "J", "confidence": "estimate"},
        "t_synop": {"value": 1e-9, "unit": "ms", "source": "mine", "confidence": "measured"},
    }}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(SnnccError) as info:
        load_table(str(path))
    messages = [d.message for d in info.value.diagnostics]
    assert all(d.code == "SNN701" and d.file == str(path) for d in info.value.diagnostics)
    assert any("confidence 'guessed'" in m for m in messages)
    assert any("e_neuron_active: value must be a non-negative number" in m for m in messages)
    assert any("e_neuron_idle lacks source" in m for m in messages)
    assert any("t_synop: unit 'ms'" in m for m in messages)
    assert any("needs constant 't_neuron_active'" in m for m in messages)
    assert any("needs constant 'p_static_core'" in m for m in messages)


def test_missing_or_unparsable_table_files(tmp_path):
    with pytest.raises(SnnccError, match="energy table not found") as info:
        load_table(str(tmp_path / "none.json"))
    assert info.value.diagnostics[0].code == "SNN701"
    (tmp_path / "broken.json").write_text("{")
    with pytest.raises(SnnccError, match="not valid JSON"):
        load_table(str(tmp_path / "broken.json"))
    with pytest.raises(SnnccError, match="unknown model 'tpu'"):
        parse_table({"id": "x", "model": "tpu", "constants": {}})


def test_a_user_table_is_used_as_given(tmp_path):
    data = json.loads(json.dumps(load_table("loihi2").to_dict()))
    data["constants"]["e_synop"]["value"] = 1e-9
    path = tmp_path / "mine.json"
    path.write_text(json.dumps(data))
    table = load_table(str(path))
    assert table.value("e_synop") == 1e-9 and table.origin == "mine.json" and table.model == "loihi"


def test_spinnaker2_cycle_costs_are_the_pe_models():
    from snncc.targets.spinnaker2.pe_model import CycleCosts

    table, costs = load_table("spinnaker2"), CycleCosts()
    pairs = {"c_tick_overhead": "tick_overhead", "c_neuron": "per_neuron", "c_neuron_curr_exp": "per_neuron_curr_exp",
             "c_packet_in": "per_packet_received", "c_synop": "per_synaptic_event", "c_packet_out": "per_packet_sent",
             "clock_hz_high": "clock_hz_high", "clock_hz_low": "clock_hz_low"}
    assert {k: table.value(k) for k in pairs} == {k: getattr(costs, v) for k, v in pairs.items()}


def test_fpga_energy_model_defaults_come_from_the_table():
    from snncc.targets.fpga.energy import EnergyModel

    table = load_table("fpga")
    model = dataclasses.asdict(EnergyModel())
    assert model == {"e_sop_pj": pytest.approx(table.value("e_synop") * 1e12), "e_update_pj": table.value("e_neuron_update"),
                     "p_static_w": table.value("p_static_device"), "f_clk_hz": table.value("f_clk")}
    assert model["e_sop_pj"] == 31.0  # ESSA, fpga.md section 4
