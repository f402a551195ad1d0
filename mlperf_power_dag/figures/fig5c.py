"""Figure 5c: MLPerf Tiny energy-efficiency trends (best inferences/J so far, normalized).

Per tiny benchmark (image classification/ResNet, visual wake words/MobileNet, keyword
spotting/DS-CNN, anomaly detection/FC AutoEncoder): the most efficient result of each round
(inferences per joule = 1 / median energy per inference of the energy run), the running
maximum over rounds, normalized to the benchmark's first round with a usable energy result
(v0.5 for all four with the default parameters). Reuses `fig5.build_trend`.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from mlperf_power_dag.figures.common import (
    FigureData,
    empty_message,
    log_axis,
    long_frame,
    new_figure,
    styled,
    tidy_log_labels,
    to_num,
    version_axis,
)
from mlperf_power_dag.figures.fig5 import TREND_EXTRA, build_trend
from mlperf_power_dag.metrics import (
    best_per_group,
    repeated_results,
    round_dates,
    round_order,
    round_rank_map,
)

KEY = "fig5c"
SUITE = "tiny"
FIG5C_BENCHMARKS = ("ic", "vww", "kws", "ad")

# Legend labels: model (task), as the paper names the models.
TINY_LABELS = {
    "ic": "ResNet (image classification)",
    "vww": "MobileNet (visual wake words)",
    "kws": "DS-CNN (keyword spotting)",
    "ad": "FC AutoEncoder (anomaly detection)",
    "sww": "streaming wake word",
}
# Colour and marker of each benchmark as in the printed figure (MobileNet blue circles,
# ResNet orange squares, DS-CNN green diamonds, AutoEncoder red plus signs).
TINY_STYLE = {
    "vww": ("C0", "o"),
    "ic": ("C1", "s"),
    "kws": ("C2", "D"),
    "ad": ("C3", "P"),
}
_OTHER_MARKERS = ["^", "v", "X", "*", "<", ">"]

# What the reader knows about benchmarks that are not plotted by default.
_WHY_NOT = {
    "sww": "v1.3 streaming wake word: its energy is per 20-minute run, not per inference",
}

RUNTIME_KIND = "energy_runtime_not_met"
YLABEL = "Normalized energy efficiency\n(inferences/J)"

# The long frame: LONG_COLUMNS, the trend's extras, then this figure's own.
EXTRA = [
    *TREND_EXTRA,
    "energy_per_inference_uj",
    "runtime_flagged",
    "round_best_submitter",
    "round_best_system",
    "source_repo",
    "source_commit",
]


@dataclass
class Fig5cParams:
    """Tiny efficiency trend of the paper's four benchmarks (closed division).

    include_flagged_runtime: count energy runs whose measurement windows were shorter than
    the runner's 10 s requirement (the reader's ``energy_runtime_not_met`` problems). True,
    as published: MLCommons published these results and the paper used them; two of them
    (the v0.5 reference ic and ad runs, windows of 7.0 s and 0.1 s whose five energies per
    inference agree within 0.04% and 1.1%) are the figure's baselines, and none sets a later
    maximum. False needs the tiny problems table (``problems=``).
    last_round: last tiny round plotted (None: all; "v1.2" is the printed figure's range).
    """

    division: str | None = "closed"
    benchmarks: tuple[str, ...] = FIG5C_BENCHMARKS
    include_flagged_runtime: bool = True
    last_round: str | None = None


def tiny_label(benchmark: str) -> str:
    """Legend label of a tiny benchmark id (the id itself if unknown)."""
    return TINY_LABELS.get(benchmark, benchmark)


def tiny_efficiency(tiny: pd.DataFrame) -> pd.Series:
    """Inferences per joule: 1e6 / median energy per inference (µJ), else the table's value."""
    epi = pd.to_numeric(tiny["energy_per_inference_uj"], errors="coerce").astype(float)
    ipj = pd.to_numeric(tiny["inferences_per_joule"], errors="coerce").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = 1e6 / epi
    return derived.where(epi.notna(), ipj)


def has_energy_run(tiny: pd.DataFrame) -> pd.Series:
    """True for results with an energy run (energy per inference, its inverse, or power)."""
    cols = ["energy_per_inference_uj", "inferences_per_joule", "power_w"]
    return tiny[cols].notna().any(axis=1)


def runtime_flagged(tiny: pd.DataFrame, problems: pd.DataFrame | None) -> pd.Series:
    """Per row: whether its energy run missed the runtime requirement (None: unknown).

    A problem ``<result folder>/<mode folder>/<file>`` of kind ``energy_runtime_not_met``
    flags the result whose ``source_path`` is that folder, in the same round.
    """
    if problems is None:
        return pd.Series([None] * len(tiny), index=tiny.index, dtype=object)
    hits = problems.loc[problems["kind"] == RUNTIME_KIND]
    if "suite" in hits.columns:
        hits = hits.loc[hits["suite"] == SUITE]
    keys = {
        (str(r), posixpath.dirname(posixpath.dirname(str(p))))
        for r, p in zip(hits["round"], hits["source_path"], strict=True)
    }
    flags = [
        (str(r), str(p)) in keys for r, p in zip(tiny["round"], tiny["source_path"], strict=True)
    ]
    return pd.Series(flags, index=tiny.index, dtype=object)


def _count_by_round(rows: pd.DataFrame) -> str:
    counts = rows.groupby("round").size()
    rank = round_rank_map(counts.index)
    order = sorted(counts.index, key=rank.__getitem__)
    return ", ".join(f"{v} {counts[v]}" for v in order)


def _empty(notes: list[str], p: Fig5cParams) -> FigureData:
    meta = {"suite": SUITE, "ylabel": YLABEL, "benchmarks": [], "empty": "no tiny data"}
    meta["params"] = p
    return FigureData(KEY, long_frame(None, EXTRA), notes, meta)


def build_fig5c(
    tiny: pd.DataFrame | None,
    params: Fig5cParams | None = None,
    *,
    problems: pd.DataFrame | None = None,
    rounds: pd.DataFrame | None = None,
) -> FigureData:
    """Best tiny inferences/J so far per benchmark and round, normalized to its first round.

    `tiny` is the TinyResults table; `problems` the tiny Problems table, needed only to mark
    (and, with include_flagged_runtime=False, drop) energy runs that missed the runtime
    requirement; `rounds` the rounds table (default: the catalog), for the known rounds and
    their dates. Every result left out is counted in the notes.
    """
    p = params or Fig5cParams()
    benchmarks = tuple(p.benchmarks)
    if tiny is None or tiny.empty:
        return _empty(["no tiny results given"], p)
    notes: list[str] = []
    rows = tiny.copy()

    if p.division is not None:
        other = rows["division"] != p.division
        if other.any():
            notes.append(f"{int(other.sum())} results of other divisions left out")
        rows = rows.loc[~other]
    if p.last_round is not None:
        order = round_order(SUITE, rounds, tiny["round"].astype(str).unique())
        if p.last_round not in order:
            raise ValueError(
                f"last_round {p.last_round!r} is not a tiny round; known: {', '.join(order)}"
            )
        versions = rows["round"].astype(str)
        rank = versions.map(round_rank_map([*versions.unique(), p.last_round]))
        later = rank > round_rank_map([*versions.unique(), p.last_round])[p.last_round]
        if later.any():
            notes.append(
                f"{int(later.sum())} results after {p.last_round} left out "
                f"({_count_by_round(rows.loc[later])})"
            )
        rows = rows.loc[~later]

    unlisted = ~rows["benchmark"].isin(list(benchmarks))
    for bench, grp in rows.loc[unlisted].groupby("benchmark"):
        why = _WHY_NOT.get(str(bench), "not one of the plotted benchmarks")
        notes.append(
            f"{len(grp)} {bench} results not plotted ({why}; by round: {_count_by_round(grp)})"
        )
    rows = rows.loc[~unlisted]

    energy = has_energy_run(rows)
    if (~energy).any():
        notes.append(
            f"{int((~energy).sum())} results without an energy run (performance/accuracy only) "
            "not considered"
        )
    rows = rows.loc[energy]
    rows = rows.assign(
        inferences_per_joule=tiny_efficiency(rows),
        runtime_flagged=runtime_flagged(rows, problems),
    )

    flagged = rows["runtime_flagged"] == True  # noqa: E712 (object column: True/False/None)
    if not p.include_flagged_runtime:
        if problems is None:
            notes.append(
                "include_flagged_runtime=False needs the tiny problems table "
                f"({RUNTIME_KIND}); none given, so no energy run was left out"
            )
        elif flagged.any():
            names = "; ".join(
                f"{r.round} {r.benchmark} {r.submitter} {r.system}"
                for r in rows.loc[flagged].itertuples()
            )
            notes.append(
                f"{int(flagged.sum())} energy runs that missed the runtime requirement left "
                f"out: {names}"
            )
            rows = rows.loc[~flagged]

    data = build_trend(
        rows,
        "inferences_per_joule",
        key=KEY,
        benchmarks=benchmarks,
        suite=SUITE,
        ylabel=YLABEL,
        notes=notes,
        rounds=rounds,
    )
    data.meta["params"] = p
    if data.frame.empty:
        data.meta["empty"] = "no tiny energy results"
        data.frame = long_frame(None, EXTRA)
        return data
    data.frame = _decorate(data.frame, rows)
    data.notes.extend(_baseline_notes(data.frame))
    data.notes.extend(_flag_notes(data.frame, problems))
    data.notes.extend(_republished_notes(rows))
    return data


def _decorate(frame: pd.DataFrame, rows: pd.DataFrame) -> pd.DataFrame:
    """Tiny labels, scenario, and per point: the holder's energy, flag, source; the round best."""
    key = ["round", "division", "submitter", "system", "benchmark"]
    holder = rows[
        [*key, "energy_per_inference_uj", "runtime_flagged", "source_repo", "source_commit"]
    ]
    out = frame.merge(holder, on=key, how="left", validate="many_to_one")
    best = best_per_group(rows, "inferences_per_joule").frame
    best = best[["benchmark", "round", "submitter", "system"]].rename(
        columns={
            "round": "x",
            "submitter": "round_best_submitter",
            "system": "round_best_system",
        }
    )
    out = out.merge(best, on=["benchmark", "x"], how="left", validate="one_to_one")
    out = out.assign(series=out["benchmark"].map(tiny_label), scenario="SingleStream")
    return long_frame(out, EXTRA)


def _baseline_notes(frame: pd.DataFrame) -> list[str]:
    firsts = frame.groupby("benchmark", sort=False).head(1)
    parts = [
        f"{r.benchmark} {r.x} ({r.value:.6g} inferences/J, {r.submitter} {r.system})"
        for r in firsts.itertuples()
    ]
    return ["normalized to each benchmark's first round with usable energy: " + "; ".join(parts)]


def _flag_notes(frame: pd.DataFrame, problems: pd.DataFrame | None) -> list[str]:
    if problems is None:
        return []
    hit = frame.loc[frame["runtime_flagged"] == True]  # noqa: E712
    if hit.empty:
        return []
    held = hit.drop_duplicates(["benchmark", "round", "submitter", "system"])
    names = "; ".join(
        f"{r.benchmark} {r.round} {r.submitter} {r.system}" for r in held.itertuples()
    )
    return [
        f"{len(hit)} plotted points rest on energy runs that missed the 10 s runtime "
        f"requirement (kept as published): {names}"
    ]


def _republished_notes(rows: pd.DataFrame) -> list[str]:
    tables = {str(r): g for r, g in rows.groupby("round")}
    rep = repeated_results(tables)
    if rep.empty:
        return []
    subs = ", ".join(sorted(rep["submitter"].unique()))
    return [
        f"{len(rep)} energy results republished unchanged from an earlier round ({subs}; "
        f"{_count_by_round(rep)}); they count in every round that publishes them and can be "
        "a round's own best (round_best), never a new maximum"
    ]


@styled
def render_fig5c(data: FigureData) -> Figure:
    """One line per tiny benchmark over round dates, log y axis, paper colours and markers."""
    fig, ax = new_figure(2.4)
    df = data.frame
    if df.empty:
        empty_message(ax, "no tiny data")
        return fig
    dates = data.meta.get("dates") or round_dates(SUITE, present=df["x"].astype(str).unique())
    log_axis(ax, 10)
    benches = data.meta.get("benchmarks") or list(df["benchmark"].unique())
    extra = iter(_OTHER_MARKERS)
    for i, bench in enumerate(benches):
        grp = df[df["benchmark"] == bench]
        if grp.empty:
            continue
        color, marker = TINY_STYLE.get(bench, (f"C{4 + i}", next(extra, "o")))
        xs = [to_num(dates[v]) for v in grp["x"]]
        ax.plot(
            xs,
            grp["y"].astype(float),
            color=color,
            marker=marker,
            label=tiny_label(bench),
        )
    rank = round_rank_map(set(df["x"]))
    versions = sorted(rank, key=rank.__getitem__)
    version_axis(ax, versions, SUITE, dates=dates)
    ax.set_ylabel(data.meta.get("ylabel", YLABEL))
    ax.grid(True, axis="y", which="major")
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.08), ncol=2, handlelength=1.8)
    tidy_log_labels(ax)
    return fig
