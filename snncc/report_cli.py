"""Terminal rendering (rich) for compile summaries and `inspect`."""
from __future__ import annotations

from rich.table import Table

from .analysis import node_stats
from .ir.printer import describe, print_graph


def print_notes(console, notes) -> None:
    for note in notes:
        console.print(f"[dim]{note.render()}[/dim]")


def print_compile_summary(console, result) -> None:
    print_notes(console, result.notes)
    table = Table(title=f"snncc compile -> {result.target}", show_lines=False)
    for column in ("pass", "modified", "ms", "changes"):
        table.add_column(column)
    for record in result.records:
        changes = ", ".join(f"{k}: {v}" for k, v in record.changes.items())
        table.add_row(record.spec, "yes" if record.modified else "no", f"{record.seconds * 1e3:.1f}", changes[:80])
    console.print(table)
    resources = result.manifest["resources"]
    console.print(f"neurons {resources['neurons']:,}  synapses {resources['synapses']:,}  "
                  f"parameters {resources['parameters']:,}  dt {result.graph.dt}")
    from .mapping.summary import print_mapping  # core utilisation table (map-cores, docs/mapping.md)

    print_mapping(console, result.manifest["reports"].get("mapping"))
    print_fidelity(console, result.manifest.get("fidelity"))
    if result.out_dir:
        console.print(f"wrote {result.out_dir}/manifest.json and {len(result.artifacts)} artifact(s)")


def print_fidelity(console, fidelity) -> None:
    """manifest["fidelity"]: the compiled network against the float model, per layer."""
    if not fidelity:
        return
    table = Table(title=f"fidelity: {fidelity['backend']} vs float model on {fidelity['samples']} calibration "
                        f"sample(s) x {fidelity['steps']} steps")
    for column in ("layer", "neurons", "spike agreement", "spikes float", "spikes compiled", "saturated", "zeroed weights"):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for name, layer in fidelity["layers"].items():
        table.add_row(name, f"{layer['neurons']:,}", f"{layer['agreement']:.4f}", f"{layer['spikes_float']:,}",
                      f"{layer['spikes_compiled']:,}", str(layer.get("saturated", "-")), str(layer.get("zeroed_weights", "-")))
    for name, counts in fidelity.get("quantize", {}).items():
        table.add_row(name, "", "", "", "", str(counts.get("saturated", "-")), str(counts.get("zeroed_weights", "-")))
    console.print(table)
    console.print(f"same predicted class as the float model: {fidelity['prediction_agreement']:.4f}")


def print_inspect(console, imported, show_ir: bool) -> None:
    graph = imported.graph
    print_notes(console, imported.notes)
    table = Table(title=f"{len(graph.nodes)} nodes, {len(graph.edges)} edges, dt={graph.dt}")
    for column in ("node", "kind", "input", "output", "neurons", "synapses", "parameters"):
        table.add_column(column)
    for s in node_stats(graph):
        table.add_row(s.name, s.kind, str(s.input_shape), str(s.output_shape), f"{s.neurons:,}", f"{s.synapses:,}",
                      describe(graph.nodes[s.name])[len(s.kind) + 1 : -1][:90])
    console.print(table)
    if show_ir:
        console.print(print_graph(graph), markup=False)
