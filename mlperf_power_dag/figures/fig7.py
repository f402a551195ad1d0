"""Figure 7: energy per sample of each benchmark on one system vs the model's MACs."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from mlperf_power_dag.figures.common import (
    FigureData,
    concat_long,
    empty_message,
    label,
    log_axis,
    new_figure,
    styled,
)
from mlperf_power_dag.metrics import check_systems, efficiency, has_power, select, usable

# Multiply-accumulate operations per inference sample, from each model's public
# specification (architecture and input size as fixed by the MLPerf reference). These are
# spec constants of the models, not results. "~" marks an estimate from the architecture
# arithmetic where no single published count exists; such values are good to a factor of
# about two, which is what a log axis spanning eight decades needs.
MACS_PER_SAMPLE: dict[str, float] = {
    # ResNet-50 v1.5, 224x224 (He et al., CVPR 2016, Table 1: 3.8e9 FLOPs = multiply-adds
    # for v1; v1.5 moves the stride-2 to the 3x3 conv: 4.1e9 MACs, MLPerf reference model).
    "resnet50": 4.1e9,
    # ~ RetinaNet ResNeXt50-32x4d FPN at 800x800 (MLPerf v2.1+ reference): backbone ~5.4e10,
    # FPN ~1e10, heads (4x 3x3x256 convs + 9 anchors x 264 classes) on 13,343 positions
    # of P3-P7 ~1.4e11.
    "retinanet": 2.0e11,
    # ~ BERT-Large (24 layers, hidden 1024, FFN 4096; Devlin et al. 2019) at sequence
    # length 384 (MLPerf SQuAD v1.1 reference): 3.0e8 MACs per token x 384 + attention.
    "bert-99": 1.2e11,
    "bert-99.9": 1.2e11,
    # ~ RNN-T (MLPerf reference: 2+3 LSTM encoder layers of 1024, 2-layer prediction net of
    # 320, joint 512) on a mean LibriSpeech dev-clean utterance of ~7.2 s.
    "rnnt": 7.0e9,
    # ~ DLRM-v2 (DCNv2: bottom MLP 13-512-256-128, 3 low-rank-512 cross layers on 27x128,
    # top MLP 1024-1024-512-256-1; MLPerf reference): 1.6e7 MACs per user-item pair; one
    # loadgen sample aggregates 100-700 pairs (reference samples-to-aggregate distribution),
    # taken here as ~400.
    "dlrm-v2-99": 6.4e9,
    "dlrm-v2-99.9": 6.4e9,
    # ~ 3D U-Net (KiTS19 reference, 128^3 patches with 50% overlap): ~5e11 MACs per patch
    # x ~48 patches per case.
    "3d-unet-99": 2.4e13,
    "3d-unet-99.9": 2.4e13,
    # ~ GPT-J 6B (6.05e9 parameters: ~6e9 MACs per token; Wang & Komatsuzaki 2021) on a
    # CNN-DailyMail article (~1,000 input tokens) plus up to 128 generated tokens.
    "gptj-99": 6.8e12,
    "gptj-99.9": 6.8e12,
    # ~ Llama 2 70B (6.9e10 parameters; Touvron et al. 2023) on an OpenOrca sample
    # (~1,000 input + ~300 output tokens).
    "llama2-70b-99": 9.0e13,
    "llama2-70b-99.9": 9.0e13,
    # ~ Stable Diffusion XL base (Podell et al. 2023): UNet ~3e12 MACs per evaluation at a
    # 128x128 latent, 20 steps x 2 (classifier-free guidance), plus the VAE decoder.
    "stable-diffusion-xl": 1.3e14,
    # MLPerf Tiny (Banbury et al., NeurIPS Datasets & Benchmarks 2021, Table 1).
    "ic": 12.5e6,  # ResNet-8 on CIFAR-10
    "vww": 7.49e6,  # MobileNetV1 0.25x at 96x96
    "kws": 2.66e6,  # DS-CNN on Speech Commands
    "ad": 0.264e6,  # FC AutoEncoder on ToyADMOS
}

TASKS: dict[str, str] = {
    "resnet50": "Computer vision",
    "retinanet": "Computer vision",
    "3d-unet-99": "Computer vision",
    "3d-unet-99.9": "Computer vision",
    "ic": "Computer vision",
    "vww": "Computer vision",
    "dlrm-v2-99": "Recommendation",
    "dlrm-v2-99.9": "Recommendation",
    "bert-99": "Language",
    "bert-99.9": "Language",
    "rnnt": "Language",
    "kws": "Language",
    "gptj-99": "Generative AI",
    "gptj-99.9": "Generative AI",
    "llama2-70b-99": "Generative AI",
    "llama2-70b-99.9": "Generative AI",
    "mixtral-8x7b": "Generative AI",
    "stable-diffusion-xl": "Generative AI",
    "ad": "Anomaly detection",
}
TASK_STYLE = {
    "Computer vision": ("o", "blue"),
    "Recommendation": ("s", "teal"),
    "Language": ("D", "red"),
    "Generative AI": ("^", "purple"),
    "Anomaly detection": ("P", "gray"),
}
TINY_LABELS = {"ic": "ResNet (tiny)", "vww": "MobileNet", "kws": "DS-CNN", "ad": "AutoEncoder"}
ENERGY = "energy per sample"
MACS = "MACs per sample"
EXTRA = ["scale", "task", "source_path"]


@dataclass
class Fig7Params:
    """One datacenter system (and optionally one tiny system) and its benchmarks."""

    round: str = "v4.0"
    system: str = "DGX-H100_H100-SXM-80GBx8_TRT_MaxQ"
    category: str = "datacenter"
    division: str = "closed"
    scenario: str = "Offline"
    # Keep only the higher accuracy target when the system ran both (the paper's choice).
    prefer_high_accuracy: bool = True
    tiny_round: str = "v1.2"
    tiny_system: str = "NUCLEO_L4R5ZI"
    tiny_division: str = "closed"


def _high_accuracy_only(df: pd.DataFrame) -> pd.DataFrame:
    benches = set(df["benchmark"])
    drop = {b for b in benches if b.endswith("-99") and f"{b}.9" in benches}
    return df[~df["benchmark"].isin(drop)]


def build_fig7(
    results: pd.DataFrame,
    params: Fig7Params | None = None,
    tiny: pd.DataFrame | None = None,
) -> FigureData:
    """Energy per sample (J) of every benchmark of the chosen system(s), with MACs per sample."""
    p = params or Fig7Params()
    notes: list[str] = []
    if check_systems(results, {p.round: p.system}, category=p.category, division=p.division):
        notes.append(f"{p.round}: round not in the results; datacenter bars left out")
    rows = select(results, category=p.category, division=p.division, scenario=p.scenario)
    rows = rows[(rows["round"] == p.round) & (rows["system"] == p.system)]
    no_power = rows[~has_power(rows)]
    if len(no_power):
        notes.append(
            f"{len(no_power)} {p.scenario} results of {p.system} without power: "
            + ", ".join(sorted(no_power["benchmark"]))
        )
    rows = rows[has_power(rows)]
    rows = rows.assign(efficiency=efficiency(rows))
    ok = usable(rows["efficiency"])
    if (~ok).any():
        bad = ", ".join(sorted(rows.loc[~ok, "benchmark"]))
        notes.append(f"{int((~ok).sum())} results excluded (efficiency NaN, inf or <= 0): {bad}")
    rows = rows[ok]
    if p.prefer_high_accuracy:
        rows = _high_accuracy_only(rows)
    dc = rows.assign(
        y=1.0 / rows["efficiency"],
        scale="Datacenter",
        x=rows["benchmark"].map(label),
    )
    parts = [dc]
    if tiny is None or tiny.empty:
        notes.append("Tiny: no tiny results given; tiny bars left out")
    elif not (tiny["round"] == p.tiny_round).any():
        notes.append(f"Tiny: round {p.tiny_round} not loaded; tiny bars left out")
    else:
        t = tiny[(tiny["round"] == p.tiny_round) & (tiny["division"] == p.tiny_division)]
        avail = sorted(t["system"].unique())
        if p.tiny_system not in avail:
            raise ValueError(
                f"tiny system {p.tiny_system!r} not found in tiny round {p.tiny_round} "
                f"({p.tiny_division}). Available systems of {p.tiny_round}: {', '.join(avail)}"
            )
        t = t[t["system"] == p.tiny_system]
        energy = t["energy_per_inference_uj"].astype(float) * 1e-6
        good = usable(energy)
        if (~good).any():
            notes.append(f"Tiny: {int((~good).sum())} results without a usable energy")
        t = t.assign(y=energy, scale="Tiny", scenario="SingleStream")[good]
        parts.append(t.assign(x=t["benchmark"].map(lambda b: TINY_LABELS.get(b, b))))
    bars = pd.concat(parts, ignore_index=True).sort_values("y", ascending=False, kind="stable")
    bars = bars.assign(series=ENERGY, task=bars["benchmark"].map(TASKS))
    macs = bars.assign(series=MACS, y=bars["benchmark"].map(MACS_PER_SAMPLE))
    no_macs = sorted(macs.loc[macs["y"].isna(), "benchmark"])
    if no_macs:
        notes.append(f"no MAC count for: {', '.join(no_macs)}")
    frame = concat_long([bars, macs[macs["y"].notna()]], EXTRA)
    meta = {"system": p.system, "round": p.round, "tiny_system": p.tiny_system}
    return FigureData("fig7", frame, notes, meta)


@styled
def render_fig7(data: FigureData) -> Figure:
    """Sorted bars of energy per sample (log), MACs line on a second log axis, task markers."""
    fig, ax = new_figure(2.5)
    df = data.frame
    bars = df[df["series"] == ENERGY].reset_index(drop=True)
    if bars.empty:
        empty_message(ax, "no data")
        return fig
    log_axis(ax, 10)
    colors = {"Datacenter": "lightblue", "Tiny": "lightcoral"}
    xs = list(range(len(bars)))
    ax.bar(xs, bars["y"].astype(float), color=[colors[s] for s in bars["scale"]], width=0.8)
    ymin = float(bars["y"].astype(float).min()) / 30
    ax.set_ylim(ymin, float(bars["y"].astype(float).max()) * 5)
    for x, task in zip(xs, bars["task"], strict=True):
        if isinstance(task, str):
            m, c = TASK_STYLE[task]
            ax.plot(x, ymin * 3, marker=m, color=c, markersize=4, linestyle="none")
    ax.set_xticks(xs)
    ax.set_xticklabels(bars["x"], rotation=35, ha="right", rotation_mode="anchor", fontsize=5.5)
    ax.set_ylabel("Energy per sample (J)")
    ax.set_xlabel("Workload")
    ax2 = ax.twinx()
    log_axis(ax2, 10)
    macs = df[df["series"] == MACS].set_index("benchmark")["y"].astype(float)
    mx = [(x, macs[b]) for x, b in zip(xs, bars["benchmark"], strict=True) if b in macs.index]
    if mx:
        ax2.plot([a for a, _ in mx], [b for _, b in mx], color="green", marker="o", markersize=2)
    ax2.set_ylabel("MACs per sample")
    handles = [
        Patch(color="lightblue", label="Datacenter"),
        Patch(color="lightcoral", label="Tiny"),
        Line2D([], [], color="green", label="MACs"),
    ]
    for task in dict.fromkeys(t for t in bars["task"] if isinstance(t, str)):
        m, c = TASK_STYLE[task]
        handles.append(Line2D([], [], marker=m, color=c, linestyle="none", label=task))
    ax.legend(handles=handles, loc="upper right", fontsize=5)
    return fig
