"""Figure 11a: performance, power and efficiency of one system across rounds."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mlperf_power_dag.figures.common import (
    FigureData,
    concat_long,
    empty_message,
    new_figure,
    styled,
)
from mlperf_power_dag.metrics import system_series

# Qualcomm's Gigabyte R282-Z93 with 5x QAIC100 (edge), the id it has in each round.
R282_Z93_Q5 = {
    "v1.1": "r282_z93_q5-qaic-v1.5.6-aic100",
    "v2.0": "r282_z93_q5e-qaic-v1.6.80-aic100",
    "v3.0": "r282_z93_q5e-qaic-v1.8.3.7-aic100",
    "v3.1": "r282_z93_q5e",
}
SERIES = {
    "efficiency": ("efficiency", "samples/J", "lightblue", "Energy eff."),
    "performance": ("samples_per_second", "samples/s", "lightcoral", "Perf"),
    "power": ("power_w", "W", "lightgreen", "Power"),
}
EXTRA = ["value", "unit", "system_name", "source_path"]


@dataclass
class Fig11aParams:
    """One system across rounds (round -> system id), one benchmark and scenario."""

    systems: dict[str, str] = field(default_factory=lambda: dict(R282_Z93_Q5))
    benchmark: str = "resnet50"
    scenario: str = "Offline"
    category: str | None = "edge"
    division: str | None = "closed"


def build_fig11a(results: pd.DataFrame, params: Fig11aParams | None = None) -> FigureData:
    """Efficiency, performance and power of the chosen results, normalized to the first round."""
    p = params or Fig11aParams()
    m = system_series(
        results,
        p.systems,
        benchmark=p.benchmark,
        scenario=p.scenario,
        category=p.category,
        division=p.division,
    )
    notes = list(m.notes)
    df = m.frame
    parts = []
    if not df.empty:
        for series, (column, unit, _, _) in SERIES.items():
            values = df[column].astype(float)
            parts.append(
                df.assign(
                    series=series,
                    x=df["round"],
                    y=values / values.iloc[0],
                    value=values,
                    unit=unit,
                )
            )
    else:
        notes.append("no results of the chosen systems")
    frame = concat_long(parts, EXTRA)
    return FigureData("fig11a", frame, notes, {"benchmark": p.benchmark})


@styled
def render_fig11a(data: FigureData) -> Figure:
    """Grouped bars per round (efficiency, performance, power), labelled with their values."""
    fig, ax = new_figure(2.2)
    df = data.frame
    if df.empty:
        empty_message(ax, "no data")
        return fig
    versions = list(dict.fromkeys(df["x"]))
    xs = np.arange(len(versions))
    width = 0.27
    top = 0.0
    for i, (series, (_, _, color, name)) in enumerate(SERIES.items()):
        ys = df[df["series"] == series].set_index("x")["y"].reindex(versions).astype(float)
        pos = xs + (i - 1) * width
        ax.bar(pos, ys, width=width, color=color, label=name)
        for x, y in zip(pos, ys, strict=True):
            ax.text(x, y + 0.03, f"{y:.2f}", ha="center", va="bottom", rotation=90, fontsize=5)
        top = max(top, float(np.nanmax(ys)))
    ax.axhline(1.0, color="gray", linestyle="--", linewidth=0.6, zorder=0)
    ax.set_xticks(xs)
    ax.set_xticklabels(versions)
    ax.set_xlim(-0.6, max(len(versions), 2) - 0.4)
    ax.set_ylim(0, max(2.0, top * 1.35))
    ax.set_xlabel(f"MLPerf Inference version ({data.meta.get('benchmark', '')})")
    ax.set_ylabel("Normalized to first round")
    ax.legend(loc="upper left", ncol=3)
    return fig
