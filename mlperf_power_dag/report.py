"""The report: a self-contained static site with every figure and the state of the dataset.

`build_report(out_dir, figures_dir, dataset_base)` writes `index.html` (every figure inline as
SVG, each plotted point linking to its result folder at the recorded commit, with caption,
rounds, notes, a link to its CSV and the differences from the printed paper), `data.html`
(per suite and round: results, power results, skipped and flagged results by kind, source
commit; the cross-check agreement per round and reference; links to the dataset files), a
stylesheet and the figures' CSVs. No script, font or style is fetched from the network.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd
from upath import UPath

from mlperf_power_dag import crosscheck, dataset, tiny_crosscheck
from mlperf_power_dag import suites as suite_specs
from mlperf_power_dag.asset_inputs import CROSSCHECK_KEY, FIGURE_SUITES, TINY_CROSSCHECK_KEY
from mlperf_power_dag.freshness import FreshnessState
from mlperf_power_dag.freshness import html_section as freshness_section
from mlperf_power_dag.schemas import Problems

SUITES = tuple(suite_specs.names())

# What each figure shows and how it is computed (two lines at most).
CAPTIONS: dict[str, tuple[str, str]] = {
    "fig1": (
        "Best closed datacenter Offline throughput per benchmark and inference round, relative "
        "to the benchmark's first round, against Moore's law (2x every 2 years).",
        "metrics.best_per_round over all valid results, divided by the first-round value and "
        "started on the Moore curve.",
    ),
    "fig2": (
        "Lowest and highest average power of any measured result at four scales: Tiny, Edge, "
        "Datacenter, Training.",
        "Min and max of power_w (tiny: energy run; training: average power or energy / time) "
        "over every round.",
    ),
    "fig5a": (
        "Datacenter efficiency trend: per benchmark the best samples/J so far, normalized to "
        "its first round with power.",
        "Most efficient valid closed Offline result per benchmark and round, running maximum, "
        "divided by the first value.",
    ),
    "fig5b": (
        "Edge efficiency trend: per benchmark the best samples/J so far, normalized to its "
        "first round with power.",
        "As Figure 5a on the edge category (SingleStream/Offline results with power).",
    ),
    "fig5c": (
        "MLPerf Tiny efficiency trend per benchmark (inferences/J), best so far, normalized.",
        "The trend of Figure 5a applied to the tiny results' energy per inference.",
    ),
    "fig6": (
        "Llama2-70B LoRA training: energy (compute and interconnect) and time to train vs the "
        "number of accelerators.",
        "Training results of one round and benchmark, energy from the power logs, time from "
        "the MLLOG result.",
    ),
    "fig7": (
        "Energy per sample of each benchmark by scale, against model size.",
        "Best (lowest) energy per sample per benchmark and scale over the rounds with power.",
    ),
    "fig8": (
        "Histogram of the efficiency cost of BERT-99.9 over BERT-99 on the same system.",
        "Pairs of valid results of one system in one round with both accuracy targets; one "
        "count per pair.",
    ),
    "fig9": (
        "BERT-99.9 vs BERT-99 efficiency of chosen systems over the rounds.",
        "Samples/J of each system's results, normalized to its BERT-99 result.",
    ),
    "fig10": (
        "Histogram of software-only efficiency gains: the same hardware in consecutive rounds.",
        "Pairs of results of one system, benchmark and scenario in consecutive rounds; one "
        "count per pair.",
    ),
    "fig11a": (
        "Software optimization on one system: efficiency per benchmark across rounds.",
        "Samples/J of the chosen system's results per round, normalized to its first round.",
    ),
}

# Where our figure differs from the printed paper and why (a few lines per figure).
PAPER_DIFFERENCES: dict[str, list[tuple[str, str]]] = {
    "fig1": [
        ("Dates and versions are the inference rounds", "The paper's CSV carried training "
         "dates and a v0.6 that inference never had."),
        ("No Mask R-CNN series", "Mask R-CNN is a training benchmark."),
        ("DLRM is two series (dlrm-99, dlrm-v2-99)", "Different models and datasets."),
        ("ResNet drops below 1", "The best v0.5 result is a 32-chip TPU pod."),
    ],
    "fig2": [
        ("Datacenter maximum is the largest measured Offline power", "The paper hard-coded a "
         "Server-scenario value (6.3 kW)."),
        ("Tiny minimum from tiny v1.3", "That round (streaming wake word) is after the paper."),
        ("Training minimum is a DC-measured variant", "AC and DC results are both rows."),
    ],
    "fig5a": [
        ("LLM efficiency per sample from each result's tokens per sample", "The paper divided "
         "every tokens/s by a fixed 292."),
        ("bert-99 is bert-99 in every round", "The paper mixed bert-99 and bert-99.9 in v3.0."),
        ("Llama2-70B-99.9 is a single point (v4.1)", "v4.0 CMX rows carry no tokens per sample."),
    ],
    "fig5b": [
        ("Includes v4.1 (ResNet only)", "The paper stops at v4.0; edge v4.1 has power results "
         "only for ResNet of the four."),
        ("One row per result", "The paper's table cross-joined duplicate rows."),
    ],
    "fig5c": [
        ("Includes tiny rounds after the paper", "The trend is rebuilt from every tiny round."),
    ],
    "fig8": [
        ("Pairs are same-system results of one round", "Accuracy targets are never merged."),
    ],
    "fig10": [
        ("Pairs are consecutive rounds of the same system name", "Hardware is matched by the "
         "system description, not by hand."),
    ],
    "fig6": [
        ("DC and AC are drawn side by side", "The paper's hand-typed numbers equal the DC "
         "results; it did not say so."),
    ],
    "fig7": [
        ("Tiny bars are the NUCLEO_L4R5ZI the text names", "The paper's tiny bars belong to "
         "another tiny system."),
        ("MAC counts other than ResNet-50 and the tiny models are estimates, marked ~",
         "The paper does not give its source."),
        ("Llama2 uses the Offline result, missing while it has no tokens per sample",
         "The paper used the Server value."),
    ],
    "fig9": [
        ("Every bar is the named system", "Most of the paper's bars match other submissions "
         "than the ones it names."),
        ("A v4.1 bar (H200)", "After the paper's v4.0."),
    ],
    "fig11a": [
        ("The bars are the named edge system", "The printed numbers match a different "
         "(datacenter) system."),
        ("Four rounds (v1.1, v2.0, v3.0, v3.1)", "The named system has no fifth result."),
    ],
}  # fmt: skip

# A result "with power" has one of these (as the build summary counts them).
POWER_COLUMNS = ("power_w", "energy_per_query_j", "energy_j")

STYLE = """\
:root { color-scheme: light; --fg: #1b1b1b; --muted: #5a5a5a; --line: #d8d8d8; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--fg); background: #fff; }
header, main, footer { max-width: 60rem; margin: 0 auto; padding: 0 1rem; }
header { border-bottom: 1px solid var(--line); padding-bottom: .5rem; }
h1 { font-size: 1.5rem; margin: 1rem 0 .25rem; }
h2 { font-size: 1.25rem; margin: 2rem 0 .5rem; }
nav ul { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem .75rem; }
.meta, .caption, figcaption { color: var(--muted); font-size: .92rem; }
figure { margin: 0; }
figure svg { width: 100%; max-width: 44rem; height: auto; display: block; }
section.figure { border-bottom: 1px solid var(--line); padding-bottom: 1rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-size: .9rem; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .2rem .45rem; text-align: left;
  vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.stale { color: #b00020; font-weight: bold; }
code { font-size: .85em; word-break: break-all; }
a { color: #0b57d0; }
@media (max-width: 40rem) { body { font-size: 15px; } h1 { font-size: 1.25rem; } }
"""

PAGE = Template("""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>$title</title>
<link rel="stylesheet" href="style.css">
</head>
<body>
<header>
<h1>$title</h1>
<p class="meta">$meta</p>
<nav><ul>$nav</ul></nav>
</header>
<main>
$body
</main>
<footer><p class="meta">$footer</p></footer>
</body>
</html>
""")


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG document as an element to inline in HTML: no XML prolog, its ids (and the
    references to them) prefixed so several SVGs can share a page."""
    start = svg.find("<svg")
    body = svg[start:] if start >= 0 else svg
    body = re.sub(r"<metadata>.*?</metadata>\s*", "", body, flags=re.S)
    body = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', body)
    body = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', body)
    body = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", body)
    body = re.sub(r"<svg\b", f'<svg role="img" aria-label="{prefix}"', body, count=1)
    return body.strip()


def _table(
    head: Sequence[str], rows: Sequence[Sequence[Any]], numeric: frozenset[int] = frozenset()
) -> str:
    ths = "".join(f"<th>{_e(h)}</th>" for h in head)
    trs = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            cls = ' class="num"' if i in numeric else ""
            text = v if isinstance(v, Raw) else _e(v)
            cells.append(f"<td{cls}>{text}</td>")
        trs.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="table-wrap"><table><thead><tr>{ths}</tr></thead>'
        f"<tbody>{''.join(trs)}</tbody></table></div>"
    )


class Raw(str):
    """HTML that is already escaped."""


def _sidecar(figures_dir: Path, key: str) -> dict[str, Any]:
    path = figures_dir / f"{key}.json"
    if path.exists():
        return json.loads(path.read_text())
    return {}


def _figure_section(key: str, figures_dir: Path, site: Path) -> tuple[str, dict[str, Any]]:
    """HTML of one figure's section and what it holds (key, title, rounds, built)."""
    side = _sidecar(figures_dir, key)
    title = side.get("title") or key
    heading = f"Figure {key[3:]}: {title}"
    svg_path, csv_path = figures_dir / f"{key}.svg", figures_dir / f"{key}.csv"
    if not svg_path.exists():
        body = (
            f'<section class="figure" id="{key}"><h2>{_e(heading)}</h2>'
            "<p>Not built: the tables it reads were not built yet.</p></section>"
        )
        return body, {"key": key, "title": title, "built": False, "rounds": []}
    (site / "figures").mkdir(parents=True, exist_ok=True)
    parts = [f'<section class="figure" id="{key}">', f"<h2>{_e(heading)}</h2>"]
    parts.append(f"<figure>{inline_svg(svg_path.read_text(), key)}")
    shows, method = CAPTIONS.get(key, ("", ""))
    parts.append(f"<figcaption>{_e(shows)}<br>Method: {_e(method)}</figcaption></figure>")
    rounds = side.get("rounds") or []
    parts.append(f"<p><strong>Rounds:</strong> {_e(', '.join(rounds) or 'none')}</p>")
    linked = side.get("linked_points")
    if linked:
        parts.append(
            f'<p class="meta">{linked} plotted points link to their result folder at the '
            "recorded commit (hover for system, submitter, round and value).</p>"
        )
    notes = side.get("notes") or []
    if notes:
        items = "".join(f"<li>{_e(n)}</li>" for n in notes)
        parts.append(f"<details><summary>Notes ({len(notes)})</summary><ul>{items}</ul></details>")
    if csv_path.exists():
        shutil.copyfile(csv_path, site / "figures" / f"{key}.csv")
        parts.append(
            f'<p><a href="figures/{key}.csv" download>{key}.csv</a>: every plotted value with '
            "the result behind it (round, submitter, system, source path, commit, link).</p>"
        )
    diffs = PAPER_DIFFERENCES.get(key)
    if diffs:
        parts.append("<h3>Differences from the printed paper</h3>")
        parts.append(_table(("Difference", "Why"), diffs))
    parts.append("</section>")
    return "\n".join(parts), {"key": key, "title": title, "built": True, "rounds": rounds}


def _manifest(base: UPath) -> dict[str, Any]:
    path = base / dataset.MANIFEST
    if path.exists():
        return json.loads(path.read_text())
    return dataset.manifest(base)


def _power_rows(df: pd.DataFrame) -> int:
    cols = [c for c in POWER_COLUMNS if c in df.columns]
    if not cols or df.empty:
        return 0
    return int(df[cols].notna().any(axis=1).sum())


def data_summary(base: UPath) -> dict[str, Any]:
    """Per suite and round: rows, power rows, skipped and flagged counts by kind, source repo
    and commit, file; the cross-check summary per round and reference."""
    man = _manifest(base).get("tables", {})
    suites: dict[str, list[dict[str, Any]]] = {}
    for suite, model in ((s.name, s.results) for s in suite_specs.SPECS):
        table = f"{suite}_results"
        rounds = man.get(table, {}).get("rounds", {})
        keys = sorted(set(rounds) | set(dataset.list_partitions(base, table)))
        problems, _ = dataset.read_partitions(base, f"{suite}_problems", None, Problems)
        out = []
        for key in keys:
            try:
                df = dataset.read_partition(base, table, key, model)
            except FileNotFoundError:
                continue
            info = rounds.get(key, {})
            probs = problems[problems["round"].astype(str) == key]
            counts = {
                sev: probs[probs["severity"] == sev].groupby("kind").size().to_dict()
                for sev in ("skipped", "flagged")
            }
            out.append(
                {
                    "round": key,
                    "rows": len(df),
                    "power_rows": _power_rows(df),
                    "skipped": {k: int(v) for k, v in counts["skipped"].items()},
                    "flagged": {k: int(v) for k, v in counts["flagged"].items()},
                    "source_repo": info.get("source_repo") or _first(df, "source_repo"),
                    "source_commit": info.get("source_commit") or _first(df, "source_commit"),
                    "file": info.get("file") or f"{table}/round={key}/{dataset.PART_FILE}",
                    "problems_file": f"{suite}_problems/round={key}/{dataset.PART_FILE}",
                    "built_at": info.get("built_at"),
                }
            )
        suites[suite] = out
    cross: list[dict[str, Any]] = []
    try:
        diff = dataset.read_single(base, CROSSCHECK_KEY)
    except (FileNotFoundError, OSError):
        diff = None
    if diff is not None and not diff.empty and "reference" in diff.columns:
        for (rnd, ref), grp in diff.groupby(["round", "reference"], sort=True):
            s = crosscheck.summarize(grp)
            cross.append({"round": str(rnd), "reference": str(ref), **s})
    try:
        tiny = dataset.read_single(base, TINY_CROSSCHECK_KEY)
    except (FileNotFoundError, OSError):
        tiny = None
    tiny_cross: list[dict[str, Any]] = []
    if tiny is not None and not tiny.empty and "reference" in tiny.columns:
        tiny_cross = tiny_crosscheck.agreement(tiny).to_dict("records")
    return {"suites": suites, "crosscheck": cross, "tiny_crosscheck": tiny_cross}


def _first(df: pd.DataFrame, col: str) -> str | None:
    if col not in df.columns or df.empty:
        return None
    vals = df[col].dropna()
    return str(vals.iloc[0]) if len(vals) else None


def _kinds(counts: Mapping[str, int]) -> str:
    total = sum(counts.values())
    if not total:
        return "0"
    return f"{total} (" + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ")"


def _dataset_href(base: UPath, site: Path, rel: str) -> str:
    if base.protocol in ("", "file", "local"):
        return os.path.relpath(Path(base.path) / rel, site)
    return f"{str(base).rstrip('/')}/{rel}"


def _data_body(summary: Mapping[str, Any], base: UPath, site: Path, link_base: str) -> str:
    parts = ["<h2>Results per suite and round</h2>"]
    docs = [
        f'{what}: <a href="{_e(_dataset_href(base, site, name))}">{_e(name)}</a>'
        for what, name in (("data dictionary", "README.md"), ("manifest", dataset.MANIFEST))
        if (base / name).exists()
    ]
    parts.append(
        "<p>Rows of each round's results table, those with power or energy, and the results "
        "skipped (left out) or flagged (kept, worth a look) while reading, by kind. "
        + ("; ".join(docs) + "." if docs else "")
        + "</p>"
    )
    for suite, rounds in summary["suites"].items():
        parts.append(f'<h3 id="{suite}">{suite.capitalize()}</h3>')
        if not rounds:
            parts.append("<p>Not built.</p>")
            continue
        rows = []
        for r in rounds:
            commit = r.get("source_commit") or ""
            repo = r.get("source_repo") or ""
            src = (
                Raw(
                    f'<a href="{_e(f"{link_base}/{repo}/tree/{commit}")}">{_e(repo)}</a> '
                    f"<code>{_e(commit[:12])}</code>"
                )
                if repo and commit
                else ""
            )
            files = Raw(
                f'<a href="{_e(_dataset_href(base, site, r["file"]))}">results</a>, '
                f'<a href="{_e(_dataset_href(base, site, r["problems_file"]))}">problems</a>'
            )
            rows.append(
                (
                    r["round"],
                    r["rows"],
                    r["power_rows"],
                    _kinds(r["skipped"]),
                    _kinds(r["flagged"]),
                    src,
                    files,
                )
            )
        parts.append(
            _table(
                ("Round", "Results", "With power", "Skipped", "Flagged", "Source", "Files"),
                rows,
                numeric={1, 2},
            )
        )
    parts.append('<h2 id="crosscheck">Cross-check against MLCommons\' published tables</h2>')
    cross = summary["crosscheck"]
    if not cross:
        parts.append("<p>Not built.</p>")
    else:
        parts.append(
            "<p>Power of every result computed from its raw trace, compared with the published "
            "value: results matched (power on both sides) and how many agree within 1%.</p>"
        )
        rows = [
            (
                c["round"],
                c["reference"],
                c["matched"],
                c["within_1pct"],
                f"{c['share_within_1pct']:.1%}" if c["matched"] else "",
                c["only_primary"],
                c["only_reference"],
            )
            for c in cross
        ]
        parts.append(
            _table(
                ("Round", "Reference", "Matched", "Within 1%", "Share", "Only ours", "Only theirs"),
                rows,
                numeric={2, 3, 4, 5, 6},
            )
        )
    tiny = summary.get("tiny_crosscheck") or []
    if tiny:
        parts.append(
            "<p>Tiny: throughput, energy per inference and accuracy of every result read from "
            "the submission trees, paired with the published value: within 1% of compared.</p>"
        )
        rows = [
            (
                c["round"],
                c["reference"],
                c["pairs"],
                f"{c['throughput_within']}/{c['throughput_compared']}",
                f"{c['energy_within']}/{c['energy_compared']}",
                f"{c['accuracy_within']}/{c['accuracy_compared']}",
                c["only_ours"],
                c["only_published"],
            )
            for c in tiny
        ]
        parts.append(
            _table(
                (
                    "Round",
                    "Reference",
                    "Pairs",
                    "Throughput",
                    "Energy",
                    "Accuracy",
                    "Only ours",
                    "Only theirs",
                ),
                rows,
                numeric={2, 6, 7},
            )
        )
    return "\n".join(parts)


def build_report(
    out_dir: Path | str,
    figures_dir: Path | str,
    dataset_base: str | UPath,
    *,
    link_base: str = "https://github.com",
    built_at: dt.datetime | None = None,
    known_rounds: Mapping[str, Sequence[str]] | None = None,
    freshness: Sequence[FreshnessState] | None = None,
) -> Path:
    """Write the site (index.html, data.html, style.css, figures/*.csv) into out_dir from the
    figure outputs in figures_dir and the dataset at dataset_base; returns index.html.
    `known_rounds` (suite -> versions in the catalog or found by discovery) lets the page name
    the rounds that are known but not built yet; `freshness` (the freshness checks at build
    time) adds a section to data.html."""
    site = Path(out_dir)
    site.mkdir(parents=True, exist_ok=True)
    figures = Path(figures_dir)
    base = UPath(dataset_base)
    when = (built_at or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0)
    summary = data_summary(base)
    rounds = {s: [r["round"] for r in rs] for s, rs in summary["suites"].items()}
    covered = "; ".join(f"{s} {', '.join(v)}" for s, v in rounds.items() if v) or "none"
    pending = {
        s: [v for v in vs if v not in rounds.get(s, [])] for s, vs in (known_rounds or {}).items()
    }
    waiting = "; ".join(f"{s} {', '.join(v)}" for s, v in pending.items() if v)
    meta = (
        f"Built {when.isoformat()} from {covered}. "
        + (f"Known but not built yet: {_e(waiting)}. " if waiting else "")
        + 'Every plotted point links to its result; <a href="data.html">the data</a>.'
    )
    sections, infos = [], []
    for key in FIGURE_SUITES:
        body, info = _figure_section(key, figures, site)
        sections.append(body)
        infos.append(info)
    nav = "".join(f'<li><a href="#{i["key"]}">Fig. {_e(i["key"][3:])}</a></li>' for i in infos)
    nav += '<li><a href="data.html">Data</a></li>'
    footer = (
        f"Rebuilt from MLCommons' published results by mlperf-power-dag. Built {when.isoformat()}."
    )
    title = "MLPerf Power: figures from the MLCommons results"
    (site / "style.css").write_text(STYLE)
    index = site / "index.html"
    index.write_text(
        PAGE.substitute(
            title=_e(title), meta=meta, nav=nav, body="\n".join(sections), footer=_e(footer)
        )
    )
    data_nav = "".join(f'<li><a href="#{s}">{s.capitalize()}</a></li>' for s in SUITES)
    data_nav = '<li><a href="index.html">Figures</a></li>' + data_nav
    data_nav += '<li><a href="#crosscheck">Cross-check</a></li>'
    data_body = _data_body(summary, base, site, link_base.rstrip("/"))
    if freshness is not None:
        data_nav += '<li><a href="#freshness">Freshness</a></li>'
        data_body += "\n" + freshness_section(freshness)
    (site / "data.html").write_text(
        PAGE.substitute(
            title="MLPerf Power: the data",
            meta=_e(f"Built {when.isoformat()} from {covered}."),
            nav=data_nav,
            body=data_body,
            footer=_e(footer),
        )
    )
    (site / "report.json").write_text(
        json.dumps(
            {
                "built_at": when.isoformat(),
                "rounds": rounds,
                "not_built": pending,
                "figures": infos,
                **({"freshness": [f.to_json() for f in freshness]} if freshness else {}),
            },
            indent=1,
        )
        + "\n"
    )
    return index
