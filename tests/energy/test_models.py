"""Energy and time of the tiny network per target model, computed by hand from the tables'
constants (read from the JSON files) and the hand-counted activity of test_activity.py."""
import json
from importlib import resources

import numpy as np
import pytest
from energy_kit import LOIHI_CORES, X, Caps, constants, tiny_graph, tiny_result

from snncc.energy import build_report, load_table

T = 2  # steps of the tiny run


def _report(table, graph=None, caps=Caps(), extra=None):
    return build_report(graph or tiny_graph(), "test", caps, X, tiny_result(extra=extra), load_table(table))


def _energy(report, key):
    return [core["energy_j"][key] for core in report["cores"]]


def _dynamic(report, kind):
    return [core["energy_j"]["dynamic"][kind] for core in report["cores"]]


def test_generic_table_operations_and_memory_no_time():
    c = constants("generic45nm")
    r = _report("generic45nm")
    assert _dynamic(r, "synop") == pytest.approx([5 * c["e_synop"], 1 * c["e_synop"]])
    assert _dynamic(r, "neuron") == pytest.approx([4 * c["e_neuron_active"] + 2 * c["e_neuron_idle"],
                                                   1 * c["e_neuron_active"] + 1 * c["e_neuron_idle"]])
    bits_read = [5 * 32 + 3 * 2 * 32, 1 * 32 + 1 * 2 * 32]
    bits_written = [3 * 2 * 32, 1 * 2 * 32]
    assert _energy(r, "memory") == pytest.approx([br * c["e_mem_bit_read"] + bw * c["e_mem_bit_write"]
                                                  for br, bw in zip(bits_read, bits_written)])
    assert _energy(r, "static") == [0.0, 0.0]
    assert r["totals"]["time_per_step_s"] is None and r["cores"][0]["time_s"] is None


@pytest.mark.parametrize("table", ["loihi2", "loihi1"])
def test_loihi_events_slowest_core_plus_barrier_and_static(table):
    c = constants(table)
    r = _report(table, tiny_graph(LOIHI_CORES), Caps(8, 24))
    g = lambda k: c.get(k, 0.0)  # noqa: E731 - a constant a table does not have costs nothing
    assert [core["core"] for core in r["cores"]] == ["0.0", "0.5", "0.36"]
    assert _dynamic(r, "synop") == pytest.approx([5 * c["e_synop"], 0, 1 * c["e_synop"]])
    assert _dynamic(r, "neuron") == pytest.approx([4 * c["e_neuron_active"], 2 * c["e_neuron_idle"],
                                                   c["e_neuron_active"] + c["e_neuron_idle"]])
    assert _dynamic(r, "spike") == pytest.approx([2 * g("e_spike_out"), 0, g("e_spike_out")])
    assert _dynamic(r, "message") == pytest.approx([g("e_message_out"), 0, 0])
    assert _dynamic(r, "hop") == pytest.approx([g("e_hop_ew") + g("e_hop_ns"), 0, 0])
    # busy time per core and step (counts per step from test_activity)
    ts, ta, ti, tsp, tm = (g(k) for k in ("t_synop", "t_neuron_active", "t_neuron_idle", "t_spike_out", "t_message_out"))
    busy = [[2 * ts + 2 * ta + tsp + tm, ti, ts + ta],
            [3 * ts + 2 * ta + tsp, ti, ti + tsp]]
    barrier = c["t_barrier_1_tile"] + (3 - 1) * c["t_barrier_per_extra_tile"]  # tiles 0, 1 and 9
    steps = [max(b) + barrier for b in busy]
    assert r["totals"]["time_per_step_s"] == pytest.approx(sum(steps) / T)
    assert r["totals"]["latency_per_inference_s"] == pytest.approx(sum(steps))
    assert [core["time_s"]["busy_per_step_max"] for core in r["cores"]] == pytest.approx(np.max(busy, axis=0).tolist())
    assert _energy(r, "static") == pytest.approx([c["p_static_core"] * sum(steps)] * 3)
    assert _energy(r, "memory") == [0.0, 0.0, 0.0]  # SRAM access is inside the per-event figures


