"""The report site on a synthetic home: figures drawn from a few results, a tiny dataset."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
from browser import CHROMIUM, NO_CHROMIUM, click_a_point, overflow, report_page, svg_sizes
from test_metrics import frame, row
from test_tiny_crosscheck_asset import two_results
from upath import UPath

from mlperf_power_dag import dataset, report, tiny_crosscheck
from mlperf_power_dag.asset_inputs import FIGURE_SUITES
from mlperf_power_dag.figures.common import save
from mlperf_power_dag.figures.fig1 import Fig1Params, build_fig1, render_fig1
from mlperf_power_dag.figures.fig2 import build_fig2, render_fig2
from mlperf_power_dag.figures.fig8 import build_fig8, render_fig8
from mlperf_power_dag.schemas import InferenceResults, Problems

LINK_BASE = "https://example.org"
COMMITS = {"v4.0": "a" * 40, "v4.1": "b" * 40}
BUILT_AT = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
BUILT = ("fig1", "fig2", "fig8")


def results() -> pd.DataFrame:
    df = frame(
        [
            row("v4.0", "resnet50", sps=1000, power=100, system="s1"),
            row("v4.0", "bert-99", sps=100, power=10, system="s1"),
            row("v4.0", "bert-99.9", sps=50, power=10, system="s1"),
            row("v4.0", "retinanet", sps=10, power=None, system="s2"),
            row("v4.1", "resnet50", sps=3000, power=150, system="s3", submitter="Beta"),
            row("v4.1", "bert-99", sps=200, power=10, system="s3", submitter="Beta"),
            row("v4.1", "bert-99.9", sps=150, power=10, system="s3", submitter="Beta"),
        ]
    )
    df["source_commit"] = df["round"].map(COMMITS)
    return df


def problems(version: str) -> pd.DataFrame:
    rows = {
        "v4.0": [
            ("missing_trace", "skipped"),
            ("missing_trace", "skipped"),
            ("odd_system_field", "flagged"),
        ],
        "v4.1": [("unknown_benchmark", "flagged")],
    }[version]
    return pd.DataFrame(
        [
            {
                "suite": "inference",
                "round": version,
                "source_path": f"closed/X/results/s/{i}",
                "kind": kind,
                "severity": sev,
                "message": "why",
            }
            for i, (kind, sev) in enumerate(rows)
        ]
    )


def crosscheck() -> pd.DataFrame:
    rel = [0.0, 0.005, -0.002, 0.05]
    return pd.DataFrame(
        {
            "round": ["v4.0"] * 4,
            "reference": ["cmx"] * 4,
            "class": ["agree", "agree", "agree", "power_differs"],
            "primary_power": [100.0, 10.0, 10.0, 105.0],
            "reference_power": [100.0, 9.95, 10.02, 100.0],
            "power_rel_diff": rel,
            "performance_rel_diff": [0.0] * 4,
        }
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("home")
    base = UPath(root / "dataset")
    res = results()
    for version, part in res.groupby("round"):
        info = {"source_repo": f"mlcommons/inference_results_{version}"}
        info["source_commit"] = COMMITS[version]
        dataset.write_partition(base, "inference_results", version, part, InferenceResults, info)
        dataset.write_partition(
            base, "inference_problems", version, problems(version), Problems, info
        )
    dataset.write_single(base, "inference_crosscheck", crosscheck())
    dataset.write_manifest(base)
    figures = root / "figures"
    for key, data, render in (
        ("fig1", build_fig1(res, Fig1Params(benchmarks=("resnet50", "bert-99"))), render_fig1),
        ("fig2", build_fig2(res), render_fig2),
        ("fig8", build_fig8(res), render_fig8),
    ):
        save(render(data), data, figures, key, sources=res, title=key.upper(), link_base=LINK_BASE)
    known = {"inference": ["v4.0", "v4.1", "v5.0"], "tiny": ["v1.3"]}  # v5.0, v1.3 not built
    report.build_report(
        root / "report", figures, str(base), link_base=LINK_BASE, built_at=BUILT_AT,
        known_rounds=known,
    )  # fmt: skip
    return root


class Page(HTMLParser):
    """Sections, SVGs per section, links, ids and table rows of a page."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.svgs: dict[str, int] = {}
        self.hrefs: list[str] = []
        self.svg_links: dict[str, list[str]] = {}
        self.ids: list[str] = []
        self.resources: list[str] = []
        self.tags: set[str] = set()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.add(tag)
        if "id" in a:
            self.ids.append(str(a["id"]))
        if tag == "section":
            self.sections.append(str(a.get("id")))
        elif tag == "svg" and self.sections:
            self.svgs[self.sections[-1]] = self.svgs.get(self.sections[-1], 0) + 1
        elif tag == "a" and "xlink:href" in a:
            self.svg_links.setdefault(self.sections[-1], []).append(str(a["xlink:href"]))
        elif tag == "a" and "href" in a:
            self.hrefs.append(str(a["href"]))
        if tag in ("link", "script", "img", "iframe") or (tag != "a" and "src" in a):
            self.resources.append(str(a.get("href") or a.get("src")))
        if tag == "tr":
            self.rows.append([])
        if tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def page(home: Path, name: str = "index.html") -> Page:
    return Page((home / "report" / name).read_text())


