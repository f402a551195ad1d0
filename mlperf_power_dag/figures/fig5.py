"""Figure 5a/5b: best energy efficiency so far per benchmark, normalized to its first round.

`build_trend` and `render_trend` are suite-agnostic so that the tiny trend (5c) reuses them
with inferences per joule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from mlperf_power_dag.figures.common import (
    MARKERS,
    FigureData,
    empty_message,
    label,
    log_axis,
    long_frame,
    new_figure,
    styled,
    tidy_log_labels,
    to_num,
    version_axis,
)
from mlperf_power_dag.metrics import (
    best_per_group,
    efficiency,
    has_power,
    normalize_to_first,
    round_dates,
    round_rank_map,
    running_max,
    select,
    sort_rounds,
    usable,
)

FIG5A_BENCHMARKS = (
    "resnet50",
    "retinanet",
    "bert-99",
    "rnnt",
    "gptj-99",
    "dlrm-v2-99",
    "llama2-70b-99.9",
)
FIG5B_BENCHMARKS = ("resnet50", "retinanet", "bert-99", "rnnt")

TREND_EXTRA = ["x_date", "value", "round_best", "source_path"]
# Columns of the best-efficiency metric table -> the names `running_max` and
# `normalize_to_first` give them.
TREND_COLUMNS = {
    "best_samples_per_joule": "value",
    "as_of_round": "x_round",
    "best_so_far": "round_best",
    "best_so_far_normalized": "normalized",
}


@dataclass
class Fig5aParams:
    """Datacenter efficiency trend: the paper's benchmarks plus later ones with >= 2 rounds."""

    category: str = "datacenter"
    division: str | None = "closed"
    scenario: str = "Offline"
    benchmarks: tuple[str, ...] = FIG5A_BENCHMARKS
    # Also plot every other benchmark whose first round with power is this one or later and
    # that has power results in at least `later_min_rounds` rounds (None: no extras).
    later_since: str | None = "v4.0"
    later_min_rounds: int = 2


@dataclass
class Fig5bParams:
    """Edge efficiency trend of the paper's four benchmarks."""

    category: str = "edge"
    division: str | None = "closed"
    scenario: str = "Offline"
    benchmarks: tuple[str, ...] = FIG5B_BENCHMARKS
    later_since: str | None = None
    later_min_rounds: int = 2


def later_benchmarks(
    rows: pd.DataFrame,
    listed: Sequence[str],
    since: str | None,
    min_rounds: int,
) -> list[str]:
    """Benchmarks not in `listed` first seen in round `since` or later, with >= min_rounds."""
    if since is None or rows.empty:
        return []
    rank = round_rank_map([since, *rows["round"].unique()])
    start = rank[since]
    out = []
    for bench, grp in rows.groupby("benchmark"):
        if bench in listed:
            continue
        rounds_ = grp["round"].unique()
        if min(rank[v] for v in rounds_) >= start and len(rounds_) >= min_rounds:
            out.append(str(bench))
    return sorted(out)


def build_trend(
    rows: pd.DataFrame,
    value: str,
    *,
    key: str,
    benchmarks: Sequence[str],
    suite: str = "inference",
    ylabel: str = "Normalized energy efficiency",
    excluded_before: int = 0,
    notes: Sequence[str] = (),
    trend: pd.DataFrame | None = None,
    rounds: pd.DataFrame | None = None,
) -> FigureData:
    """Per benchmark: best `value` per round, running maximum, normalized to its first round.

    `rows` is any results table (one row per result) with round, benchmark, the `value`
    column and provenance columns; the caller has already chosen division, scenario etc.
    `trend`, when given, is that computation already done on the same rows (columns as
    `normalize_to_first` returns them, any benchmarks): it is plotted as is. Rounds are
    placed at the dates of the rounds table `rounds` (default: the catalog).
    """
    notes = list(notes)
    rows = rows.loc[rows["benchmark"].isin(list(benchmarks))]
    if trend is None:
        best = best_per_group(rows, value)
        excluded, present = best.excluded, set(best.frame["benchmark"])
        rm = running_max(best.frame, "value")
        norm = normalize_to_first(rm, "value", round_col="x_round")
    else:
        excluded = int((~usable(rows[value])).sum()) if len(rows) else 0
        norm = trend.loc[trend["benchmark"].isin(list(benchmarks))].reset_index(drop=True)
        present = set(norm["benchmark"])
    excluded += excluded_before
    if excluded:
        notes.append(f"{excluded} results excluded: {value} NaN, infinite or not positive")
    missing = [b for b in benchmarks if b not in present]
    if missing:
        notes.append(f"no usable results for: {', '.join(missing)}")
    for bench, grp in norm.groupby("benchmark") if not norm.empty else []:
        if len(grp) == 1:
            notes.append(f"{bench}: one round only ({grp['x_round'].iloc[0]}), a single point")
    dates = round_dates(suite, rounds, rows["round"].astype(str).unique())
    if not norm.empty:
        norm = norm.assign(
            series=norm["benchmark"].map(label),
            x=norm["x_round"],
            y=norm["normalized"],
            x_date=norm["x_round"].map(lambda v: dates[v].date().isoformat()),
        )
        order = {b: i for i, b in enumerate(benchmarks)}
        norm = norm.assign(_o=norm["benchmark"].map(order))
        norm = sort_rounds(norm, "x_round").sort_values("_o", kind="stable")
    frame = long_frame(norm, TREND_EXTRA)
    meta = {"suite": suite, "ylabel": ylabel, "benchmarks": [b for b in benchmarks if b in present]}
    meta["dates"] = dates
    return FigureData(key, frame, notes, meta)


