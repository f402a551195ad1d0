"""The report of the home built from the mirror: every point of fig5a, fig7 and fig9 links to an
existing result folder at the round's recorded commit, and one click reaches it in a browser."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from browser import CHROMIUM, NO_CHROMIUM, click_a_point, overflow, report_page, svg_sizes
from test_report import Page

from mlperf_power_dag.asset_inputs import FIGURE_SUITES
from mlperf_power_dag.figures.links import CMX_RESULTS_BRANCH

LINKED = ("fig5a", "fig7", "fig9")
URL = re.compile(r"^https://github\.com/mlcommons/([^/]+)/tree/([^/]+)/(.+)$")


def git(repo: Path, *args: str, stdin: str | None = None) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(repo), *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def recorded_commits(home: Path) -> dict[str, str]:
    """Source repository -> commit of every built round, from the dataset's manifest."""
    tables = json.loads((home / "dataset" / "manifest.json").read_text())["tables"]
    return {
        info["source_repo"]: info["source_commit"]
        for suite in ("inference", "tiny", "training")
        for info in tables[f"{suite}_results"]["rounds"].values()
    }


def cmx_urls(mirror: Path, commit: str) -> set[str]:
    """The `url` of every row of MLCommons' CMX results at `commit`."""
    repo = mirror / "mlcommons" / "cm4mlperf-results.git"
    files = [
        f
        for f in git(repo, "ls-tree", "-r", "--name-only", commit, "experiment").split()
        if f.endswith("cm-result.json") and "mlperf-inference--" in f
    ]
    out: set[str] = set()
    batch = subprocess.run(
        ["git", "--git-dir", str(repo), "cat-file", "--batch"],
        input="".join(f"{commit}:{f}\n" for f in files).encode(),
        capture_output=True,
        check=True,
    ).stdout
    pos = 0
    for _ in files:  # "<sha> blob <size>\n<content>\n" per file
        head_end = batch.index(b"\n", pos)
        size = int(batch[pos:head_end].split()[2])
        rows = json.loads(batch[head_end + 1 : head_end + 1 + size])
        out |= {row["url"] for row in rows if "url" in row}
        pos = head_end + 1 + size + 1
    return out


@pytest.fixture(scope="module")
def links(built) -> dict[str, list[str]]:
    """The links of every plotted point of the three figures, as the report holds them."""
    page = Page((built["home"] / "report" / "index.html").read_text())
    return {key: page.svg_links[key] for key in LINKED}


def test_every_point_links_to_an_existing_result_folder_at_its_commit(built, links, mirror_root):
    home = built["home"]
    commits = recorded_commits(home)
    published = cmx_urls(mirror_root, commits["mlcommons/cm4mlperf-results"])
    for key, urls in links.items():
        csv = pd.read_csv(home / "figures" / f"{key}.csv")
        # One link per plotted point with a result behind it, and the same links as the CSV.
        assert len(urls) == csv["url"].notna().sum() > 0, key
        assert sorted(urls) == sorted(csv["url"].dropna()), key
        lookups, cmx = [], 0
        for url in urls:
            repo, ref, path = URL.match(url).groups()
            if (mirror_root / "mlcommons" / f"{repo}.git").is_dir():
                assert ref == commits[f"mlcommons/{repo}"], url
                lookups.append((repo, f"{ref}:{path}"))
            else:  # read from CMX: the folder CMX itself links to
                assert ref == CMX_RESULTS_BRANCH and url in published, url
                cmx += 1
        for repo in {r for r, _ in lookups}:
            asked = [spec for r, spec in lookups if r == repo]
            found = git(mirror_root / "mlcommons" / f"{repo}.git", "cat-file", "--batch-check",
                        stdin="\n".join(asked) + "\n").splitlines()  # fmt: skip
            missing = [a for a, f in zip(asked, found, strict=True) if " tree " not in f]
            assert missing == [], (key, missing[:3])
        if key == "fig5a":  # covers the CMX rounds v3.1 and v4.0 as well as tree rounds
            assert cmx > 0 and lookups


@pytest.mark.skipif(CHROMIUM is None, reason=NO_CHROMIUM)
def test_one_click_on_a_point_opens_its_result_folder(built, links, tmp_path):
    index = built["home"] / "report" / "index.html"
    opened = []
    with report_page(index) as (page, visit):
        sizes = svg_sizes(page)
        assert set(sizes) == set(FIGURE_SUITES)
        small = {k: s for k, s in sizes.items() if min(s) < 200}
        assert small == {}, small
        for key in LINKED:
            href, url = click_a_point(page, key)
            assert url == href and href in links[key], (key, href, url)
            opened.append(url)
        page.set_viewport_size({"width": 390, "height": 844})
        assert overflow(page) == 0
        page.screenshot(path=str(tmp_path / "phone.png"))
    assert visit.errors == [] and visit.failed == []
    assert visit.outside == opened  # nothing but the clicked links left the disk
    assert (tmp_path / "phone.png").stat().st_size > 10_000
