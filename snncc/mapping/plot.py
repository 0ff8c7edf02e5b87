"""A picture of the core map: one cell per core slot of every used chip, coloured by the
core's peak utilisation (its most used limit), with the heaviest spike routes drawn as
lines. Pure SVG text from a mapping dict (OUT/mapping.json), so reports can embed it
without a plotting library; deterministic for the same mapping.
"""
from __future__ import annotations

from html import escape
from typing import Any

CELL = 22  # px per core slot
GAP = 18  # px between chips
MAX_ROUTES = 200  # heaviest core-to-core routes drawn


def _colour(fraction: float) -> str:
    """White (idle) -> orange -> dark red (full)."""
    f = min(max(fraction, 0.0), 1.0)
    r = int(255 - 75 * f)
    g = int(245 - 200 * f)
    b = int(235 - 215 * f)
    return f"#{r:02x}{g:02x}{b:02x}"


def core_map_svg(mapping: dict[str, Any], title: str | None = None) -> str:
    model = mapping["resource_model"]
    cols, rows = model["mesh_shape"]
    per_slot = model.get("pes_per_qpe", 1)
    per_chip = model["cores_per_chip"]
    chip_cols = model["chip_grid"][0]
    if model["name"] == "fpga":  # a pipeline of engines: one row
        cols, rows = max(len(mapping["cores"]), 1), 1
    chips = mapping["summary"]["chips"] or [0]
    chip_x = {c: (c % chip_cols) for c in chips}
    chip_y = {c: (c // chip_cols) for c in chips}
    x0, y0 = min(chip_x.values()), min(chip_y.values())
    sub = 2 if per_slot == 4 else 1  # SpiNNaker: the four PEs of a QPE as a 2 x 2 block
    chip_w, chip_h = cols * sub * CELL, rows * sub * CELL
    top = 40

    def origin(chip: int) -> tuple[int, int]:
        return ((chip_x[chip] - x0) * (chip_w + GAP) + 10, (chip_y[chip] - y0) * (chip_h + GAP) + top)

    def centre(core: int) -> tuple[float, float]:
        chip, local = divmod(core, per_chip)
        slot, pe = divmod(local, per_slot)
        ox, oy = origin(chip) if chip in chip_x else (0, top)
        x = ox + (slot % cols) * sub * CELL + (pe % sub) * CELL + CELL / 2
        y = oy + (slot // cols) * sub * CELL + (pe // sub) * CELL + CELL / 2
        return x, y

    width = (max(chip_x.values()) - x0 + 1) * (chip_w + GAP) + 20
    height = (max(chip_y.values()) - y0 + 1) * (chip_h + GAP) + top + 30
    s = mapping["summary"]
    heading = title or (f"{model['name']}: {s['cores']} cores on {s['chips_used']} chip(s), "
                        f"lower bound {s['lower_bound']}, traffic {100 * s['traffic_reduction']:.0f} % "
                        "below sequential fill")
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f'<text x="10" y="18" font-size="13">{escape(heading)}</text>',
           f'<text x="10" y="{top - 8}" fill="#555">cell colour: peak utilisation; lines: spike routes '
           '(width ~ spikes per step)</text>']
    used = {c["core"]: c for c in mapping["cores"]}
    for chip in chips:
        ox, oy = origin(chip)
        out.append(f'<rect x="{ox - 2}" y="{oy - 2}" width="{chip_w + 4}" height="{chip_h + 4}" '
                   f'fill="none" stroke="#333" stroke-width="1.5"><title>chip {chip}</title></rect>')
        for local in range(min(per_chip, cols * rows * per_slot)):
            core = chip * per_chip + local
            x, y = centre(core)
            info = used.get(core)
            if info is None:
                fill, tip = "#eeeeee", f"core {core}: free"
            else:
                peak = max(info["utilisation"].values(), default=0.0)
                fill = _colour(peak)
                tip = (f"core {core} ({info['layer']}): {info['neurons']} neurons, fan-in {info['fan_in']}, "
                       f"peak {100 * peak:.0f} %")
            out.append(f'<rect x="{x - CELL / 2 + 1:.1f}" y="{y - CELL / 2 + 1:.1f}" width="{CELL - 2}" '
                       f'height="{CELL - 2}" fill="{fill}" stroke="#bbb" stroke-width="0.5">'
                       f'<title>{escape(tip)}</title></rect>')
    edges = [e for e in mapping.get("traffic", []) if e[0] != e[1]]
    edges = sorted(edges, key=lambda e: (-e[3], e[0], e[1]))[:MAX_ROUTES]
    heaviest = max((e[3] for e in edges), default=0.0)
    for a, b, _, spikes in edges:
        (xa, ya), (xb, yb) = centre(a), centre(b)
        w = 0.5 + 3.5 * spikes / heaviest if heaviest > 0 else 0.5
        out.append(f'<line x1="{xa:.1f}" y1="{ya:.1f}" x2="{xb:.1f}" y2="{yb:.1f}" stroke="#1f5fa8" '
                   f'stroke-opacity="0.45" stroke-width="{w:.2f}"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_core_map(mapping: dict[str, Any], path: str) -> str:
    with open(path, "w") as handle:
        handle.write(core_map_svg(mapping))
    return path
