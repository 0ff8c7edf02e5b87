"""Time and peak memory of the map-cores pass for Loihi 2 on synthetic networks of about
10k, 100k and 1M neurons with about 100 synapses per neuron (4 layers of 3x3 'same'
convolutions with 11, 12, 10, 11 channels: 99, 99, 108, 90 synapses per interior neuron;
the layers differ, so none reuses another's partition; 1M neurons, 98M synapses at the top). Each size runs in a fresh process so the peak resident memory is its own;
the pass time covers partitioning, traffic, METIS placement, routing, mapping.json
content and the CoreAssignments. Goal: <= 60 s and <= 8 GB at the top size on 2 cores,
near-linear growth.

Run: .venv/bin/python -m benchmarks.mapping_scale
Writes benchmarks/results/mapping_scale.json.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "results"
SIDES = {"10k": 15, "100k": 48, "1M": 150}  # 44 x side^2 neurons
INPUT_CHANNELS, CHANNELS = 11, [11, 12, 10, 11]
#: Kapoho Point (8 chips) holds the 1M network (3 chips); the pass is timed as compiled
PIPELINE = "map-cores"


def one(side: int) -> dict:
    from snncc.mapping.synthetic import cnn
    from snncc.passbase import PassContext
    from snncc.pipeline import parse_pipeline
    from snncc.target import Capabilities

    start = time.perf_counter()
    graph = cnn((INPUT_CHANNELS, side, side), CHANNELS)
    built = time.perf_counter()
    (pass_,) = parse_pipeline(PIPELINE)
    ctx = PassContext(capabilities=Capabilities("loihi2", weight_bits=8, extra={"resource_model": "loihi2"}))
    result = pass_.run(graph, ctx)
    done = time.perf_counter()
    summary = ctx.reports["mapping"]["summary"]
    neurons = sum(CHANNELS) * side * side
    synapses = sum(c["synapses"] for c in ctx.reports["mapping"]["cores"])
    assert result.modified
    return {
        "side": side, "neurons": neurons, "synapses": synapses, "synapses_per_neuron": round(synapses / neurons, 2),
        "build_graph_s": round(built - start, 3), "map_cores_s": round(done - built, 3),
        "us_per_neuron": round(1e6 * (done - built) / neurons, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "cores": summary["cores"], "lower_bound": summary["lower_bound"], "chips": summary["chips_used"],
        "traffic_reduction": summary["traffic_reduction"],
    }


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for label, side in SIDES.items():
        proc = subprocess.run([sys.executable, "-m", "benchmarks.mapping_scale", "--one", str(side)],
                              capture_output=True, text=True, cwd=Path(__file__).resolve().parent.parent)
        if proc.returncode != 0:
            raise SystemExit(proc.stderr)
        row = {"size": label, **json.loads(proc.stdout.strip().splitlines()[-1])}
        rows.append(row)
        print(f"{label:5s} {row['neurons']:>9,} neurons {row['synapses']:>12,} synapses: map-cores "
              f"{row['map_cores_s']:7.2f} s, peak {row['peak_rss_mb']:8.1f} MB, {row['cores']} cores "
              f"(lower bound {row['lower_bound']}) on {row['chips']} chip(s)", flush=True)
    growth = [{"from": a["size"], "to": b["size"], "neurons_x": round(b["neurons"] / a["neurons"], 2),
               "time_x": round(b["map_cores_s"] / a["map_cores_s"], 2)} for a, b in zip(rows, rows[1:])]
    report = {"machine": {"cpus": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2)},
              "goal": {"seconds": 60, "peak_mb": 8192}, "rows": rows, "growth": growth}
    (OUT / "mapping_scale.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(growth))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(one(int(sys.argv[2]))))
    else:
        main()