def test_loihi2_calibration_reproduces_pilotnet_per_active_core_energy():
    table = load_table("loihi2")
    cal = {k: v.value for k, v in table.calibration.items()}
    p_core = cal["pilotnet_dynamic_power"] / cal["pilotnet_active_cores"]  # 0.447 W / 74
    k_t = cal["t_synop_hala_point"] / cal["sanafe_t_synop"]
    k_e = p_core * cal["t_synop_hala_point"] / cal["sanafe_e_synop"]
    assert cal["k_t"] == pytest.approx(k_t, rel=1e-4) and cal["k_e"] == pytest.approx(k_e, rel=1e-4)
    c = constants("loihi2")
    sanafe = {"e_synop": 35.5e-12, "e_neuron_idle": 51.2e-12, "e_neuron_active": 72.8e-12, "e_spike_out": 69.3e-12,
              "e_message_out": 111e-12, "e_hop_ew": 3.0e-12, "e_hop_ns": 4.2e-12}
    for name, value in sanafe.items():
        assert c[name] == pytest.approx(value * k_e, rel=1e-4), name
    for name, value in {"t_neuron_idle": 6.0e-9, "t_neuron_active": 9.7e-9, "t_spike_out": 30e-9,
                        "t_message_out": 5.1e-9, "t_barrier_1_tile": 0.6e-6}.items():
        assert c[name] == pytest.approx(value * k_t, rel=1e-4), name
    assert c["p_static_core"] == pytest.approx(cal["chip_static_power"] / cal["usable_cores_per_chip"], rel=1e-4)
    # a core doing nothing but synops for a whole PilotNet step costs the measured 0.92 uJ
    synops = cal["pilotnet_step_time"] / c["t_synop"]
    assert synops * c["e_synop"] == pytest.approx(0.447 / 74 * 152.9e-6, rel=1e-4)
    assert synops * c["e_synop"] == pytest.approx(0.92e-6, rel=0.01)


def _s2_cycles(c, steps_counts):
    """Cycles per PE per step from (neurons, packets in, synops, spikes) per step."""
    return [[c["c_tick_overhead"] + n * c["c_neuron"] + pin * c["c_packet_in"] + s * c["c_synop"] + sp * c["c_packet_out"]
             for (n, pin, s, sp) in step] for step in steps_counts]


@pytest.mark.parametrize("level", ["high", "low"])
def test_spinnaker2_cycles_at_a_dvfs_level_tick_and_static(level, tmp_path):
    c = constants("spinnaker2")
    data = json.loads(resources.files("snncc.energy.data").joinpath("spinnaker2.json").read_text())
    data["settings"]["dvfs"] = level
    path = tmp_path / "s2.json"
    path.write_text(json.dumps(data))
    r = build_report(tiny_graph(), "spinnaker2", Caps(8), X, tiny_result(), load_table(str(path)))
    # per step: (neurons, packets received, synops, spikes) on PE a and PE b
    cycles = _s2_cycles(c, [[(3, 1, 2, 1), (1, 1, 1, 0)], [(3, 2, 3, 1), (1, 0, 0, 1)]])
    clock, power = c[f"clock_hz_{level}"], c[f"p_pe_active_{level}"]
    for pe in range(2):
        total = sum(cycles[t][pe] for t in range(T))
        assert r["cores"][pe]["energy_j"]["dynamic_total"] == pytest.approx(total * power / clock)
        assert r["cores"][pe]["dvfs"] == level
    assert _dynamic(r, "synop") == pytest.approx([5 * c["c_synop"] * power / clock, 1 * c["c_synop"] * power / clock])
    assert _dynamic(r, "tick") == pytest.approx([T * c["c_tick_overhead"] * power / clock] * 2)
    assert r["totals"]["time_per_step_s"] == pytest.approx(c["sys_tick"])  # every PE finishes within the tick
    assert _energy(r, "static") == pytest.approx([c["p_static_core"] * T * c["sys_tick"]] * 2)
    assert r["cores"][0]["time_s"]["busy_per_step_max"] == pytest.approx(cycles[1][0] / clock)


def test_fpga_fallback_cycles_sops_and_device_static():
    c = constants("fpga")
    r = _report("fpga", caps=Caps(8, 24))
    assert _dynamic(r, "synop") == pytest.approx([5 * c["e_synop"], 1 * c["e_synop"]])
    # engines take turns: per step cycles = sum over engines of synops/rate + neurons/rate + overhead
    step_cycles = [(2 + 3 + 1) + (1 + 1 + 1), (3 + 3 + 1) + (0 + 1 + 1)]
    runtime = sum(step_cycles) / c["f_clk"]
    assert r["totals"]["latency_per_inference_s"] == pytest.approx(runtime)
    assert _energy(r, "static") == pytest.approx([c["p_static_device"] * runtime / 2] * 2)
    assert r["totals"]["energy_j"]["static"] == pytest.approx(c["p_static_device"] * runtime)


