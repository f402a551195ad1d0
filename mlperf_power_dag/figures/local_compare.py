"""A local submission among the published results: per benchmark and scenario, the energy
efficiency of every published result with power (one column per round) and the local result
highlighted in its own column."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mlperf_power_dag.compare import GROUP, usable_results
from mlperf_power_dag.figures.common import FigureData, concat_long, new_figure, styled

MAX_PANELS = 8  # groups drawn; the CSV holds every group
EXTRA = ["category", "efficiency", "official", "source_path"]


def build_local_compare(
    local: pd.DataFrame, published: pd.DataFrame, order: Sequence[str], name: str
) -> FigureData:
    """Published and local efficiencies of the groups (benchmark, scenario, category,
    division) the local submission has results in; x is the round, or the local name."""
    mine = usable_results(local)
    pool = usable_results(published)
    parts, notes = [], []
    groups = mine[GROUP].drop_duplicates().itertuples(index=False)

    def of(rows: pd.DataFrame, key: tuple) -> pd.DataFrame:
        if not len(rows):
            return rows
        hit = np.logical_and.reduce([rows[c] == v for c, v in zip(GROUP, key, strict=True)])
        return rows.loc[hit]

    for i, key in enumerate(groups):
        same, ours = of(pool, key), of(mine, key)
        label = " ".join(str(v) for v in key)
        if i >= MAX_PANELS:
            notes.append(f"{label}: not drawn (more than {MAX_PANELS} groups); in the CSV")
        rank = {v: j for j, v in enumerate(order)}
        same = same.assign(series=label, x=same["round"], y=same["efficiency"], official=True)
        same = same.assign(_o=same["round"].map(rank)).sort_values("_o").drop(columns="_o")
        ours = ours.assign(series=label, x=name, y=ours["efficiency"], official=False)
        parts += [same, ours]
    if not len(mine):
        notes.append(f"{name}: no local result with a usable efficiency")
    frame = concat_long(parts, EXTRA)
    return FigureData("local_compare", frame, notes, meta={"name": name, "order": list(order)})


@styled
def render_local_compare(data: FigureData) -> Figure:
    """One panel per group: published results per round (grey), the local result (red star)."""
    frame = data.frame
    series = list(dict.fromkeys(frame["series"]))[:MAX_PANELS] if len(frame) else []
    fig, axes = new_figure(height_in=1.6 * max(1, len(series)))
    fig.clf()
    axes = fig.subplots(max(1, len(series)), 1, squeeze=False)[:, 0]
    for ax, s in zip(axes, series, strict=False):
        rows = frame.loc[frame["series"] == s]
        xs = list(dict.fromkeys(rows["x"]))
        pos = {x: i for i, x in enumerate(xs)}
        theirs, ours = rows.loc[rows["official"] == True], rows.loc[rows["official"] == False]  # noqa: E712
        ax.scatter(theirs["x"].map(pos), theirs["y"], s=8, color="0.55", label="published")
        ax.scatter(ours["x"].map(pos), ours["y"], s=40, marker="*", color="tab:red",
                   label=str(data.meta.get("name")), zorder=3)  # fmt: skip
        ax.set_xticks(range(len(xs)), xs, rotation=45, ha="right")
        ax.set_yscale("log")
        ax.set_ylabel("samples/J")
        ax.set_title(s)
        ax.grid(True, axis="y")
    if series:
        axes[0].legend(loc="best")
    fig.tight_layout()
    return fig
