"""The Tiny cross-check as assets: the published tables fetched from the mirror, compared with
the rounds read from the trees, give the same numbers as the pure functions on the same files."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest
from test_tiny import VERSIONS, tiny, tiny_root  # noqa: F401 (fixtures)
from upath import UPath

from mlperf_power_dag import dataset
from mlperf_power_dag import tiny_crosscheck as cc
from mlperf_power_dag.definitions import DOWNSTREAM_JOB, make_definitions
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.schemas import TinyResults

CMX = "cmx:mlcommons/cm4mlperf-results@main"
SUMMARY = "summary.csv:mlcommons/tiny_results_v1.2@main"


@pytest.fixture(scope="module")
def run(tiny, mirror_url, tmp_path_factory):  # noqa: F811
    home = MlperfHome(path=str(tmp_path_factory.mktemp("tiny_home")))
    defs = make_definitions(resources={"mlperf_home": home, "git": GitSource(base=mirror_url)})
    base = UPath(home.dataset_dir())
    for v in VERSIONS:
        dataset.write_partition(base, "tiny_results", v, tiny(v)[0].results, TinyResults)
    keys = {dg.AssetKey("tiny_reference_results"), dg.AssetKey("tiny_crosscheck")}
    job = defs.resolve_job_def(DOWNSTREAM_JOB)
    checks = {c for c in job.asset_layer.asset_graph.asset_check_keys if c.asset_key in keys}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("tiny_rounds", VERSIONS)
        result = job.get_subset(
            asset_selection=keys, asset_check_selection=checks
        ).execute_in_process(instance=instance)
        assert result.success
        evaluations = result.get_asset_check_evaluations()
    return {
        "cmp": dataset.read_single(base, "tiny_crosscheck"),
        "published": dataset.read_single(base, "tiny_reference_results"),
        "checks": {e.check_name: e.passed for e in evaluations},
    }


def test_published_tables_are_the_ones_the_readers_give(run, checkout):
    published = run["published"]
    assert published.groupby("reference").size().to_dict() == {CMX: 230, SUMMARY: 73}
    root = checkout("tiny_results_v1.2", cc.SUMMARY_PATTERNS)
    summary = cc.read_summary_csv((root / "summary.csv").read_bytes(), "v1.2")
    mine = published[published["reference"] == SUMMARY].drop(columns="reference")
    pd.testing.assert_frame_equal(mine.reset_index(drop=True), summary, check_dtype=False)


def test_agreement_equals_the_pure_comparison(run, tiny, checkout):  # noqa: F811
    cmp = run["cmp"]
    by_ref = {ref: cc.summarize(grp) for ref, grp in cmp.groupby("reference")}
    # the same numbers as comparing the readers' tables directly (tests/test_tiny.py)
    root = checkout("cm4mlperf-results", cc.CMX_PATTERNS)
    ours = cc.comparable(pd.concat([tiny(v)[0].results for v in ("v0.7", "v1.0", "v1.1")]))
    direct = cc.summarize(cc.compare(ours, cc.read_cmx_tiny(root)))
    assert by_ref[CMX] == pytest.approx(direct, nan_ok=True)
    assert (by_ref[CMX]["pairs"], by_ref[CMX]["energy_within"]) == (222, 88)
    assert (by_ref[SUMMARY]["pairs"], by_ref[SUMMARY]["energy_within"]) == (73, 18)
    agreement = cc.agreement(cmp)
    assert agreement["round"].tolist() == ["v0.7", "v1.0", "v1.1", "v1.2"]
    assert agreement["ok"].all()
    assert agreement["pairs"].sum() == 222 + 73
    assert run["checks"] == {"tiny_crosscheck_agreement": True, "keys_and_provenance": True}


def two_results() -> pd.DataFrame:
    """Two synthetic Tiny v1.2 results (ic and kws), as read from a tree."""
    return pd.DataFrame(
        {
            "round": ["v1.2"] * 2,
            "division": ["closed"] * 2,
            "submitter": ["acme"] * 2,
            "system": ["a", "b"],
            "benchmark": ["ic", "kws"],
            "throughput_ips": [100.0, 10.0],
            "energy_per_inference_uj": [5.0, 7.0],
            "accuracy": [0.9, 0.8],
            "source_path": ["x", "y"],
        }
    )


def test_agreement_fails_on_a_drifted_value():
    ours = cc.comparable(two_results())
    published = ours.assign(energy_per_inference_uj=[5.0, 7.5], reference=SUMMARY)
    raw = ours.rename(columns={"source": "source_path"})
    cmp = cc.check_rounds(raw, published)
    row = cc.agreement(cmp).iloc[0]
    assert (row["energy_compared"], row["energy_within"], row["ok"]) == (2, 1, False)


def test_an_unreachable_published_table_is_left_out_and_named(tmp_path):
    from mlperf_power_dag import reference_cache
    from mlperf_power_dag.defs.resources import GitSource

    warned: list[str] = []
    git = GitSource(base=f"file://{tmp_path}/nowhere")
    out = reference_cache.tiny_reference_results(
        ["v1.2"], cache=tmp_path, fetch=git.fetch_round, warn=warned.append
    )
    assert out.empty and list(out.columns) == [*cc.COLUMNS, "reference"]
    assert [m.split(": ")[0] for m in warned] == [CMX, SUMMARY]
