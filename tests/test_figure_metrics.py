"""Figures 5a, 5b, 8, 9 and 10 plot the metric tables: drawn from the tables (as the dataset
stores them) they show exactly what they show when computed from the results, and the figure
assets read those tables."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest
from test_figures import SHA, cmx_power, results  # noqa: F401 (fixtures)
from test_metrics import frame, row
from upath import UPath

from mlperf_power_dag import dataset, metrics
from mlperf_power_dag.definitions import DOWNSTREAM_JOB, make_definitions
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.figures.fig5 import Fig5aParams, Fig5bParams, build_fig5a, build_fig5b
from mlperf_power_dag.figures.fig8 import Fig8Params, build_fig8
from mlperf_power_dag.figures.fig9 import Fig9Params, build_fig9
from mlperf_power_dag.figures.fig10 import Fig10Params, build_fig10
from mlperf_power_dag.schemas import InferenceResults

TABLES = {
    "best_efficiency": metrics.best_efficiency_table,
    "accuracy_pairs": metrics.accuracy_pairs_table,
    "software_gains": metrics.software_gains_table,
}
# (build function, keyword of its metric table, parameter variants)
CASES = [
    (build_fig5a, "best_efficiency", [None, Fig5aParams(later_since="v1.0")]),
    (build_fig5b, "best_efficiency", [None, Fig5bParams(benchmarks=("resnet50", "ssd"))]),
    (build_fig8, "accuracy_pairs", [None, Fig8Params(measure="increase", category="edge")]),
    (build_fig9, "accuracy_pairs", [None]),
    (build_fig10, "software_gains", [None, Fig10Params(benchmarks=("bert-99",))]),
]


def stored(data: pd.DataFrame, tmp_path) -> dict[str, pd.DataFrame]:
    """The metric tables of `data` written to and read back from a dataset."""
    base = UPath(tmp_path / "dataset")
    out = {}
    for kw, table in TABLES.items():
        dataset.write_single(base, kw, table(data).frame)
        out[kw] = dataset.read_single(base, kw)
    return out


def assert_same(a, b) -> None:
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert (a.notes, a.meta) == (b.notes, b.meta)


def gains_and_exclusions() -> pd.DataFrame:
    """Two hardware configurations over rounds, a second result of one, unusable values."""
    rows = [
        row("v1.0", "bert-99", sps=100, power=10, system="a"),
        row("v1.1", "bert-99", sps=150, power=10, system="a2"),
        row("v1.1", "bert-99", sps=120, power=10, system="a3"),  # same hardware, less efficient
        row("v2.0", "bert-99", sps=180, power=10, system="a4"),
        row("v1.0", "bert-99.9", sps=50, power=10, system="a"),
        row("v1.1", "bert-99.9", sps=1, power=10, system="a2", spj=float("inf")),  # excluded
        row("v1.0", "resnet50", sps=10, power=1, system="b", accelerator="Y"),
        row("v1.1", "resnet50", sps=12, power=1, system="b2", accelerator="Y"),
        row("v1.1", "resnet50", sps=float("nan"), power=1, system="c"),  # excluded
        row("v1.0", "resnet50", sps=30, power=1, system="e", category="edge"),
        row("v1.1", "resnet50", sps=40, power=1, system="e", category="edge"),
    ]
    return frame(rows)


@pytest.mark.parametrize(("build", "kw", "variants"), CASES)
def test_figures_from_metric_tables_equal_figures_from_results(
    results,  # noqa: F811
    tmp_path,
    build,
    kw,
    variants,
):
    for data in (results, gains_and_exclusions()):
        tables = stored(data, tmp_path)
        for params in variants:
            if build is build_fig9:  # every round's systems with a bert-99 result
                bert = data[data["benchmark"] == "bert-99"]
                params = Fig9Params(systems=dict(zip(bert["round"], bert["system"], strict=True)))
            assert_same(build(data, params, **{kw: tables[kw]}), build(data, params))


def test_notes_on_exclusions_come_through():
    data = gains_and_exclusions()
    tables = {kw: t(data).frame for kw, t in TABLES.items()}
    fig10 = build_fig10(data, software_gains=tables["software_gains"])
    assert "2 results excluded: efficiency NaN, inf or <= 0" in fig10.notes  # inf, NaN
    assert any(n.startswith("1 results not paired") for n in fig10.notes)
    assert len(fig10.frame) == 3  # a->a2, a2->a4, b->b2
    fig8 = build_fig8(data, accuracy_pairs=tables["accuracy_pairs"])
    assert "1 pairs excluded: efficiency NaN, inf or <= 0" in fig8.notes
    assert len(fig8.frame) == 1


def test_real_cmx_figures_from_metric_tables(cmx_power, tmp_path):  # noqa: F811
    data = InferenceResults.validate(cmx_power)
    tables = stored(data, tmp_path)
    for build, kw, variants in CASES:
        for params in variants:
            assert_same(build(data, params, **{kw: tables[kw]}), build(data, params))
    assert len(tables["software_gains"]) > 10 and len(tables["accuracy_pairs"]) > 5


def test_figure_assets_read_the_metric_tables(results, tmp_path):  # noqa: F811
    home = MlperfHome(path=str(tmp_path))
    defs = make_definitions(resources={"mlperf_home": home, "git": GitSource()})
    graph = defs.resolve_asset_graph()
    for key, metric in (
        ("fig5a", "inference_best_efficiency"),
        ("fig5b", "inference_best_efficiency"),
        ("fig8", "inference_accuracy_pairs"),
        ("fig9", "inference_accuracy_pairs"),
        ("fig10", "inference_software_gains"),
    ):
        assert dg.AssetKey(metric) in graph.get(dg.AssetKey(key)).parent_keys, key
    base = UPath(home.dataset_dir())
    versions = sorted(set(results["round"]))
    for v in versions:
        part = results[results["round"] == v].assign(source_commit=SHA)
        dataset.write_partition(base, "inference_results", v, part, InferenceResults)
    keys = ["inference_best_efficiency", "inference_accuracy_pairs", "fig5a", "fig8"]
    job = defs.resolve_job_def(DOWNSTREAM_JOB).get_subset(
        asset_selection={dg.AssetKey(k) for k in keys}, asset_check_selection=set()
    )
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("inference_rounds", versions)
        assert job.execute_in_process(instance=instance).success
    typed = dataset.read_partitions(base, "inference_results", None, InferenceResults)[0]
    for key, build in (("fig5a", build_fig5a), ("fig8", build_fig8)):
        drawn = pd.read_csv(tmp_path / "figures" / f"{key}.csv")
        direct = build(typed).frame
        assert drawn["y"].tolist() == pytest.approx(direct["y"].astype(float).tolist())
        assert drawn["x"].astype(str).tolist() == direct["x"].astype(str).tolist()
        assert len(drawn) > 0
