"""Links from every plotted point of a figure to the result it came from.

A figure's long-format frame names, for each plotted value, the result behind it (`round`,
`source_path`, or the pair columns `source_path_a` / `source_path_after`). `source_urls` turns
that into a URL of the result folder at the recorded commit; `attach` finds the artists that
draw each value (line markers, scatter points, bars, histogram bins) and gives each point its
own link and tooltip in the SVG, without any change to the figure modules.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from mlperf_power_dag.figures.common import label

# Columns naming the result behind a plotted value, the preferred one first (pair figures:
# the result with the higher accuracy target / the later round).
PATH_COLUMNS = ("source_path", "source_path_b", "source_path_after")
SOURCE_COLUMNS = ["round", "source_path", "source_repo", "source_commit"]
HISTOGRAM = "histogram"  # the label a renderer gives an axes drawn by `Axes.hist`
GID_PREFIX = "mlperf-point-"
# MLCommons' aggregated results (CMX) name each result by its `Location` in the round's own
# submission repository and link it, in their `url` field, on that repository's `master`
# branch; CMX records no commit of that repository. Points read from CMX link there too.
CMX_REPO = "mlcommons/cm4mlperf-results"
CMX_RESULTS_BRANCH = "master"
LOCAL_REPO_PREFIX = "local/"  # results of a local submission tree: nothing to link to


def result_url(base: str, repo: str, commit: str, path: str, version: str | None = None) -> str:
    """`<base>/<owner>/<repo>/tree/<commit>/<path>`: the result folder at its commit.

    A result read from CMX (`repo` is `CMX_REPO`; `path` is its `Location`) links to its folder
    in the round's submission repository on the branch CMX names, as CMX's own `url` does.
    """
    if repo == CMX_REPO and version:
        repo, commit = f"mlcommons/inference_results_{version}", CMX_RESULTS_BRANCH
    return f"{base.rstrip('/')}/{repo}/tree/{commit}/{str(path).strip('/')}"


def _path_column(frame: pd.DataFrame) -> str | None:
    return next((c for c in PATH_COLUMNS if c in frame.columns), None)


def source_urls(frame: pd.DataFrame, sources: pd.DataFrame | None, base: str) -> pd.DataFrame:
    """`frame` with `source_repo`, `source_commit` (when it lacked them) and `url` filled for
    every row whose result is known: from the frame's own provenance columns, else looked up
    in `sources` (rows of the input tables: round, source_path, source_repo, source_commit)."""
    out = frame.copy()
    col = _path_column(out)
    if col is None or out.empty:
        out["url"] = pd.Series([None] * len(out), dtype=object)
        return out
    paths = out[col].astype(object).where(out[col].notna(), None)
    repo = out["source_repo"] if "source_repo" in out.columns else pd.Series(None, index=out.index)
    commit = (
        out["source_commit"] if "source_commit" in out.columns else pd.Series(None, index=out.index)
    )
    repo, commit = repo.astype(object), commit.astype(object)
    if sources is not None and not sources.empty and (repo.isna() | commit.isna()).any():
        wanted = {str(p) for p in paths[repo.isna() | commit.isna()] if p is not None}
        src_paths = sources["source_path"]
        src = sources.loc[src_paths.notna() & src_paths.astype(str).isin(wanted), SOURCE_COLUMNS]
        src = src.dropna().astype(str).drop_duplicates()
        by_round = {(r, p): (o, c) for r, p, o, c in src.itertuples(index=False)}
        by_path: dict[str, tuple[str, str] | None] = {}
        for _, p, o, c in src.itertuples(index=False):
            by_path[p] = (o, c) if p not in by_path or by_path[p] == (o, c) else None
        for i in out.index[repo.isna() | commit.isna()]:
            p = paths[i]
            if p is None:
                continue
            hit = by_round.get((str(out.at[i, "round"]), str(p))) or by_path.get(str(p))
            if hit:
                repo[i], commit[i] = hit
    out["source_repo"], out["source_commit"] = repo, commit
    versions = out["round"].astype(object) if "round" in out.columns else [None] * len(out)
    urls = [
        result_url(base, str(r), str(c), str(p), str(v) if _known(v) else None)
        if _known(r) and _known(c) and _known(p) and not str(r).startswith(LOCAL_REPO_PREFIX)
        else None
        for r, c, p, v in zip(repo, commit, paths, versions, strict=True)
    ]
    out["url"] = pd.Series(urls, index=out.index, dtype=object)
    return out


def _known(v: object) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v)) and str(v) != ""


def tooltip(row: pd.Series, unit: str) -> str:
    """One line naming the result of a plotted point: system, submitter, round, value, unit."""
    parts = [str(row.get(k)) for k in ("system", "submitter") if _known(row.get(k))]
    head = " — ".join(parts) or str(row.get("series", ""))
    value = row.get("y")
    try:
        text = f"{float(value):.4g}"
    except (TypeError, ValueError):
        text = str(value)
    bench = f" {row['benchmark']}" if _known(row.get("benchmark")) else ""
    return f"{head} ({row.get('round')}{bench}): {text} {unit}".strip()


@dataclass
class Point:
    """One linked point: where the link goes and what its tooltip says."""

    gid: str
    url: str
    title: str


def _close(a: np.ndarray, v: float) -> np.ndarray:
    return np.isclose(a, v, rtol=1e-9, atol=0.0)


class _Matcher:
    """Hands out frame rows by plotted value, each row once, preferring the artist's series."""

    def __init__(self, frame: pd.DataFrame) -> None:
        ok = frame["url"].notna() & pd.to_numeric(frame["y"], errors="coerce").notna()
        self.frame = frame[ok]
        self.ys = pd.to_numeric(self.frame["y"], errors="coerce").to_numpy(dtype=float)
        self.used: set = set()

    def take(self, value: float, series: str | None = None) -> pd.Series | None:
        if not np.isfinite(value) or self.frame.empty:
            return None
        hits = [
            i
            for i, ok in zip(self.frame.index, _close(self.ys, value), strict=True)
            if ok and i not in self.used
        ]
        if not hits:
            return None
        if series and not series.startswith("_"):
            named = [i for i in hits if series in self._names(i)]
            hits = named or hits
        self.used.add(hits[0])
        return self.frame.loc[hits[0]]

    def _names(self, i) -> set[str]:
        row = self.frame.loc[i]
        names = {str(row.get("series")), str(row.get("benchmark"))}
        return names | {label(n) for n in names}


