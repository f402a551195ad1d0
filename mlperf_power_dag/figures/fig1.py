"""Figure 1: best inference throughput per benchmark over rounds against Moore's law."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mlperf_power_dag.figures.common import (
    MARKERS,
    FigureData,
    concat_long,
    empty_message,
    label,
    log_axis,
    new_figure,
    styled,
    to_num,
    version_axis,
)
from mlperf_power_dag.metrics import best_per_round, round_dates, round_order, round_rank_map

MOORE = "Moore's law"
EXTRA = ["x_date", "value", "relative", "source_path"]


@dataclass
class Fig1Params:
    """Best Offline throughput per benchmark and round (all results, with or without power)."""

    category: str | None = "datacenter"
    division: str | None = "closed"
    scenario: str = "Offline"
    benchmarks: tuple[str, ...] = (
        "resnet50",
        "retinanet",
        "3d-unet-99",
        "dlrm-99",
        "dlrm-v2-99",
        "gptj-99",
        "stable-diffusion-xl",
    )
    # Throughput per accelerator instead of per system (systems without accelerators left out).
    per_accelerator: bool = False
    doubling_years: float = 2.0
    start_round: str = "v0.5"  # the Moore curve's origin (value 1)


def moore(date: pd.Timestamp, origin: pd.Timestamp, doubling_years: float) -> float:
    """Moore's-law factor at `date`: 2 ** (years since origin / doubling period)."""
    years = (pd.Timestamp(date) - pd.Timestamp(origin)).days / 365.25
    return float(2.0 ** (years / doubling_years))


def build_fig1(
    results: pd.DataFrame,
    params: Fig1Params | None = None,
    rounds: pd.DataFrame | None = None,
) -> FigureData:
    """Best samples/s per benchmark and round, normalized to the benchmark's first round and
    placed on the Moore curve at that round; rounds dated by the rounds table `rounds`
    (default: the catalog)."""
    p = params or Fig1Params()
    present = results["round"].astype(str).unique()
    dates = round_dates("inference", rounds, present)
    origin = dates[p.start_round]
    metric = "samples_per_second"
    if p.per_accelerator:
        n = results["accelerators"].astype("Float64")
        per = results["samples_per_second"].astype(float) / n.where(n > 0).astype(float)
        results = results.assign(samples_per_second_per_accelerator=per)
        metric = "samples_per_second_per_accelerator"
    best = best_per_round(
        results,
        metric,
        category=p.category,
        division=p.division,
        scenario=p.scenario,
        benchmarks=p.benchmarks,
    )
    notes = []
    if best.excluded:
        notes.append(f"{best.excluded} results excluded: {metric} NaN, inf or <= 0")
    df = best.frame
    order = round_order("inference", rounds, present)
    rank = round_rank_map([*order, p.start_round, *df["round"].unique()])
    df = df.loc[df["round"].map(lambda v: rank[v] >= rank[p.start_round]).astype(bool)]
    missing = [b for b in p.benchmarks if b not in set(df["benchmark"])]
    if missing:
        notes.append(f"no usable results for: {', '.join(missing)}")
    parts = []
    for bench in p.benchmarks:
        grp = df[df["benchmark"] == bench]
        if grp.empty:
            continue
        if len(grp) == 1:
            notes.append(f"{bench}: one round only ({grp['round'].iloc[0]}), a single point")
        first = grp.iloc[0]
        start = moore(dates[first["round"]], origin, p.doubling_years)
        rel = grp["value"] / first["value"]
        parts.append(
            grp.assign(
                series=label(bench),
                x=grp["round"],
                y=rel * start,
                relative=rel,
                x_date=grp["round"].map(lambda v: dates[v].date().isoformat()),
            )
        )
    last = max((rank[r] for r in df["round"]), default=None)
    # the curve is drawn at rounds that have results (not at registered rounds that failed)
    in_results = set(results["round"]) | {p.start_round}
    versions = [
        v
        for v in order
        if v in dates
        and v in in_results
        and rank[v] >= rank[p.start_round]
        and (last is None or rank[v] <= last)
    ]
    curve = pd.DataFrame(
        {
            "series": MOORE,
            "x": versions,
            "y": [moore(dates[v], origin, p.doubling_years) for v in versions],
            "x_date": [dates[v].date().isoformat() for v in versions],
        }
    )
    frame = concat_long([*parts, curve], EXTRA)
    meta = {"benchmarks": [b for b in p.benchmarks if b not in missing], "dates": dates}
    return FigureData("fig1", frame, notes, meta)


@styled
def render_fig1(data: FigureData) -> Figure:
    """Normalized performance per benchmark (log2) with the Moore's-law curve."""
    fig, ax = new_figure(2.5)
    df = data.frame
    dates = data.meta.get("dates") or round_dates(present=df["x"].astype(str).unique())
    bench_rows = df[df["series"] != MOORE]
    if bench_rows.empty:
        empty_message(ax, "no data")
        return fig
    log_axis(ax, 2)
    for i, bench in enumerate(data.meta.get("benchmarks", [])):
        grp = df[df["benchmark"] == bench]
        xs = [to_num(dates[v]) for v in grp["x"]]
        ax.plot(xs, grp["y"].astype(float), marker=MARKERS[i % len(MARKERS)], label=label(bench))
    curve = df[df["series"] == MOORE]
    ax.plot(
        [to_num(dates[v]) for v in curve["x"]],
        curve["y"].astype(float),
        marker="o",
        color="gold",
        label=MOORE,
        zorder=1,
    )
    ys = df["y"].astype(float)
    low = min(0.8, 2 ** np.floor(np.log2(float(np.nanmin(ys)) * 0.9)))
    ax.set_ylim(low, 2 ** np.ceil(np.log2(float(np.nanmax(ys)) * 1.1)))
    version_axis(ax, list(curve["x"]), xlabel="MLPerf Inference version", dates=dates)
    ax.set_ylabel("Normalized performance")
    ax.grid(True, axis="y")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=3, handlelength=1.8)
    return fig