def test_fpga_uses_the_backends_cycles_and_hardware_sops_when_reported():
    c = constants("fpga")
    extra = {"cycles": np.array([[20, 30]]), "engine_cycles": {"a": np.array([[12, 17]]), "b": np.array([[7, 12]])},
             "counters": {"sops": {"a": np.array([[6, 9]]), "b": np.array([[3, 3]])}}}
    r = _report("fpga", caps=Caps(8, 24), extra=extra)
    assert r["totals"]["latency_per_inference_s"] == pytest.approx(50 / c["f_clk"])
    assert [core["time_s"]["busy_per_step_max"] for core in r["cores"]] == pytest.approx([17 / c["f_clk"], 12 / c["f_clk"]])
    assert _dynamic(r, "synop") == pytest.approx([15 * c["e_synop"], 6 * c["e_synop"]])  # as the engines add them


def test_totals_are_the_sum_of_the_cores_and_layers_split_shared_cores():
    r = _report("loihi2", tiny_graph(LOIHI_CORES), Caps(8, 24))
    for key in ("dynamic_total", "memory", "static", "total"):
        assert r["totals"]["energy_j"][key] == pytest.approx(sum(core["energy_j"][key] for core in r["cores"]), rel=1e-12)
    for key in r["totals"]["counts"]:
        assert r["totals"]["counts"][key] == sum(core["counts"][key] for core in r["cores"])
    layers = {layer["name"]: layer for layer in r["layers"]}
    assert layers["a"]["cores"] == 2 and layers["b"]["cores"] == 1
    assert layers["a"]["energy_j"]["total"] + layers["b"]["energy_j"]["total"] == pytest.approx(r["totals"]["energy_j"]["total"])
    assert r["totals"]["energy_per_step_j"] == pytest.approx(r["totals"]["energy_per_inference_j"] / T)


def test_spinnaker2_with_the_emulators_pes_time_and_clock():
    """The emulator splits populations into PEs itself (input on a spike-source PE, a on two
    PEs); its per-PE time per step and DVFS clock replace the estimates."""
    from snncc.targets.spinnaker2.pe_model import PEStats

    c = constants("spinnaker2")
    high, low = c["clock_hz_high"], c["clock_hz_low"]
    zeros = np.zeros((1, T, 4))
    busy = np.array([[[1e-5, 2e-4, 5e-5, 1e-4], [1e-5, 1.5e-3, 5e-5, 2e-4]]])  # PE 1 overruns the tick at t1
    clock = np.array([[[low, high, low, high], [low, high, low, low]]])
    stats = PEStats(("input", "a", "a", "b"), ((0, 2), (0, 2), (2, 3), (0, 1)), zeros, zeros, zeros, zeros,
                    zeros, clock, busy, 1e-3)
    r = _report("spinnaker2", caps=Caps(8), extra={"pe_stats": stats})
    assert [(core["core"], core["populations"][0]["name"]) for core in r["cores"]] == [
        ("0.0", "input"), ("0.1", "a"), ("0.2", "a"), ("0.3", "b")]
    assert [core["dvfs"] for core in r["cores"]] == ["low", "high", "low", "auto"]
    assert [core["counts"]["spikes_out"] for core in r["cores"]] == [3, 2, 0, 1]  # PE 0 sends the input spikes
    assert [core["counts"]["messages_out"] for core in r["cores"]] == [3, 1, 0, 0]
    # cycles over both steps: tick, neurons x 20, packets in x 40, synops x 25, packets out x 10
    cycles = [2 * 1000 + 3 * 10, 2 * 1000 + 2 * 2 * 20 + 3 * 40 + 5 * 25 + 2 * 10, 2 * 1000 + 2 * 20,
              2 * 1000 + 2 * 20 + 40 + 25 + 10]
    j_high, j_low = c["p_pe_active_high"] / high, c["p_pe_active_low"] / low
    per_cycle = [j_low, j_high, j_low, (j_high + j_low) / 2]
    assert _energy(r, "dynamic_total") == pytest.approx([n * j for n, j in zip(cycles, per_cycle)])
    runtime = 1e-3 + 1.5e-3  # max(tick, slowest PE) per step
    assert r["totals"]["latency_per_inference_s"] == pytest.approx(runtime)
    assert _energy(r, "static") == pytest.approx([c["p_static_core"] * runtime] * 4)
    assert any("overrun" in caveat for caveat in r["caveats"])