def best_efficiency_trend(
    best_efficiency: pd.DataFrame | None, params: Fig5aParams | Fig5bParams
) -> pd.DataFrame | None:
    """The trend of the figure's category and division in the best-efficiency metric table
    (`inference_best_efficiency`: best closed/open Offline samples/J so far, per category and
    division), with the columns `build_trend` computes; None when the table does not cover
    the figure's parameters (another scenario, any division) or is not given."""
    if best_efficiency is None or params.scenario != "Offline":
        return None
    if params.category is None or params.division is None:
        return None
    if "category" not in best_efficiency.columns:  # no results with power at all
        return pd.DataFrame(columns=["benchmark", *TREND_COLUMNS.values()])
    mine = best_efficiency.loc[
        (best_efficiency["category"] == params.category)
        & (best_efficiency["division"] == params.division)
    ]
    return mine.rename(columns=TREND_COLUMNS).reset_index(drop=True)


def _inference_trend(
    results: pd.DataFrame,
    params: Fig5aParams | Fig5bParams,
    key: str,
    best_efficiency: pd.DataFrame | None = None,
    rounds: pd.DataFrame | None = None,
) -> FigureData:
    rows = select(
        results, category=params.category, division=params.division, scenario=params.scenario
    )
    rows = rows.loc[has_power(rows)]
    rows = rows.assign(efficiency=efficiency(rows))
    notes = []
    if rows.empty:
        notes.append(
            f"no valid {params.category} {params.division or 'any-division'} {params.scenario} "
            "results with power"
        )
    extra = later_benchmarks(
        rows.loc[rows["efficiency"].notna()],
        params.benchmarks,
        params.later_since,
        params.later_min_rounds,
    )
    if extra:
        n = params.later_min_rounds
        notes.append(f"later benchmarks with >= {n} rounds: {', '.join(extra)}")
    return build_trend(
        rows,
        "efficiency",
        key=key,
        benchmarks=[*params.benchmarks, *extra],
        ylabel="Normalized energy efficiency\n(samples/J)",
        notes=notes,
        trend=best_efficiency_trend(best_efficiency, params),
        rounds=rounds,
    )


def build_fig5a(
    results: pd.DataFrame,
    params: Fig5aParams | None = None,
    best_efficiency: pd.DataFrame | None = None,
    rounds: pd.DataFrame | None = None,
) -> FigureData:
    """Datacenter Offline samples/J trend (best so far, normalized to the first power round);
    the trend taken from `best_efficiency` (the best-efficiency metric table of the same
    results) where it covers the parameters, else computed; rounds dated by the rounds table
    `rounds` (default: the catalog)."""
    return _inference_trend(results, params or Fig5aParams(), "fig5a", best_efficiency, rounds)


def build_fig5b(
    results: pd.DataFrame,
    params: Fig5bParams | None = None,
    best_efficiency: pd.DataFrame | None = None,
    rounds: pd.DataFrame | None = None,
) -> FigureData:
    """Edge Offline samples/J trend (best so far, normalized to the first power round); the
    trend taken from `best_efficiency` where it covers the parameters, else computed; rounds
    dated by the rounds table `rounds` (default: the catalog)."""
    return _inference_trend(results, params or Fig5bParams(), "fig5b", best_efficiency, rounds)


@styled
def render_trend(data: FigureData) -> Figure:
    """One line per benchmark over round dates, log y axis."""
    fig, ax = new_figure(2.4)
    df = data.frame
    suite = data.meta.get("suite", "inference")
    dates = data.meta.get("dates") or round_dates(suite, present=df["x"].astype(str).unique())
    if df.empty:
        empty_message(ax, "no data")
        return fig
    log_axis(ax, 10)
    for i, bench in enumerate(data.meta.get("benchmarks") or df["benchmark"].unique()):
        grp = df[df["benchmark"] == bench]
        if grp.empty:
            continue
        xs = [to_num(dates[v]) for v in grp["x"]]
        ax.plot(xs, grp["y"].astype(float), marker=MARKERS[i % len(MARKERS)], label=label(bench))
    rank = round_rank_map(set(df["x"]))
    versions = sorted(rank, key=rank.__getitem__)
    version_axis(ax, versions, suite, dates=dates)
    ax.set_ylabel(data.meta.get("ylabel", "Normalized"))
    ax.grid(True, axis="y", which="major")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=3, handlelength=1.8)
    tidy_log_labels(ax)
    return fig


def render_fig5a(data: FigureData) -> Figure:
    """Figure 5a."""
    return render_trend(data)


def render_fig5b(data: FigureData) -> Figure:
    """Figure 5b."""
    return render_trend(data)
