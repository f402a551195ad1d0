"""Figure 6: Llama2-70B LoRA fine-tuning, energy to train and time to train vs scale.

One group of bars per accelerator count; in a group one stacked bar per power measurement
variant (AC, DC): energy of the compute nodes plus energy of the interconnect (MJ). Time to
train (minutes) on a second axis, one line per variant. All values are the training reader's
(`readers.training`): mlperf-logging's result summarizer, olympic average over the runs, times
the ``scaling.json`` factor; compute + interconnect = energy to train.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from mlperf_power_dag.figures.common import (
    MARKERS,
    FigureData,
    concat_long,
    empty_message,
    long_frame,
    new_figure,
    styled,
)

COMPUTE = "compute energy"
INTERCONNECT = "interconnect energy"
TIME = "time to train"
UNITS = {COMPUTE: "MJ", INTERCONNECT: "MJ", TIME: "min"}
SCENARIO = ""  # training results have no inference scenario
EXTRA = [
    "unit",
    "power_measurement",
    "tag",
    "nodes",
    "runs_used",
    "source_repo",
    "source_path",
    "source_commit",
]

COLORS = {COMPUTE: "lightblue", INTERCONNECT: "lightcoral"}
# Per power measurement variant: bar hatch, time line colour, line style and marker.
VARIANT_STYLE = {
    "DC": ("", "red", "-", "o"),
    "AC": ("//////", "darkred", "--", "s"),
}
OTHER_STYLE = ("....", "dimgray", ":", "D")
EXTRA_COLORS = ("darkorange", "purple", "green", "blue", "brown", "olive")


@dataclass
class Fig6Params:
    """Training energy and time to train of one benchmark in one round, per scale."""

    benchmark: str = "llama2_70b_lora"
    round: str = "v4.0"
    division: str | None = "closed"
    # Power measurement variants to show (the reader's `power_measurement`: AC, DC, unknown).
    power_measurement: tuple[str, ...] = ("AC", "DC")
    submitter: str | None = None  # None: every submitter


def _finite(values: pd.Series) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce").astype(float)
    return pd.Series(np.isfinite(v.to_numpy()), index=values.index)


def _tags(rows: pd.DataFrame) -> tuple[pd.Series, list[str]]:
    """Series tag of each row: its variant, plus submitter/system/division where one variant
    has several results at one scale (so that every (scale, tag) is one result)."""
    tags = rows["power_measurement"].astype(str)
    notes = []
    for extra in ("submitter", "system", "division"):
        dup = pd.DataFrame({"x": rows["x"], "tag": tags}).duplicated(keep=False)
        if not dup.any():
            break
        variants = sorted(set(rows.loc[dup, "power_measurement"]))
        for v in variants:
            notes.append(f"{v}: several results at one scale; series split by {extra}")
        split = rows["power_measurement"].isin(variants)
        tags = tags.where(~split, tags + ", " + rows[extra].astype(str))
    return tags, notes


def _empty(p: Fig6Params, notes: list[str], message: str) -> FigureData:
    meta = {"benchmark": p.benchmark, "round": p.round, "tags": [], "scales": []}
    return FigureData("fig6", long_frame(None, EXTRA), notes, {**meta, "message": message})


def build_fig6(training: pd.DataFrame | None, params: Fig6Params | None = None) -> FigureData:
    """Compute and interconnect energy (MJ) and time to train (min) per accelerator count and
    power measurement variant, one row per plotted value with the result it came from."""
    p = params or Fig6Params()
    if training is None or training.empty:
        return _empty(p, ["no training data given"], "no training data")
    rows = training[(training["round"] == p.round) & (training["benchmark"] == p.benchmark)]
    where = f"training {p.round} {p.division or 'any-division'}"
    if p.division is not None:
        rows = rows[rows["division"] == p.division]
    if p.submitter is not None:
        rows = rows[rows["submitter"] == p.submitter]
        where += f" of submitter {p.submitter}"
    if rows.empty:
        in_round = training[training["round"] == p.round]
        have = ", ".join(sorted(set(in_round["benchmark"]))) or "none"
        note = f"no {p.benchmark} results in {where} (benchmarks of {p.round}: {have})"
        return _empty(p, [note], f"no {p.benchmark} training data ({p.round})")

    notes: list[str] = []
    variant = rows["power_measurement"].fillna("unknown").astype(str)
    shown = variant.isin(list(p.power_measurement))
    if (~shown).any():
        kinds = ", ".join(sorted(set(variant[~shown])))
        notes.append(
            f"{int((~shown).sum())} results excluded: power measurement {kinds} "
            f"not among the variants shown ({', '.join(p.power_measurement)})"
        )
    rows = rows[shown].assign(power_measurement=variant[shown])
    for v in p.power_measurement:
        if v not in set(rows["power_measurement"]):
            notes.append(f"no {v}-measured results")

    acc = pd.to_numeric(rows["accelerators"], errors="coerce")
    no_acc = ~(_finite(acc) & (acc > 0))
    if no_acc.any():
        paths = ", ".join(sorted(rows.loc[no_acc, "source_path"].astype(str)))
        notes.append(f"{int(no_acc.sum())} results excluded: accelerator count unknown ({paths})")
    rows = rows[~no_acc].assign(x=acc[~no_acc].astype(int))

    compute = pd.to_numeric(rows["compute_energy_j"], errors="coerce").astype(float)
    inter = pd.to_numeric(rows["interconnect_energy_j"], errors="coerce").astype(float)
    minutes = pd.to_numeric(rows["time_to_train_min"], errors="coerce").astype(float)
    energy_ok = (
        _finite(compute) & _finite(inter) & (compute >= 0) & (inter >= 0) & (compute + inter > 0)
    )
    time_ok = _finite(minutes) & (minutes > 0)
    if (~energy_ok).any():
        paths = ", ".join(sorted(rows.loc[~energy_ok, "source_path"].astype(str)))
        notes.append(
            f"{int((~energy_ok).sum())} results without a usable energy (NaN, inf or < 0): "
            f"energy bars left out ({paths})"
        )
    if (~time_ok).any():
        paths = ", ".join(sorted(rows.loc[~time_ok, "source_path"].astype(str)))
        notes.append(
            f"{int((~time_ok).sum())} results without a usable time to train: "
            f"time points left out ({paths})"
        )
    keep = energy_ok | time_ok
    if rows.empty or not keep.any():
        notes.append(f"nothing to plot for {p.benchmark} in {where}")
        return _empty(p, notes, f"no usable {p.benchmark} training data ({p.round})")
    rows = rows[keep].assign(
        compute=compute[keep], inter=inter[keep], minutes=minutes[keep], energy_ok=energy_ok[keep]
    )
    rows = rows.assign(time_ok=time_ok[keep])
    tags, tag_notes = _tags(rows)
    notes.extend(tag_notes)
    order = {v: i for i, v in enumerate(p.power_measurement)}
    rows = rows.assign(tag=tags, _v=rows["power_measurement"].map(order))
    rows = rows.sort_values(["x", "_v", "tag"], kind="stable")

    scales = sorted(set(rows["x"]))
    if len(scales) == 1:
        notes.append(f"one scale only ({scales[0]} accelerators): a single group")
    single = rows[(rows["energy_ok"]) & (rows["inter"] == 0)]
    for x in sorted(set(single["x"])):
        counts = sorted({int(n) for n in single.loc[single["x"] == x, "nodes"].dropna()})
        nodes = ", ".join(str(n) for n in counts) or "unknown"
        notes.append(f"{x} accelerators: interconnect energy 0 (nodes: {nodes}; no switch)")

    base = rows.assign(scenario=SCENARIO)
    parts = []
    for series, col, ok in (
        (COMPUTE, "compute", "energy_ok"),
        (INTERCONNECT, "inter", "energy_ok"),
        (TIME, "minutes", "time_ok"),
    ):
        sel = base[base[ok]]
        scale = 1e-6 if UNITS[series] == "MJ" else 1.0
        parts.append(
            sel.assign(
                series=series + " (" + sel["tag"] + ")",
                y=sel[col] * scale,
                unit=UNITS[series],
                _s=len(parts),
            )
        )
    frame = pd.concat(parts, ignore_index=True).sort_values(["x", "_v", "tag", "_s"], kind="stable")
    frame = concat_long([frame], EXTRA)
    tag_order = list(dict.fromkeys(rows.sort_values(["_v", "tag"], kind="stable")["tag"]))
    tag_variant = dict(zip(rows["tag"], rows["power_measurement"], strict=True))
    meta = {
        "benchmark": p.benchmark,
        "round": p.round,
        "scales": [int(s) for s in scales],
        "tags": [(t, tag_variant[t]) for t in tag_order],
    }
    return FigureData("fig6", frame, notes, meta)


def _style(variant: str) -> tuple[str, str, str, str]:
    return VARIANT_STYLE.get(variant, OTHER_STYLE)


def _tag_styles(tags: list[tuple[str, str]]) -> dict[str, tuple[str, str, str, str]]:
    """Hatch, colour, line style and marker per tag: the variant's, with other colours and
    markers for the second, third... tag of one variant (results split by submitter)."""
    out: dict[str, tuple[str, str, str, str]] = {}
    seen: dict[str, int] = {}
    for tag, variant in tags:
        hatch, color, ls, marker = _style(variant)
        j = seen.get(variant, 0)
        seen[variant] = j + 1
        if j:
            color = EXTRA_COLORS[(j - 1) % len(EXTRA_COLORS)]
            marker = MARKERS[j % len(MARKERS)]
        out[tag] = (hatch, color, ls, marker)
    return out


@styled
def render_fig6(data: FigureData) -> Figure:
    """Stacked energy bars (compute + interconnect) per scale and variant, time to train line
    on a second axis; linear axes, as in the paper."""
    fig, ax = new_figure(2.1)
    df = data.frame
    if df.empty:
        empty_message(ax, data.meta.get("message", "no training data"))
        ax.set_xticks([])
        ax.set_yticks([])
        return fig
    scales = data.meta.get("scales") or sorted(set(df["x"]))
    tags = data.meta.get("tags") or [(t, t) for t in dict.fromkeys(df["tag"])]
    pos = {s: i for i, s in enumerate(scales)}
    n = len(tags)
    width = min(0.36, 0.8 / n)
    styles = _tag_styles(tags)
    several = len(tags) > len({v for _, v in tags})  # a variant split by submitter
    ax2 = ax.twinx()
    totals = [0.0]
    for k, (tag, variant) in enumerate(tags):
        hatch, color, ls, marker = styles[tag]
        offset = (k - (n - 1) / 2) * width
        sub = df[df["tag"] == tag]
        comp = sub[sub["series"] == f"{COMPUTE} ({tag})"].set_index("x")["y"].astype(float)
        inter = sub[sub["series"] == f"{INTERCONNECT} ({tag})"].set_index("x")["y"].astype(float)
        xs = [pos[s] + offset for s in comp.index]
        common = dict(width=width, hatch=hatch or None, edgecolor="white", linewidth=0.0)
        ax.bar(xs, comp.to_numpy(), color=COLORS[COMPUTE], **common)
        ax.bar(xs, inter.to_numpy(), bottom=comp.to_numpy(), color=COLORS[INTERCONNECT], **common)
        totals.extend((comp + inter).tolist())
        if n > 1:
            for x, top in zip(xs, (comp + inter).tolist(), strict=True):
                # Split variants carry long tags: write them upright so neighbours don't clash.
                ax.text(
                    x,
                    top,
                    tag if several else variant,
                    ha="center",
                    va="bottom",
                    rotation=90 if several else 0,
                    fontsize=4.5,
                    color="dimgray",
                )
        t = sub[sub["series"] == f"{TIME} ({tag})"]
        ax2.plot(
            [pos[s] + offset for s in t["x"]],
            t["y"].astype(float),
            color=color,
            linestyle=ls,
            marker=marker,
            markersize=3,
            linewidth=0.9,
            zorder=3,
        )
    ax.set_xticks(range(len(scales)))
    ax.set_xticklabels([str(s) for s in scales])
    pad = 0.4 if len(scales) == 1 else 0.0  # keep a single group's bars narrow
    ax.set_xlim(-0.6 - pad, len(scales) - 0.4 + pad)
    ax.set_ylim(0, max(totals) * (1.3 if several else 1.12) or 1.0)
    times = df.loc[df["series"].str.startswith(TIME), "y"].astype(float)
    # One scale: the time points would sit on the bar tops and their labels; lift the axis.
    head = 1.35 if len(scales) == 1 else 1.1
    ax2.set_ylim(0, (times.max() if len(times) else 1.0) * head)
    ax.set_xlabel("Number of accelerators")
    ax.set_ylabel("Energy (MJ)")
    ax2.set_ylabel("Time to train (min)")
    ax.tick_params(axis="y", right=False)
    ax.minorticks_on()
    ax.tick_params(axis="x", which="minor", bottom=False)
    ax2.minorticks_on()
    ax.set_axisbelow(True)
    ax.grid(True, axis="y", which="major")

    handles = [
        Patch(facecolor=COLORS[COMPUTE], label="Compute energy (MJ)"),
        Patch(facecolor=COLORS[INTERCONNECT], label="Interconnect energy (MJ)"),
    ]
    variants = list(dict.fromkeys(v for _, v in tags))
    if len(variants) > 1:
        for v in variants:
            hatch = _style(v)[0]
            handles.append(
                Patch(
                    facecolor="white",
                    edgecolor="gray",
                    hatch=hatch or None,
                    linewidth=0.5,
                    label=f"{v}-measured energy",
                )
            )
    for tag, _variant in tags:
        _, color, ls, marker = styles[tag]
        handles.append(
            Line2D([], [], color=color, linestyle=ls, marker=marker, label=f"Time to train ({tag})")
        )
    # Column-major: energy parts, variants, time lines each in one column.
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.01),
        ncol=3 if len(handles) > 3 else len(handles),
        handlelength=1.8,
        columnspacing=1.0,
    )
    return fig
