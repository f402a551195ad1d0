"""A local tree made from a real published result, its power scaled by 0.8: added, compared with
the published results and removed, with the published analysis untouched."""

from __future__ import annotations

import hashlib
import math
import shutil
from pathlib import Path

import pandas as pd
import pytest
from localtree import RESULT, make_local_tree
from upath import UPath

from mlperf_power_dag import cli, dataset
from mlperf_power_dag.compare import GROUP, usable_results
from mlperf_power_dag.schemas import InferenceResults, LocalInferenceResults, Problems

SCALE = 0.8


def digest(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def lab(built, mirror_url, mirror_root, tmp_path_factory):
    """A copy of the built home (without its checkouts) with local tree `lab` added."""
    root = tmp_path_factory.mktemp("lab")
    home = root / "home"
    shutil.copytree(built["home"], home, ignore=shutil.ignore_patterns("cache"))
    tree = make_local_tree(mirror_root, root / "tree", scale=SCALE)
    mp = pytest.MonkeyPatch()
    mp.setenv("MLPERF_POWER_HOME", str(home))
    mp.setenv("MLPERF_POWER_GIT_BASE", mirror_url)
    mp.delenv("DAGSTER_HOME", raising=False)
    mp.delenv("MLPERF_POWER_DATASET", raising=False)
    before = digest(home / "dataset")
    try:
        code = cli.main(["add-local", str(tree), "--name", "lab"])
        yield {"home": home, "code": code, "before": before, "mp": mp}
    finally:
        mp.undo()


def published(home: Path) -> pd.DataFrame:
    return dataset.read_partitions(
        UPath(home / "dataset"), "inference_results", None, InferenceResults
    )[0]


def mine(home: Path) -> pd.DataFrame:
    base = UPath(home / "local")
    return dataset.read_partition(base, "inference_results", "local-lab", LocalInferenceResults)


def test_local_row_carries_its_provenance_and_the_scaled_efficiency(lab):
    assert lab["code"] == 0
    ours = mine(lab["home"])
    assert len(ours) == 1
    row = ours.iloc[0]
    assert (row["round"], row["source_repo"], row["official"]) == ("local-lab", "local/lab", False)
    assert row["source_commit"].startswith("sha256:") and row["source_path"] == RESULT
    theirs = published(lab["home"])
    original = theirs[(theirs["round"] == "v4.1") & (theirs["source_path"] == RESULT)].iloc[0]
    assert math.isclose(row["power_w"], SCALE * original["power_w"], rel_tol=1e-12)
    assert math.isclose(
        row["samples_per_joule"], original["samples_per_joule"] / SCALE, rel_tol=1e-12
    )


def test_rank_and_ratios_match_an_independent_count(lab):
    home = lab["home"]
    table = pd.read_parquet(home / "local" / "local_comparison.parquet")
    assert set(table["local"]) == {"lab"} and set(table["scope"]) == {"latest", "all"}
    ours = usable_results(mine(home)).iloc[0]
    pool = usable_results(published(home))
    same = pool[(pool[GROUP] == ours[GROUP]).all(axis=1)]
    for scope, subset in (("all", same), ("latest", same[same["round"] == "v4.1"])):
        got = table[table["scope"] == scope].iloc[0]
        eff = subset["efficiency"]
        assert got["published"] == len(subset) > 0
        assert got["rank"] == 1 + (eff > ours["efficiency"]).sum()
        assert math.isclose(got["percentile"], 100 * (eff < ours["efficiency"]).mean())
        below = subset[eff < ours["efficiency"]]
        best_below = below.loc[below["efficiency"].idxmax()]
        assert got["beats_source_path"] == best_below["source_path"]
        assert math.isclose(got["beats_ratio"], ours["efficiency"] / best_below["efficiency"])
    # In its own round the published original is the only result of its group: beaten by 1/0.8.
    latest = table[table["scope"] == "latest"].iloc[0]
    assert latest["beats_source_path"] == RESULT and latest["beats_round"] == "v4.1"
    assert math.isclose(latest["beats_ratio"], 1 / SCALE, rel_tol=1e-12)
    assert (home / "local" / "figures" / "compare-lab.svg").exists()


def test_published_dataset_and_figures_are_unchanged(lab, built):
    home = lab["home"]
    assert digest(home / "dataset") == lab["before"]
    lab["mp"].setenv("MLPERF_POWER_HOME", str(home))
    instance = cli._prepare_instance()
    ok, done = cli.run_downstream(instance, ["fig5a", "fig9"], force=True)
    assert ok and set(done) == {"fig5a", "fig9"}
    for key in ("fig5a", "fig9"):
        now = (home / "figures" / f"{key}.csv").read_text()
        assert now == (built["home"] / "figures" / f"{key}.csv").read_text()
        assert "local" not in now


def test_compare_prints_and_remove_drops_everything(lab, capsys):
    home = lab["home"]
    lab["mp"].setenv("MLPERF_POWER_HOME", str(home))
    capsys.readouterr()
    assert cli.main(["compare", "lab"]) == 0
    out = capsys.readouterr().out
    assert "resnet50" in out and "x1.250" in out and "compare-lab.png" in out
    assert cli.main(["remove-local", "lab"]) == 0
    assert not (home / "local" / "inference_results" / "round=local-lab").exists()
    assert pd.read_parquet(home / "local" / "local_comparison.parquet").empty
    assert not list((home / "local" / "figures").glob("compare-lab.*"))
    instance = cli._prepare_instance()
    assert "local-lab" not in instance.get_dynamic_partitions("inference_rounds")


def test_a_link_out_of_the_tree_is_refused_and_counted(lab, mirror_root, tmp_path, capsys):
    home = lab["home"]
    lab["mp"].setenv("MLPERF_POWER_HOME", str(home))
    tree = make_local_tree(mirror_root, tmp_path / "linked")
    secret = tmp_path / "secret.txt"
    secret.write_text("Time,07-23-2024 13:43:39.220,Watts,1.0,token-6f1d\n")
    trace = tree / RESULT / "performance" / "run_1" / "spl.txt"
    trace.unlink()
    trace.symlink_to(secret)
    capsys.readouterr()
    assert cli.main(["add-local", str(tree), "--name", "linked"]) == 0
    assert "1 results" in capsys.readouterr().out
    base = UPath(home / "local")
    problems = dataset.read_partition(base, "inference_problems", "local-linked", Problems)
    refused = problems[problems["kind"] == "symlinked_file"]
    assert len(refused) == 1 and "token-6f1d" not in problems["message"].str.cat()
    row = dataset.read_partition(base, "inference_results", "local-linked", LocalInferenceResults)
    assert row["power_w"].isna().all()  # no power from a file outside the tree
    assert cli.main(["remove-local", "linked"]) == 0