def test_every_figure_has_a_section_built_ones_inline_svg(home):
    p = page(home)
    assert p.sections == list(FIGURE_SUITES)
    assert {k for k, n in p.svgs.items() if n == 1} == set(BUILT)
    text = (home / "report" / "index.html").read_text()
    assert text.count("Not built") == len(FIGURE_SUITES) - len(BUILT)
    assert "<?xml" not in text and "<!DOCTYPE svg" not in text
    assert len(p.ids) == len(set(p.ids)), "ids are unique across the inlined SVGs"
    assert "Figure 1: FIG1" in text  # the title from the figure's sidecar


def test_csv_links_are_copied_into_the_site(home):
    site = home / "report"
    csvs = [h for h in page(home).hrefs if h.endswith(".csv")]
    assert csvs == [f"figures/{k}.csv" for k in BUILT]
    for h in csvs:
        assert (site / h).read_bytes() == (home / "figures" / Path(h).name).read_bytes()


def test_every_plotted_point_links_to_its_result_at_its_commit(home):
    p = page(home)
    res = results()
    known = {
        f"{LINK_BASE}/{r.source_repo}/tree/{r.source_commit}/{r.source_path}"
        for r in res.itertuples()
    }
    for key in BUILT:
        csv = pd.read_csv(home / "figures" / f"{key}.csv")
        urls = csv["url"].dropna().tolist()
        assert urls and set(urls) <= known, key
        assert sorted(p.svg_links[key]) == sorted(urls), key
    # The tooltip names system, submitter, round and value.
    svg = (home / "figures" / "fig1.svg").read_text()
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    assert any(t.startswith("s3 — Beta (v4.1 resnet50): ") for t in titles)


def test_histogram_gives_each_pair_its_slice(home):
    csv = pd.read_csv(home / "figures" / "fig8.csv")
    assert len(csv) == 2  # one bert pair per round
    links = page(home).svg_links["fig8"]
    assert sorted(links) == sorted(csv["url"])
    assert all(f"/tree/{COMMITS[r]}/" in u for r, u in zip(csv["round"], csv["url"], strict=True))


def test_data_page_counts_equal_the_inputs(home):
    p = page(home, "data.html")
    rows = {r[0]: r for r in p.rows if len(r) == 7 and r[0] in COMMITS and r[1].isdigit()}
    res = results()
    for version in COMMITS:
        part = res[res["round"] == version]
        assert int(rows[version][1]) == len(part)
        assert int(rows[version][2]) == int(part["power_w"].notna().sum())
        assert COMMITS[version][:12] in rows[version][5]
    assert rows["v4.0"][3] == "2 (missing_trace 2)"
    assert rows["v4.0"][4] == "1 (odd_system_field 1)"
    assert rows["v4.1"][3] == "0"
    cross = [r for r in p.rows if len(r) == 7 and r[1] == "cmx"]
    assert cross == [["v4.0", "cmx", "4", "3", "75.0%", "0", "0"]]
    site = home / "report"
    commit_links = [h for h in p.hrefs if "/tree/" in h]
    assert commit_links == [
        f"{LINK_BASE}/mlcommons/inference_results_{v}/tree/{c}" for v, c in COMMITS.items()
    ]
    files = [h for h in p.hrefs if h.endswith((".parquet", ".json", ".md"))]
    assert files and all((site / h).resolve().exists() for h in files)
    assert "Not built" in (site / "data.html").read_text()  # tiny and training


def test_built_when_and_from_which_rounds(home):
    for name in ("index.html", "data.html"):
        text = (home / "report" / name).read_text()
        assert "Built 2026-01-02T03:04:05+00:00 from inference v4.0, v4.1." in text
    index = (home / "report" / "index.html").read_text()
    assert "Known but not built yet: inference v5.0; tiny v1.3." in index


def test_every_paper_figure_says_how_it_differs():
    for key in ("fig1", "fig2", "fig5a", "fig5b", "fig5c", "fig6", "fig7", "fig8", "fig9",
                "fig10", "fig11a"):  # fmt: skip
        assert report.PAPER_DIFFERENCES[key], key


def test_self_contained_html5(home):
    for name in ("index.html", "data.html"):
        text = (home / "report" / name).read_text()
        p = Page(text)
        assert text.startswith("<!DOCTYPE html>")
        assert 'name="viewport"' in text and "script" not in p.tags
        assert p.resources == ["style.css"]
    css = (home / "report" / "style.css").read_text()
    assert "@media" in css and "url(" not in css and "@import" not in css


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_browser_renders_every_figure_without_network(home, tmp_path):
    index = home / "report" / "index.html"
    with report_page(index) as (view, visit):
        sizes = svg_sizes(view)
        assert set(sizes) == set(BUILT)
        assert all(w > 200 and h > 100 for w, h in sizes.values()), sizes
        href, opened = click_a_point(view, "fig1")
        assert opened == href and href.startswith(f"{LINK_BASE}/mlcommons/inference_results_v4.")
        view.set_viewport_size({"width": 390, "height": 844})
        assert overflow(view) == 0
        view.screenshot(path=str(tmp_path / "phone.png"), full_page=True)
    assert visit.errors == [] and visit.failed == []
    assert visit.outside == [opened]
    assert (tmp_path / "phone.png").stat().st_size > 10_000


