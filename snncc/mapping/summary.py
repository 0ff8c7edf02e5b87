"""The core utilisation table of the `snncc compile` summary (rich)."""
from __future__ import annotations

from typing import Any

from rich.table import Table

from .report import utilisation_rows


def print_mapping(console, mapping: dict[str, Any] | None) -> None:
    """Per layer: cores against the lower bound and the peak use of every core limit."""
    if not mapping:
        return
    rows = utilisation_rows(mapping)
    limits = sorted({key for row in rows for key in row["peak"]})
    s = mapping["summary"]
    table = Table(title=f"core map ({mapping['resource_model']['name']}): {s['cores']} cores on "
                        f"{s['chips_used']} chip(s), lower bound {s['lower_bound']}")
    for column in ("layer", "neurons", "cores", "lower bound", *[f"peak {k}" for k in limits]):
        table.add_column(column, justify="left" if column == "layer" else "right")
    for row in rows:
        table.add_row(row["layer"], f"{row['neurons']:,}", str(row["cores"]), str(row["lower_bound"]),
                      *[f"{100 * row['peak'][k]:.0f} %" if k in row["peak"] else "-" for k in limits])
    console.print(table)
    console.print(f"hop-weighted traffic {s['hop_traffic']:,.0f} spikes x hops per step "
                  f"({mapping['activity']} activity), {100 * s['traffic_reduction']:.0f} % below sequential fill")
