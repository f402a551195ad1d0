"""Figure 2: minimum and maximum power of the measured systems per scale."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from mlperf_power_dag.figures.common import (
    FigureData,
    concat_long,
    empty_message,
    log_axis,
    new_figure,
    styled,
)
from mlperf_power_dag.metrics import select, usable

SCALES = ("Tiny", "Edge", "Datacenter", "Training")
COLORS = {
    "Tiny": ("blue", "lightblue"),
    "Edge": ("red", "lightcoral"),
    "Datacenter": ("green", "lightgreen"),
    "Training": ("purple", "violet"),
}
EXTRA = ["category", "source_path"]


@dataclass
class Fig2Params:
    """Min/max average power per scale over every round with power."""

    division: str | None = "closed"
    scenario: str = "Offline"  # edge and datacenter inference results


def tiny_power(tiny: pd.DataFrame) -> pd.Series:
    """Average power of tiny energy runs: logged power, else energy/inference x inferences/s."""
    derived = (
        tiny["energy_per_inference_uj"].astype(float) * 1e-6 * tiny["throughput_ips"].astype(float)
    )
    return tiny["power_w"].astype(float).where(tiny["power_w"].notna(), derived)


def training_power(training: pd.DataFrame) -> pd.Series:
    """Average power of training runs: reported, else energy to train / time to train."""
    derived = training["energy_j"].astype(float) / (
        training["time_to_train_min"].astype(float) * 60.0
    )
    avg = training["average_power_w"].astype(float)
    return avg.where(avg.notna(), derived)


def _extremes(rows: pd.DataFrame, scale: str) -> tuple[list[pd.DataFrame], int]:
    """Min and max `power` row as long-format parts, and the count of unusable values."""
    ok = usable(rows["power"])
    good = rows.loc[ok].sort_values(["power", "submitter", "system"], kind="stable")
    if good.empty:
        return [], int((~ok).sum())
    low = good.head(1)
    order = ["power", "submitter", "system"]
    high = good.sort_values(order, ascending=[False, True, True], kind="stable").head(1)
    parts = [
        low.assign(series="min", x=scale, y=low["power"]),
        high.assign(series="max", x=scale, y=high["power"]),
    ]
    return parts, int((~ok).sum())


def build_fig2(
    results: pd.DataFrame,
    params: Fig2Params | None = None,
    tiny: pd.DataFrame | None = None,
    training: pd.DataFrame | None = None,
) -> FigureData:
    """Min and max power (W) of Tiny, Edge, Datacenter and Training results, with provenance."""
    p = params or Fig2Params()
    notes: list[str] = []
    parts: list[pd.DataFrame] = []
    inputs: dict[str, pd.DataFrame | None] = {}
    if tiny is None or tiny.empty:
        notes.append("Tiny: no tiny results given; scale left empty")
        inputs["Tiny"] = None
    else:
        t = tiny if p.division is None else tiny[tiny["division"] == p.division]
        t = t[t["power_w"].notna() | t["energy_per_inference_uj"].notna()]  # energy runs
        inputs["Tiny"] = t.assign(power=tiny_power(t), scenario="SingleStream")
    for scale, category in (("Edge", "edge"), ("Datacenter", "datacenter")):
        rows = select(results, category=category, division=p.division, scenario=p.scenario)
        rows = rows[rows["power_w"].notna()]
        if rows.empty:
            notes.append(f"{scale}: no valid {p.scenario} results with power")
        inputs[scale] = rows.assign(power=rows["power_w"].astype(float))
    if training is None or training.empty:
        notes.append("Training: no training results given; scale left empty")
        inputs["Training"] = None
    else:
        t = training if p.division is None else training[training["division"] == p.division]
        inputs["Training"] = t.assign(power=training_power(t), scenario=None)
    for scale in SCALES:
        rows = inputs[scale]
        if rows is None or rows.empty:
            continue
        got, excluded = _extremes(rows.reset_index(drop=True), scale)
        if excluded:
            notes.append(f"{scale}: {excluded} results excluded: power NaN, inf or <= 0")
        parts.extend(got)
    frame = concat_long(parts, EXTRA)
    return FigureData("fig2", frame, notes, {"scales": list(SCALES)})


def si_watts(w: float) -> str:
    """A power in W written with a readable unit (mW, W, kW, MW)."""
    for factor, unit in ((1e6, "MW"), (1e3, "kW"), (1.0, "W"), (1e-3, "mW")):
        if abs(w) >= factor:
            return f"{w / factor:.1f} {unit}"
    return f"{w * 1e6:.1f} µW"


@styled
def render_fig2(data: FigureData) -> Figure:
    """Pairs of bars (min, max) per scale on a log axis, labelled with their values."""
    fig, ax = new_figure(2.2)
    df = data.frame
    if df.empty:
        empty_message(ax, "no data")
        return fig
    log_axis(ax, 10)
    width = 0.38
    for i, scale in enumerate(data.meta.get("scales", SCALES)):
        for j, series in enumerate(("min", "max")):
            row = df[(df["x"] == scale) & (df["series"] == series)]
            if row.empty:
                if j == 0:
                    ax.text(i, 0.5, "no data", transform=ax.get_xaxis_transform(), ha="center")
                continue
            y = float(row["y"].iloc[0])
            x = i + (j - 0.5) * width
            ax.bar(x, y, width=width, color=COLORS[scale][j])
            ax.text(x, y * 1.25, si_watts(y), ha="center", va="bottom", fontsize=5)
    handles = [Patch(color="dimgray", label="Minimum"), Patch(color="lightgray", label="Maximum")]
    scales = list(data.meta.get("scales", SCALES))
    ax.set_xticks(range(len(scales)))
    ax.set_xticklabels(scales)
    ax.set_xlim(-0.6, len(scales) - 0.4)
    ys = df["y"].astype(float)
    ax.set_ylim(ys.min() / 4, ys.max() * 20)
    ax.set_xlabel("System type")
    ax.set_ylabel("Power (W)")
    ax.legend(handles=handles, loc="upper left")
    return fig
