"""Shared figure machinery: the data a figure is drawn from, style, round axes, saving."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter  # noqa: E402

# Long format of every figure's data CSV: what is plotted, then where it came from.
LONG_COLUMNS = [
    "series",
    "x",
    "y",
    "round",
    "submitter",
    "system",
    "benchmark",
    "scenario",
    "division",
]

COLUMN_WIDTH_IN = 3.5  # one column of a two-column paper
DPI = 150

# Display names of benchmark ids.
LABELS = {
    "resnet50": "ResNet",
    "retinanet": "RetinaNet",
    "bert-99": "BERT-99",
    "bert-99.9": "BERT-99.9",
    "rnnt": "RNN-T",
    "gptj-99": "GPT-J-99",
    "gptj-99.9": "GPT-J-99.9",
    "dlrm-99": "DLRM-99",
    "dlrm-99.9": "DLRM-99.9",
    "dlrm-v2-99": "DLRM-v2-99",
    "dlrm-v2-99.9": "DLRM-v2-99.9",
    "3d-unet-99": "3D U-Net-99",
    "3d-unet-99.9": "3D U-Net-99.9",
    "3d-unet-99-brats19": "3D U-Net-99 (BraTS)",
    "3d-unet-99.9-brats19": "3D U-Net-99.9 (BraTS)",
    "llama2-70b-99": "Llama2-70B-99",
    "llama2-70b-99.9": "Llama2-70B-99.9",
    "stable-diffusion-xl": "Stable Diffusion XL",
    "mixtral-8x7b": "Mixtral-8x7B",
    "ssd-resnet34": "SSD-ResNet34",
    "ssd-mobilenet": "SSD-MobileNet",
    "mobilenet": "MobileNet",
    "gnmt": "GNMT",
    "ic": "ResNet (tiny IC)",
    "vww": "MobileNet (VWW)",
    "kws": "DS-CNN (KWS)",
    "ad": "AutoEncoder (AD)",
}

MARKERS = ["o", "s", "D", "P", "^", "v", "X", "*", "<", ">", "h", "p"]


def label(benchmark: str) -> str:
    """Display name of a benchmark id (the id itself if unknown)."""
    return LABELS.get(benchmark, benchmark)


@dataclass
class FigureData:
    """What a figure shows: its long-format data and notes on what is missing or excluded."""

    key: str
    frame: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def long_frame(df: pd.DataFrame | None, extra: Sequence[str] = ()) -> pd.DataFrame:
    """`df` reduced to LONG_COLUMNS (missing ones empty) followed by the `extra` columns."""
    cols = [*LONG_COLUMNS, *[c for c in extra if c not in LONG_COLUMNS]]
    if df is None or df.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})
    out = df.copy()
    for c in cols:
        if c not in out.columns:
            out[c] = None
    return out[cols].reset_index(drop=True)


def concat_long(parts: Iterable[pd.DataFrame], extra: Sequence[str] = ()) -> pd.DataFrame:
    """Concatenate long frames, keeping the column order of `long_frame`."""
    frames = [long_frame(p, extra) for p in parts if p is not None and not p.empty]
    if not frames:
        return long_frame(None, extra)
    return pd.concat([f.astype(object) for f in frames], ignore_index=True).infer_objects()


def style() -> dict[str, Any]:
    """rcParams of the project's figures (serif text, small fonts for one column)."""
    return {
        "font.family": "serif",
        "font.serif": ["DejaVu Serif"],
        "mathtext.fontset": "dejavuserif",
        "font.size": 7,
        "axes.labelsize": 7,
        "axes.titlesize": 7,
        "legend.fontsize": 5.5,
        "xtick.labelsize": 6,
        "ytick.labelsize": 6,
        "xtick.direction": "in",
        "ytick.direction": "in",
        "xtick.top": False,
        "ytick.right": True,
        "axes.linewidth": 0.6,
        "lines.linewidth": 0.9,
        "lines.markersize": 3.2,
        "grid.linewidth": 0.4,
        "grid.linestyle": "--",
        "grid.alpha": 0.6,
        "legend.frameon": False,
        "savefig.dpi": DPI,
        "svg.fonttype": "none",
    }


def styled(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Run a renderer inside the project style."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with plt.rc_context(style()):
            return fn(*args, **kwargs)

    return wrapper


def new_figure(height_in: float = 2.3, width_in: float = COLUMN_WIDTH_IN) -> tuple[Figure, Axes]:
    """A column-width figure with one axes, in the project style."""
    with plt.rc_context(style()):
        fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=DPI)
    return fig, ax


