"""Figure 8: efficiency cost of the higher BERT accuracy target on the same system."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from mlperf_power_dag.figures.common import (
    FigureData,
    empty_message,
    long_frame,
    new_figure,
    styled,
)
from mlperf_power_dag.figures.links import HISTOGRAM
from mlperf_power_dag.metrics import accuracy_pairs_slice, same_system_pairs

EXTRA = ["efficiency_a", "efficiency_b", "source_path_a", "source_path_b"]
MEASURES = {
    # (1 - eff_b / eff_a) x 100: how much efficiency the higher target costs.
    "drop": ("pct_drop", "Efficiency drop from {a} to {b} (%)"),
    # (eff_a / eff_b - 1) x 100: how much more efficient the lower target is (the paper's axis).
    "increase": ("pct_increase", "Efficiency increase from {b} to {a} (%)"),
}


@dataclass
class Fig8Params:
    """Same-system, same-round pairs of two accuracy targets; histogram of the change."""

    category: str = "datacenter"
    division: str | None = "closed"
    scenario: str = "Offline"
    a: str = "bert-99"
    b: str = "bert-99.9"
    measure: str = "drop"  # "drop" or "increase" (see MEASURES)
    bins: int = 20


def pair_histogram(
    pairs: pd.DataFrame,
    *,
    key: str,
    series: str,
    value: str,
    benchmark: str,
    extra: list[str],
    x: pd.Series,
) -> pd.DataFrame:
    """Long rows of a histogram: one row per underlying pair (x = pair label, y = value)."""
    if pairs.empty:
        return long_frame(None, extra)
    df = pairs.assign(series=series, x=x, y=pairs[value], benchmark=benchmark)
    return long_frame(df, extra)


def build_fig8(
    results: pd.DataFrame,
    params: Fig8Params | None = None,
    accuracy_pairs: pd.DataFrame | None = None,
) -> FigureData:
    """Percent change of samples/J between two accuracy targets, one value per (round, system);
    the pairs taken from `accuracy_pairs` (the accuracy-pairs metric table of the same results)
    where it covers the parameters, else computed."""
    p = params or Fig8Params()
    if p.measure not in MEASURES:
        raise ValueError(f"measure must be one of {', '.join(MEASURES)}, not {p.measure!r}")
    kw = dict(category=p.category, division=p.division, scenario=p.scenario)
    m = accuracy_pairs_slice(accuracy_pairs, results, p.a, p.b, **kw)
    if m is None:
        m = same_system_pairs(results, p.a, p.b, **kw)
    pairs = m.frame
    notes = list(m.notes)
    if m.excluded:
        notes.append(f"{m.excluded} pairs excluded: efficiency NaN, inf or <= 0")
    if pairs.empty:
        notes.append(f"no system with both {p.a} and {p.b} {p.scenario} results with power")
    else:
        pairs = pairs.assign(
            pct_increase=(pairs["efficiency_a"] / pairs["efficiency_b"] - 1.0) * 100.0
        )
        per_round = pairs.groupby("round", sort=False).size()
        notes.append("pairs per round: " + ", ".join(f"{r} {n}" for r, n in per_round.items()))
    column, xlabel = MEASURES[p.measure]
    frame = pair_histogram(
        pairs,
        key="fig8",
        series=f"{p.a} vs {p.b}",
        value=column,
        benchmark=f"{p.a}/{p.b}",
        extra=EXTRA,
        x=pairs["round"] + " " + pairs["system"] if not pairs.empty else pd.Series(dtype=str),
    )
    meta = {"xlabel": xlabel.format(a=p.a.upper(), b=p.b.upper()), "bins": p.bins}
    return FigureData("fig8", frame, notes, meta)


@styled
def render_histogram(data: FigureData) -> Figure:
    """Histogram of the y values of a pair figure."""
    fig, ax = new_figure(1.6)
    ys = data.frame["y"].astype(float)
    if ys.empty:
        empty_message(ax, "no pairs")
        return fig
    ax.hist(ys, bins=data.meta.get("bins", 20), color="lightcoral")
    ax.set_label(HISTOGRAM)  # each result gets a slice of its bin, linked (figures.links)
    ax.set_xlabel(data.meta.get("xlabel", ""))
    ax.set_ylabel("Frequency")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return fig


def render_fig8(data: FigureData) -> Figure:
    """Figure 8."""
    return render_histogram(data)
