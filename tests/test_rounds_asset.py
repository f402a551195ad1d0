"""The `rounds` asset: the known rounds as a table of the dataset, upstream of the metrics, the
figures that date or order rounds and the report; a discovered round changes it, and the
downstream stage then rebuilds what reads it and nothing else."""

from __future__ import annotations

import datetime as dt
import inspect

import dagster as dg
import duckdb
import pandas as pd
import pyarrow.parquet as pq
from test_rounds_table import V51, results
from upath import UPath

from mlperf_power_dag import cli, dataset
from mlperf_power_dag.asset_inputs import (
    FIGURE_ROUNDS,
    METRIC_KEYS,
    REPORT_KEY,
    ROUNDS_KEY,
    ROUNDS_TABLES,
    downstream_inputs,
    downstream_tables,
    rounds_readers,
    with_inputs,
)
from mlperf_power_dag.definitions import DOWNSTREAM_JOB, make_definitions
from mlperf_power_dag.defs.figures import FIGURES
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.rounds import catalog, registry
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.rounds.table import COLUMNS, known_rounds
from mlperf_power_dag.schemas import InferenceResults
from mlperf_power_dag.table_checks import keys_and_sources

SHA = "0123456789abcdef0123456789abcdef01234567"
SHA2 = "89abcdef0123456789abcdef0123456789abcdef"


def test_known_rounds_are_the_catalog_then_discovery_with_built_commits():
    found = [
        Round("training", "v5.0", dt.date(2025, 6, 4), source=catalog.SUMMARY),
        Round("training", "v4.1", dt.date(2030, 1, 1), source=catalog.SUMMARY),  # catalog wins
    ]
    commits = {("training", "v4.1"): SHA, ("training", "v3.1"): SHA2}  # v3.1: built, not known
    table = known_rounds(catalog.rounds("training"), found, commits)
    assert list(table.columns) == COLUMNS
    assert table.values.tolist() == [
        ["training", "v4.0", "tree", dt.date(2024, 6, 12), None],
        ["training", "v4.1", "tree", dt.date(2024, 11, 13), SHA],
        ["training", "v5.0", "summary", dt.date(2025, 6, 4), None],
    ]


def test_rounds_is_upstream_of_the_metrics_the_dating_figures_and_the_report():
    defs = make_definitions()
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey(ROUNDS_KEY))
    assert {k.to_user_string() for k in node.parent_keys} == set(ROUNDS_TABLES)
    readers = {k.to_user_string() for k in node.child_keys}
    assert readers == set(rounds_readers())
    assert set(METRIC_KEYS) | {"fig1", "fig5a", "fig5b", "fig5c", "fig10", REPORT_KEY} == readers
    # the figures wired to it are exactly those whose build takes a rounds table
    takes = {s.key for s in FIGURES if "rounds" in inspect.signature(s.build).parameters}
    assert takes == set(FIGURE_ROUNDS)
    # the cross-round inputs the CLI knows of are the graph's (the report also waits on figures)
    cross = set(downstream_tables())
    for key in cross:
        parents = {p.to_user_string() for p in graph.get(dg.AssetKey(key)).parent_keys} & cross
        if key == REPORT_KEY:
            assert ROUNDS_KEY in parents
        else:
            assert parents == set(downstream_inputs(key)), key
    assert with_inputs(["fig9"]) == [ROUNDS_KEY, "inference_accuracy_pairs", "fig9"]


# what this test builds: the rounds table, what reads it, and fig11a, which does not
BUILT = [ROUNDS_KEY, *METRIC_KEYS, "fig5a", "fig10", "fig11a"]


def _materialize(defs: dg.Definitions, instance: dg.DagsterInstance, keys) -> None:
    job = defs.resolve_job_def(DOWNSTREAM_JOB).get_subset(
        asset_selection={dg.AssetKey(k) for k in keys}, asset_check_selection=set()
    )
    assert job.execute_in_process(instance=instance).success