def attach(fig: Figure, frame: pd.DataFrame, key: str) -> list[Point]:
    """Give each plotted point of `fig` that comes from a row of `frame` (with a `url`) a link
    and an id; returns the points linked, in order."""
    if "url" not in frame.columns or not frame["url"].notna().any():
        return []
    match = _Matcher(frame)
    points: list[Point] = []

    def link(row: pd.Series, unit: str) -> Point:
        p = Point(f"{GID_PREFIX}{key}-{len(points)}", str(row["url"]), tooltip(row, unit))
        points.append(p)
        return p

    for ax in fig.axes:
        unit = ax.get_ylabel()
        if ax.get_label() == HISTOGRAM:
            _histogram(ax, frame, match, link, ax.get_xlabel())
            continue
        ax.set_xlim(ax.get_xlim())  # freeze the limits: the overlays must not move them
        ax.set_ylim(ax.get_ylim())
        for line in list(ax.get_lines()):
            _line(ax, line, match, link, unit)
        for coll in list(ax.collections):
            if isinstance(coll, PathCollection):
                _scatter(coll, match, link, unit)
        for patch in list(ax.patches):
            if isinstance(patch, Rectangle):
                _bar(patch, match, link, unit)
    return points


def _line(ax: Axes, line: Line2D, match: _Matcher, link, unit: str) -> None:
    if line.get_marker() in (None, "None", "", " ") or line.get_gid():
        return
    xy = np.asarray(line.get_xydata(), dtype=float)
    series = line.get_label()
    for x, y in xy:
        row = match.take(float(y), series)
        if row is None:
            continue
        p = link(row, unit)
        (dot,) = ax.plot(
            [x],
            [y],
            marker="o",
            markersize=max(float(line.get_markersize()), 3.0) + 2,
            linestyle="none",
            alpha=0.0,
            zorder=10,
            label="_nolegend_",
        )
        dot.set_gid(p.gid)
        dot.set_url(p.url)


def _scatter(coll: PathCollection, match: _Matcher, link, unit: str) -> None:
    offsets = np.asarray(coll.get_offsets(), dtype=float)
    if offsets.ndim != 2 or not len(offsets):
        return
    urls: list[str | None] = []
    for _, y in offsets:
        row = match.take(float(y), coll.get_label())
        urls.append(link(row, unit).url if row is not None else None)
    if any(urls):
        coll.set_urls(urls)


def _bar(patch: Rectangle, match: _Matcher, link, unit: str) -> None:
    if patch.get_url() or patch.get_width() == 0:
        return
    row = match.take(float(patch.get_height()))
    if row is None:
        return
    p = link(row, unit)
    patch.set_gid(p.gid)
    patch.set_url(p.url)


def _histogram(ax: Axes, frame: pd.DataFrame, match: _Matcher, link, unit: str) -> None:
    """Each result of a histogram bin gets a slice of height one of its bar."""
    ax.set_xlim(ax.get_xlim())
    ax.set_ylim(ax.get_ylim())
    bins = sorted(
        (p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0),
        key=lambda p: p.get_x(),
    )
    rows = match.frame
    ys = match.ys
    for n, patch in enumerate(bins):
        x0, w = patch.get_x(), patch.get_width()
        last = n == len(bins) - 1
        inside = (ys >= x0) & ((ys <= x0 + w) if last else (ys < x0 + w))
        for level, i in enumerate(rows.index[inside]):
            if i in match.used or level >= patch.get_height():
                continue
            match.used.add(i)
            p = link(rows.loc[i], unit)
            piece = Rectangle((x0, level), w, 1, facecolor="white", alpha=0.0, zorder=10)
            piece.set_gid(p.gid)
            piece.set_url(p.url)
            ax.add_patch(piece)


def add_titles(svg: str, points: Iterable[Point]) -> str:
    """The SVG text with a `<title>` tooltip as first child of each linked point's group."""
    titles = {p.gid: p.title for p in points}

    def sub(m: re.Match) -> str:
        title = titles.get(m.group(1))
        if title is None:
            return m.group(0)
        return f"{m.group(0)}\n   <title>{html.escape(title, quote=False)}</title>"

    return re.sub(r'<g id="(' + re.escape(GID_PREFIX) + r'[^"]*)"[^>]*>', sub, svg)