def to_num(date: dt.date | pd.Timestamp) -> float:
    """A date as a matplotlib x coordinate."""
    return float(mdates.date2num(pd.Timestamp(date).to_pydatetime()))


def version_axis(
    ax: Axes,
    versions: Sequence[str],
    suite: str = "inference",
    *,
    dates: Mapping[str, pd.Timestamp],
    top_dates: bool = True,
    xlabel: str | None = None,
) -> None:
    """x axis of dates with one tick per round labelled by version, dates (mm/yy) on top;
    `dates`: each round's position (`metrics.round_dates`)."""
    vs = [v for v in versions if v in dates]
    xs = [to_num(dates[v]) for v in vs]
    ax.set_xticks(xs)
    ax.set_xticklabels(vs, rotation=45, ha="right", rotation_mode="anchor")
    ax.grid(True, axis="x")
    if xs:
        pad = max(30.0, (max(xs) - min(xs)) * 0.04)
        ax.set_xlim(min(xs) - pad, max(xs) + pad)
    if xlabel is None:
        xlabel = f"MLPerf {suite.capitalize()} version"
    ax.set_xlabel(xlabel)
    if top_dates and xs:
        top = ax.secondary_xaxis("top")
        top.set_xticks(xs)
        top.set_xticklabels(
            [dates[v].strftime("%m/%y") for v in vs],
            fontsize=5.5,
            rotation=45,
            ha="left",
            rotation_mode="anchor",
        )
        top.tick_params(direction="in", length=2)


def log_axis(ax: Axes, base: int = 10, axis: str = "y") -> None:
    """Log scale with plain-number labels for base 2 and powers of ten otherwise."""
    if axis == "y":
        ax.set_yscale("log", base=base)
        target = ax.yaxis
    else:
        ax.set_xscale("log", base=base)
        target = ax.xaxis
    if base == 2:
        target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        target.set_minor_formatter(NullFormatter())
    else:
        target.set_major_locator(LogLocator(base=base))


def tidy_log_labels(ax: Axes) -> None:
    """After plotting: label minor ticks of a log y axis only when it spans < 1.5 decades."""
    if ax.get_yscale() != "log":
        return
    lo, hi = ax.get_ylim()
    if lo > 0 and np.log10(hi / lo) < 1.5:
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
    else:
        ax.yaxis.set_minor_formatter(NullFormatter())


def empty_message(ax: Axes, text: str) -> None:
    """Write a message in the middle of an axes that has no data."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=6)


def save(
    fig: Figure,
    data: FigureData,
    out_dir: Path,
    key: str,
    *,
    sources: pd.DataFrame | None = None,
    title: str | None = None,
    link_base: str | None = None,
) -> dict[str, Path]:
    """Write `<key>.png`, `<key>.svg`, the long-format `<key>.csv` and `<key>.json` (title,
    notes, rounds, points linked) into out_dir.

    Each plotted point whose result is known (from the frame's provenance columns or, by round
    and source path, from `sources`) links in the SVG to its result folder at the recorded
    commit under `link_base` (default https://github.com), with a tooltip; the CSV gains
    `source_repo`, `source_commit` and `url`.
    """
    from mlperf_power_dag.figures import links
    from mlperf_power_dag.settings import DEFAULT_LINK_BASE

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"{key}.{ext}" for ext in ("png", "svg", "csv", "json")}
    description = " | ".join(data.notes)[:4000]
    frame = links.source_urls(data.frame, sources, (link_base or DEFAULT_LINK_BASE).rstrip("/"))
    with plt.rc_context(style()):
        points = links.attach(fig, frame, key)
        _write(fig, paths, key, description)
    paths["svg"].write_text(links.add_titles(paths["svg"].read_text(), points))
    frame.to_csv(paths["csv"], index=False)
    rounds = sorted({str(r) for r in frame["round"].dropna()}) if "round" in frame else []
    sidecar = {
        "key": key,
        "title": title,
        "notes": list(data.notes),
        "rounds": rounds,
        "rows": len(frame),
        "linked_points": len(points),
    }
    paths["json"].write_text(json.dumps(sidecar, indent=1) + "\n")
    plt.close(fig)
    return paths


def _write(fig: Figure, paths: dict[str, Path], key: str, description: str) -> None:
    fig.savefig(
        paths["png"],
        dpi=DPI,
        bbox_inches="tight",
        pad_inches=0.02,
        metadata={"Title": key, "Description": description},
    )
    fig.savefig(paths["svg"], bbox_inches="tight", pad_inches=0.02, metadata={"Title": key})