def test_a_discovered_round_changes_rounds_and_rebuilds_what_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path))  # what the CLI reads
    monkeypatch.delenv("MLPERF_POWER_DATASET", raising=False)
    home = MlperfHome(path=str(tmp_path))
    defs = make_definitions(resources={"mlperf_home": home, "git": GitSource()})
    base = UPath(home.dataset_dir())
    data = results()
    for v, sha in (("v4.1", SHA), ("v5.1", SHA2)):
        rows = data[data["round"] == v]
        info = {"source_commit": sha}
        dataset.write_partition(base, "inference_results", v, rows, InferenceResults, info)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("inference_rounds", ["v4.1", "v5.1"])
        _materialize(defs, instance, BUILT)
        table = dataset.read_single(base, ROUNDS_KEY)
        inference = table[table["suite"] == "inference"].set_index("version")
        assert inference.loc["v4.1", ["source", "date", "commit"]].tolist() == [
            "tree",
            dt.date(2024, 8, 28),
            SHA,
        ]
        assert "v5.1" not in inference.index  # built, but not known yet
        assert inference["commit"].notna().sum() == 1
        assert len(table) == sum(len(catalog.rounds(s)) for s in catalog.SUITES)
        types = {f.name: str(f.type) for f in pq.read_schema(base.path + "/rounds.parquet")}
        assert types == {c: "string" for c in COLUMNS} | {"date": "date32[day]"}
        assert "## rounds" in (tmp_path / "dataset" / "README.md").read_text()  # the dictionary
        with duckdb.connect(str(home.warehouse_path()), read_only=True) as con:
            view = "select version, date from mlperf.rounds where commit is not null"
            assert con.sql(view).fetchall() == [("v4.1", dt.date(2024, 8, 28))]
        todo, skipped = cli._stale_downstream(instance, None, False)
        assert not set(todo) & set(BUILT)  # a warm stage: all of it unchanged
        assert (ROUNDS_KEY, "catalog, rounds.json and built commits unchanged") in skipped

        registry.record([V51], tmp_path)  # discovery finds inference v5.1
        todo, skipped = cli._stale_downstream(instance, None, False)
        assert set(todo) & set(BUILT) == set(BUILT) - {"fig11a"}
        assert ("fig11a", "inputs and code unchanged") in skipped
        assert (ROUNDS_KEY, "catalog, rounds.json and built commits unchanged") not in skipped
        _materialize(defs, instance, set(todo) & set(BUILT))
        table = dataset.read_single(base, ROUNDS_KEY)
        new = table[(table["suite"] == "inference") & (table["version"] == "v5.1")]
        assert new[["source", "date", "commit"]].values.tolist() == [
            ["tree", dt.date(2025, 9, 9), SHA2]
        ]
        drawn = pd.read_csv(tmp_path / "figures" / "fig5a.csv")
        assert set(drawn.loc[drawn["x"] == "v5.1", "x_date"]) == {"2025-09-09"}
        todo, _ = cli._stale_downstream(instance, None, False)
        assert not set(todo) & set(BUILT)

        # `mlperf-power figure fig5a`: the figure and the out-of-date tables it reads
        registry.record([Round("inference", "v5.2", dt.date(2026, 3, 1))], tmp_path)
        todo, _ = cli._stale_downstream(instance, ["fig5a"], False)
        assert set(todo) == {ROUNDS_KEY, "inference_best_efficiency", "fig5a"}


def test_a_built_round_rebuilds_rounds_and_its_readers_in_one_run(tmp_path):
    home = MlperfHome(path=str(tmp_path))
    defs = make_definitions(resources={"mlperf_home": home, "git": GitSource()})
    keys = defs.resolve_all_asset_keys()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("inference_rounds", ["v4.1"])
        r = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        for table in ("inference_results", "inference_problems"):
            instance.report_runless_asset_event(dg.AssetMaterialization(table, partition="v4.1"))
        r = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=r.cursor)
        requested = {k.to_user_string() for k in keys if r.get_num_requested(k)}
        # the rounds table and what reads it; not what has no round built to read (the tiny
        # figure would write nothing, and the report after it in the run would be skipped)
        assert {ROUNDS_KEY, *rounds_readers()} - requested == {"fig5c"}
        assert not {"tiny_crosscheck", "fig6"} & requested
        for key in requested:  # the run of those assets
            instance.report_runless_asset_event(dg.AssetMaterialization(key))
        r = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=r.cursor)
        assert r.total_requested == 0  # the readers of the new rounds table are not asked again


def test_the_rounds_table_has_its_keys_check(tmp_path):
    home = MlperfHome(path=str(tmp_path))
    defs = make_definitions(resources={"mlperf_home": home, "git": GitSource()})
    check = dg.AssetCheckKey(dg.AssetKey(ROUNDS_KEY), "keys_and_provenance")
    job = defs.resolve_job_def(DOWNSTREAM_JOB).get_subset(
        asset_selection={dg.AssetKey(ROUNDS_KEY)}, asset_check_selection={check}
    )
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    [evaluation] = result.get_asset_check_evaluations()
    assert evaluation.asset_check_key == check and evaluation.passed
    rows = sum(len(catalog.rounds(s)) for s in catalog.SUITES)
    assert evaluation.metadata["rows"].value == rows
    assert evaluation.metadata["duplicated_rows"].value == 0
    # what it catches: a round twice, a round without its source kind
    table = dataset.read_single(UPath(home.dataset_dir()), ROUNDS_KEY)
    bad = pd.concat([table, table.iloc[:1]], ignore_index=True)
    bad.loc[1, "source"] = None
    outcome = keys_and_sources(bad, ("suite", "version"), ("source",))
    assert not outcome.passed
    assert (outcome.metadata["duplicated_rows"], outcome.metadata["missing_source"]) == (1, 1)
