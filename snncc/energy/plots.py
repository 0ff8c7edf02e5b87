"""The report's plots as inline SVG (matplotlib, Agg, no pyplot state).

Deterministic: a fixed ``svg.hashsalt``, text kept as text (``svg.fonttype = none``)
and no date in the metadata, so the same report renders to the same bytes.
"""
from __future__ import annotations

import io
import math
from typing import Any

import numpy as np

RC = {"svg.hashsalt": "snncc-energy", "svg.fonttype": "none", "font.size": 9}
KIND_COLORS = {"memory": "#8c564b", "static": "#7f7f7f"}


def _svg(fig) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": "snncc"}, bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]  # inline: drop the XML prolog and doctype


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96)


def energy_per_core(report: dict) -> str:
    import matplotlib

    cores = report["cores"]
    labels = [c["core"] for c in cores]
    kinds = sorted({k for c in cores for k in c["energy_j"]["dynamic"]})
    with matplotlib.rc_context(RC):
        fig = _figure(max(4.0, 0.35 * len(cores) + 2.0), 3.0)
        ax = fig.add_subplot()
        bottom = np.zeros(len(cores))
        stacks = [(k, [c["energy_j"]["dynamic"].get(k, 0.0) for c in cores]) for k in kinds]
        stacks += [("memory", [c["energy_j"]["memory"] for c in cores]), ("static", [c["energy_j"]["static"] for c in cores])]
        for i, (name, values) in enumerate(stacks):
            values = np.asarray(values) * 1e6
            ax.bar(range(len(cores)), values, bottom=bottom, label=name,
                   color=KIND_COLORS.get(name, f"C{i}"))
            bottom += values
        ax.set_xticks(range(len(cores)), labels, rotation=90 if len(cores) > 12 else 0)
        ax.set_xlabel("core (chip.index)")
        ax.set_ylabel("energy per inference [uJ]")
        ax.legend(fontsize=7, ncols=2)
        return _svg(fig)


def _cells(cores: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Grid cell (col, row) of every core: its mesh position, with the cores that share a
    position (a tile or QPE) in a small square around it."""
    groups: dict[tuple[int, int], int] = {}
    rank = []
    for core in cores:
        key = (core["x"], core["y"])
        rank.append(groups.get(key, 0))
        groups[key] = rank[-1] + 1
    side = max(1, math.ceil(math.sqrt(max(groups.values(), default=1))))
    cols = np.array([c["x"] * side + r % side for c, r in zip(cores, rank)], dtype=np.int64)
    rows = np.array([c["y"] * side + r // side for c, r in zip(cores, rank)], dtype=np.int64)
    return cols, rows


def core_map(report: dict) -> str:
    import matplotlib

    cores = report["cores"]
    cols, rows = _cells(cores)
    panels = [("energy per inference [uJ]", [c["energy_j"]["total"] * 1e6 for c in cores])]
    if all(c["utilisation"] is not None for c in cores):
        panels.append(("utilisation (busy / step time)", [c["utilisation"] for c in cores]))
    with matplotlib.rc_context(RC):
        fig = _figure(4.2 * len(panels), 3.4)
        for p, (title, values) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), p + 1)
            grid = np.full((rows.max() + 1, cols.max() + 1), np.nan)
            grid[rows, cols] = values
            image = ax.imshow(grid, cmap="viridis", origin="upper", interpolation="nearest")
            fig.colorbar(image, ax=ax, shrink=0.8)
            if len(cores) <= 64:
                for core, c, r in zip(cores, cols, rows):
                    ax.text(c, r, core["core"], ha="center", va="center", fontsize=6, color="white")
            ax.set_title(title)
            ax.set_xticks([])
            ax.set_yticks([])
        return _svg(fig)


def raster(report: dict) -> str:
    import matplotlib

    populations = report["raster"]["populations"]
    with matplotlib.rc_context(RC):
        fig = _figure(6.0, 3.2)
        ax = fig.add_subplot()
        offset, ticks, names = 0, [], []
        for i, (name, data) in enumerate(sorted(populations.items())):
            events = np.asarray(data["events"], dtype=float).reshape(-1, 2)
            ax.scatter(events[:, 0], events[:, 1] + offset, s=4, marker="|", color=f"C{i}", linewidths=0.8)
            ticks.append(offset + data["neurons"] / 2)
            names.append(name)
            offset += data["neurons"] + 2
        ax.set_yticks(ticks, names)
        ax.set_xlabel("time step")
        ax.set_xlim(-0.5, report["input"]["steps"] - 0.5)
        ax.set_ylim(-1, max(offset, 1))
        ax.set_title(f"spikes of sample {report['raster']['sample']}")
        return _svg(fig)


def accuracy_rows(data: Any) -> list[dict]:
    """Rows with bits, accuracy and (optionally) energy from accuracy_bits.json."""
    rows = data.get("rows", data.get("results", [])) if isinstance(data, dict) else data
    out = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        bits = row.get("weight_bits", row.get("bits"))
        accuracy = row.get("accuracy")
        energy = row.get("energy_per_inference_j", row.get("energy_j"))
        if isinstance(bits, (int, float)) and isinstance(accuracy, (int, float)):
            out.append({"bits": bits, "accuracy": accuracy, "energy_j": energy, "target": row.get("target", "")})
    return out


def energy_vs_accuracy(rows: list[dict]) -> str:
    import matplotlib

    with matplotlib.rc_context(RC):
        fig = _figure(5.0, 3.2)
        ax = fig.add_subplot()
        with_energy = [r for r in rows if isinstance(r["energy_j"], (int, float))]
        if with_energy:
            for i, target in enumerate(sorted({r["target"] for r in with_energy})):
                mine = sorted((r for r in with_energy if r["target"] == target), key=lambda r: r["bits"])
                ax.plot([r["energy_j"] * 1e6 for r in mine], [r["accuracy"] for r in mine], "o-", color=f"C{i}",
                        label=target or None)
                for r in mine:
                    ax.annotate(f"{r['bits']:g} b", (r["energy_j"] * 1e6, r["accuracy"]), fontsize=7)
            ax.set_xlabel("energy per inference [uJ]")
        else:
            ordered = sorted(rows, key=lambda r: r["bits"])
            ax.plot([r["bits"] for r in ordered], [r["accuracy"] for r in ordered], "o-")
            ax.set_xlabel("weight bits")
        ax.set_ylabel("accuracy")
        if with_energy and any(r["target"] for r in with_energy):
            ax.legend(fontsize=7)
        return _svg(fig)
