"""Figure 10: efficiency change of the same hardware between consecutive rounds."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

from mlperf_power_dag.figures.common import FigureData, long_frame
from mlperf_power_dag.figures.fig8 import render_histogram
from mlperf_power_dag.metrics import consecutive_pairs, software_gains_slice

SERIES = "same hardware, consecutive rounds"
EXTRA = [
    "round_before",
    "system_before",
    "efficiency_before",
    "efficiency_after",
    "accelerator",
    "accelerators",
    "host_processor",
    "source_path_before",
    "source_path_after",
]


@dataclass
class Fig10Params:
    """Consecutive-round pairs of one hardware configuration; histogram of the change."""

    category: str = "datacenter"
    division: str | None = "closed"
    scenario: str = "Offline"
    benchmarks: tuple[str, ...] | None = None  # None: every benchmark
    bins: int = 20


def build_fig10(
    results: pd.DataFrame,
    params: Fig10Params | None = None,
    software_gains: pd.DataFrame | None = None,
    rounds: pd.DataFrame | None = None,
) -> FigureData:
    """Percent change of samples/J from one round to the next on the same hardware; the pairs
    taken from `software_gains` (the software-gains metric table of the same results) where it
    covers the parameters, else computed with the rounds consecutive in the rounds table
    `rounds` (default: the catalog)."""
    p = params or Fig10Params()
    kw = dict(
        category=p.category, division=p.division, scenario=p.scenario, benchmarks=p.benchmarks
    )
    m = software_gains_slice(software_gains, results, **kw)
    if m is None:
        m = consecutive_pairs(results, **kw, rounds=rounds)
    notes = list(m.notes)
    if m.excluded:
        notes.append(f"{m.excluded} results excluded: efficiency NaN, inf or <= 0")
    pairs = m.frame
    if pairs.empty:
        notes.append("no same-hardware pairs in consecutive rounds")
        frame = long_frame(None, EXTRA)
    else:
        per = pairs.groupby(["round_before", "round_after"], sort=False).size()
        notes.append(
            "pairs per round step: " + ", ".join(f"{a}->{b} {n}" for (a, b), n in per.items())
        )
        df = pairs.assign(
            series=SERIES,
            x=pairs["benchmark"]
            + " "
            + pairs["round_before"]
            + "->"
            + pairs["round_after"]
            + " "
            + pairs["system_after"],
            y=pairs["pct_change"],
            round=pairs["round_after"],
            system=pairs["system_after"],
        )
        frame = long_frame(df, EXTRA)
    meta = {"xlabel": "Efficiency change, same hardware, next round (%)", "bins": p.bins}
    return FigureData("fig10", frame, notes, meta)


def render_fig10(data: FigureData) -> Figure:
    """Figure 10."""
    return render_histogram(data)
