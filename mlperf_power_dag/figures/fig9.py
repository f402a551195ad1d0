"""Figure 9: BERT-99.9 efficiency relative to BERT-99 on comparable systems over rounds."""

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
from mlperf_power_dag.metrics import (
    accuracy_pairs_slice,
    check_systems,
    same_system_pairs,
    sort_rounds,
)

# NVIDIA's 8x SXM-GPU MaxQ TensorRT system of each round with one (DGX where there is one).
DGX_MAXQ = {
    "v1.0": "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ",
    "v1.1": "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ",
    "v2.0": "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ",
    "v2.1": "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ",
    # v3.0: NVIDIA's only 8-GPU MaxQ results were PCIe systems (A100/H100-PCIe-80GBx8).
    "v3.1": "DGX-H100_H100-SXM-80GBx8_TRT_MaxQ",
    "v4.0": "DGX-H100_H100-SXM-80GBx8_TRT_MaxQ",
    # v4.1: no DGX MaxQ submission; the comparable system is NVIDIA's 8x H200-SXM MaxQ.
    "v4.1": "H200-SXM-141GBx8_TRT_MaxQ",
}
EXTRA = ["efficiency", "system_name", "source_path"]


@dataclass
class Fig9Params:
    """One system per round (round -> system id) and the two accuracy targets compared."""

    systems: dict[str, str] = field(default_factory=lambda: dict(DGX_MAXQ))
    category: str = "datacenter"
    division: str | None = "closed"
    scenario: str = "Offline"
    a: str = "bert-99"
    b: str = "bert-99.9"


def build_fig9(
    results: pd.DataFrame,
    params: Fig9Params | None = None,
    accuracy_pairs: pd.DataFrame | None = None,
) -> FigureData:
    """Per chosen (round, system): samples/J of `b` divided by samples/J of `a` (a = 1); the
    pairs taken from `accuracy_pairs` (the accuracy-pairs metric table of the same results)
    where it covers the parameters, else computed."""
    p = params or Fig9Params()
    absent = check_systems(results, p.systems, category=p.category, division=p.division)
    kw = dict(category=p.category, division=p.division, scenario=p.scenario)
    m = accuracy_pairs_slice(accuracy_pairs, results, p.a, p.b, **kw)
    if m is None:
        m = same_system_pairs(results, p.a, p.b, **kw)
    chosen = pd.DataFrame(list(p.systems.items()), columns=["round", "system"])
    pairs = m.frame.merge(chosen, on=["round", "system"]) if not m.frame.empty else m.frame
    notes = [f"{v}: round not in the results; skipped" for v in absent]
    for version, system in p.systems.items():
        if version in absent:
            continue
        if pairs.empty or not ((pairs["round"] == version) & (pairs["system"] == system)).any():
            notes.append(
                f"{version} {system}: no usable {p.a} and {p.b} {p.scenario} pair with power"
            )
    parts = []
    if not pairs.empty:
        pairs = sort_rounds(pairs)
        for bench, eff, y, path in (
            (p.a, "efficiency_a", np.ones(len(pairs)), "source_path_a"),
            (p.b, "efficiency_b", pairs["ratio"], "source_path_b"),
        ):
            parts.append(
                pairs.assign(
                    series=bench,
                    x=pairs["round"],
                    y=y,
                    benchmark=bench,
                    efficiency=pairs[eff],
                    source_path=pairs[path],
                )
            )
    frame = concat_long(parts, EXTRA)
    return FigureData("fig9", frame, notes, {"a": p.a, "b": p.b})


@styled
def render_fig9(data: FigureData) -> Figure:
    """Grouped bars per round: `a` at 1.0 and `b` relative to it."""
    fig, ax = new_figure(2.0)
    df = data.frame
    if df.empty:
        empty_message(ax, "no data")
        return fig
    a, b = data.meta["a"], data.meta["b"]
    versions = list(dict.fromkeys(df["x"]))
    xs = np.arange(len(versions))
    width = 0.36
    for off, bench, color, name in (
        (-0.5, a, "lightblue", f"{a.upper()} (lower accuracy)"),
        (0.5, b, "lightcoral", f"{b.upper()} (higher accuracy)"),
    ):
        ys = df[df["series"] == bench].set_index("x")["y"].reindex(versions).astype(float)
        ax.bar(xs + off * width, ys, width=width, color=color, label=name)
    ax.set_xticks(xs)
    ax.set_xticklabels(versions)
    ax.set_xlim(-0.6, max(len(versions), 2) - 0.4)
    ax.set_ylim(0, 1.25)
    ax.set_xlabel("MLPerf Inference version")
    ax.set_ylabel(f"Samples/J normalized\nto {a.upper()}")
    ax.legend(loc="upper center", ncol=2, bbox_to_anchor=(0.5, 1.0))
    return fig
