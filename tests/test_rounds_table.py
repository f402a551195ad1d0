"""The known rounds reach metrics and figures as a table: a discovered round's date places it
on the axis and its place in the order decides which rounds are consecutive, without the
metrics or figures reading the rounds file."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
from test_metrics import frame, row
from upath import UPath

from mlperf_power_dag import dataset, metrics
from mlperf_power_dag.definitions import DOWNSTREAM_JOB, make_definitions
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.figures.fig5 import build_fig5a
from mlperf_power_dag.rounds import catalog, registry
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.rounds.table import COLUMNS, catalog_table, rounds_table
from mlperf_power_dag.schemas import InferenceResults

V50 = Round("inference", "v5.0", dt.date(2025, 4, 2))
V51 = Round("inference", "v5.1", dt.date(2025, 9, 9))


def results() -> pd.DataFrame:
    return frame(
        [
            row("v4.1", "bert-99", sps=100, power=10, system="a"),
            row("v5.1", "bert-99", sps=300, power=10, system="a2"),  # v5.0: not built
        ]
    )


def test_catalog_table_is_the_catalog():
    table = catalog_table()
    assert list(table.columns) == COLUMNS
    for suite in catalog.SUITES:
        mine = table[table["suite"] == suite]
        assert mine["version"].tolist() == [r.version for r in catalog.rounds(suite)]
        assert mine["date"].tolist() == [r.date for r in catalog.rounds(suite)]


def test_dates_and_order_come_from_the_table():
    known = rounds_table([*catalog.rounds("inference"), V50, V51])
    dates = metrics.round_dates("inference", known)
    assert dates["v5.0"] == pd.Timestamp("2025-04-02") and dates["v5.1"] == pd.Timestamp(
        "2025-09-09"
    )
    # without the table, a round only in the data is placed half a year after the last one
    alone = metrics.round_dates("inference", present=["v5.1"])
    assert alone["v5.1"] == pd.Timestamp(catalog.get_round("inference", "v4.1").date) + (
        metrics.UNDATED_GAP
    )
    assert metrics.round_order("inference", known)[-3:] == ["v4.1", "v5.0", "v5.1"]


def test_consecutive_means_next_in_the_known_rounds():
    data = results()
    gap = metrics.consecutive_pairs(data, rounds=rounds_table([*catalog.rounds("inference"), V50]))
    assert gap.frame.empty  # v4.1 and v5.1 are not consecutive: v5.0 lies between
    pairs = metrics.consecutive_pairs(data).frame
    assert pairs[["round_before", "round_after", "pct_change"]].values.tolist() == [
        ["v4.1", "v5.1", 200.0]
    ]


def test_figure_asset_dates_a_discovered_round(tmp_path):
    home = MlperfHome(path=str(tmp_path))
    registry.record([V51], tmp_path)
    defs = make_definitions(resources={"mlperf_home": home, "git": GitSource()})
    base = UPath(home.dataset_dir())
    data = results()
    for v in ("v4.1", "v5.1"):
        dataset.write_partition(
            base, "inference_results", v, data[data["round"] == v], InferenceResults
        )
    job = defs.resolve_job_def(DOWNSTREAM_JOB).get_subset(
        asset_selection={dg.AssetKey("fig5a")}, asset_check_selection=set()
    )
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("inference_rounds", ["v4.1", "v5.1"])
        assert job.execute_in_process(instance=instance).success
    drawn = pd.read_csv(tmp_path / "figures" / "fig5a.csv")
    bert = drawn[drawn["benchmark"] == "bert-99"]
    assert dict(zip(bert["x"], bert["x_date"], strict=True)) == {
        "v4.1": "2024-08-28",
        "v5.1": "2025-09-09",
    }
    # the same figure from the catalog alone would place v5.1 half a year after v4.1
    assert build_fig5a(data).frame.set_index("x").loc["v5.1", "x_date"] == "2025-02-26"