def test_points_with_equal_values_link_by_their_own_series(tmp_path):
    import matplotlib.pyplot as plt

    from mlperf_power_dag.figures.common import FigureData, long_frame
    from mlperf_power_dag.figures.links import attach, source_urls

    rows = [
        {"series": s, "x": v, "y": y, "round": v, "system": f"{s}-{v}", "source_path": f"p/{s}/{v}"}
        for s in ("A", "B")
        for v, y in (("v1.0", 1.0), ("v1.1", 2.0 if s == "A" else 1.0))
    ]
    frame = long_frame(pd.DataFrame(rows), ["source_path"])
    sources = pd.DataFrame(
        {
            "round": frame["round"],
            "source_path": frame["source_path"],
            "source_repo": "o/r",
            "source_commit": "c" * 40,
        }
    )
    fig, ax = plt.subplots()
    for s in ("B", "A"):  # drawn in the other order than the frame's rows
        sub = frame[frame["series"] == s]
        ax.plot([0, 1], sub["y"].astype(float), marker="o", label=s)
    data = FigureData("figx", frame)
    paths = save(fig, data, tmp_path, "figx", sources=sources, link_base="https://mirror.example/")
    csv = pd.read_csv(paths["csv"])
    assert csv["url"].tolist() == [
        f"https://mirror.example/o/r/tree/{'c' * 40}/{p}" for p in frame["source_path"]
    ]
    fig, ax = plt.subplots()
    for s in ("B", "A"):
        ax.plot([0, 1], frame[frame["series"] == s]["y"].astype(float), marker="o", label=s)
    linked = source_urls(frame, sources, "https://x")
    points = attach(fig, linked, "figx")
    assert [p.title.split(" (")[0] for p in points] == ["B-v1.0", "B-v1.1", "A-v1.0", "A-v1.1"]
    plt.close("all")


def test_report_asset_writes_the_site_into_the_home(home, tmp_path, monkeypatch):
    import dagster as dg

    from mlperf_power_dag.definitions import DOWNSTREAM_JOB, make_definitions

    run_home = tmp_path / "run-home"
    shutil.copytree(home / "dataset", run_home / "dataset")
    shutil.copytree(home / "figures", run_home / "figures")
    monkeypatch.setenv("MLPERF_POWER_HOME", str(run_home))
    monkeypatch.delenv("MLPERF_POWER_DATASET", raising=False)
    monkeypatch.setenv("MLPERF_POWER_LINK_BASE", LINK_BASE)
    job = make_definitions().resolve_job_def(DOWNSTREAM_JOB)
    job = job.get_subset(asset_selection={dg.AssetKey("report")})
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    index = run_home / "report" / "index.html"
    mats = result.asset_materializations_for_node("report")
    assert mats and mats[0].metadata["index"].path == str(index)
    assert Page(index.read_text()).sections == list(FIGURE_SUITES)


def test_results_read_from_cmx_link_to_their_submission_repository():
    from mlperf_power_dag.figures.links import CMX_REPO, source_urls

    frame = pd.DataFrame(
        {
            "round": ["v4.0", "v4.1"],
            "y": [1.0, 2.0],
            "source_path": ["closed/A/results/s/resnet50/Offline", "closed/B/results/t/bert-99"],
            "source_repo": [CMX_REPO, "mlcommons/inference_results_v4.1"],
            "source_commit": ["c" * 40, "d" * 40],
        }
    )
    base = "https://github.com/mlcommons/inference_results_"
    assert source_urls(frame, None, "https://github.com/")["url"].tolist() == [
        f"{base}v4.0/tree/master/closed/A/results/s/resnet50/Offline",
        f"{base}v4.1/tree/{'d' * 40}/closed/B/results/t/bert-99",
    ]


def test_data_page_lists_the_tiny_crosscheck(tmp_path):
    tiny = two_results()
    ref = "summary.csv:mlcommons/tiny_results_v1.2@main"
    published = tiny_crosscheck.comparable(tiny).assign(
        energy_per_inference_uj=[5.0, 7.5], reference=ref
    )
    base = UPath(tmp_path / "dataset")
    dataset.write_single(base, "tiny_crosscheck", tiny_crosscheck.check_rounds(tiny, published))
    dataset.write_manifest(base)
    report.build_report(tmp_path / "report", tmp_path / "figures", str(base), built_at=BUILT_AT)
    rows = [r for r in page(tmp_path, "data.html").rows if len(r) == 8 and r[1] == ref]
    assert rows == [["v1.2", ref, "2", "2/2", "1/2", "2/2", "0", "0"]]
