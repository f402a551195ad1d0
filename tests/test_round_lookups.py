"""Metrics and figure builders take the known rounds as data and look them up a fixed number
of times per call.

They never read the discovered-rounds file (`registry.all_rounds`): the round order comes from
the versions themselves and the dates from a rounds table (default: the catalog, built by
`catalog_table`). A lookup per row (or per element) would make the downstream stage minutes
slower on the real tables; these tests count the lookups, without timing anything.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable
from itertools import product

import pandas as pd
import pytest

from mlperf_power_dag import metrics
from mlperf_power_dag.figures import fig1, fig5, fig9
from mlperf_power_dag.rounds import registry
from mlperf_power_dag.rounds.table import catalog_table
from mlperf_power_dag.schemas import InferenceResults, columns

SHA = "0" * 40
ROUNDS = ("v1.0", "v1.1", "v2.0", "v2.1", "v3.0", "v3.1", "v4.0", "v4.1")
BENCHMARKS = ("resnet50", "bert-99", "bert-99.9", "3d-unet-99", "3d-unet-99.9")
CATEGORIES = ("datacenter", "edge")
SCENARIOS = ("Offline", "Server")
MAX_READS = 10  # catalog reads of one call, whatever the size of the table


def results(systems: int) -> pd.DataFrame:
    """A valid InferenceResults table: every round, benchmark, category and scenario for each
    of `systems` systems (80 rows per system)."""
    rows = []
    combos = product(range(systems), ROUNDS, BENCHMARKS, CATEGORIES, SCENARIOS)
    for i, (s, rnd, bench, category, scenario) in enumerate(combos):
        sps, power = 100.0 + i % 97, 10.0 + i % 13
        system = f"sys{s}"
        rows.append(
            {
                "round": rnd,
                "category": category,
                "division": "closed",
                "submitter": f"Org{s % 7}",
                "system": system,
                "system_name": system,
                "accelerator": f"X{s % 3}",
                "accelerators": 1 + s % 4,
                "nodes": 1,
                "host_processor": "CPU",
                "availability": "available",
                "benchmark": bench,
                "benchmark_known": True,
                "scenario": scenario,
                "valid": i % 11 != 0,
                "performance": sps,
                "performance_unit": "samples/s",
                "samples_per_second": sps,
                "tokens_per_sample": None,
                "power_w": power,
                "energy_per_query_j": None,
                "samples_per_joule": sps / power,
                "source": "tree",
                "source_repo": f"mlcommons/inference_results_{rnd}",
                "source_path": f"closed/Org{s % 7}/results/{system}/{bench}/{scenario}",
                "source_commit": SHA,
            }
        )
    return InferenceResults.validate(pd.DataFrame(rows, columns=columns(InferenceResults)))


SMALL, LARGE = results(1), results(40)  # 80 and 3,200 rows

CALLS: dict[str, Callable[[pd.DataFrame], object]] = {
    "split_revisions": metrics.split_revisions,
    "select": lambda df: metrics.select(df, benchmarks=["3d-unet-99-brats19", "resnet50"]),
    "sort_rounds": metrics.sort_rounds,
    "best_per_round": metrics.best_per_round,
    "running_max": lambda df: metrics.running_max(metrics.best_per_round(df).frame),
    "same_system_pairs": metrics.same_system_pairs,
    "consecutive_pairs": metrics.consecutive_pairs,
    "check_systems": lambda df: metrics.check_systems(df, {v: "sys0" for v in ROUNDS}),
    "system_series": lambda df: metrics.system_series(
        df, {v: "sys0" for v in ROUNDS}, benchmark="resnet50"
    ),
    "build_fig1": fig1.build_fig1,
    "build_fig5a": fig5.build_fig5a,
    "build_fig9": lambda df: fig9.build_fig9(df, fig9.Fig9Params(systems={"v4.0": "sys0"})),
}


def catalog_reads(call: Callable[[pd.DataFrame], object], table: pd.DataFrame) -> int:
    """How many times `call(table)` built the catalog's rounds table; asserts that it never
    asked the registry (the rounds file) for the rounds. The calls are counted by a profile
    function of this thread (by code object, however the function was reached)."""
    watched = {registry.all_rounds.__code__: "all_rounds", catalog_table.__code__: "catalog"}
    calls: Counter[str] = Counter()

    def count(frame, event, _arg) -> None:
        if event == "call" and frame.f_code in watched:
            calls[watched[frame.f_code]] += 1

    previous = sys.getprofile()
    sys.setprofile(count)
    try:
        call(table)
    finally:
        sys.setprofile(previous)
    assert calls["all_rounds"] == 0
    return calls["catalog"]


@pytest.fixture(autouse=True)
def _empty_home(tmp_path, monkeypatch):
    """A home without discovered rounds: the catalog alone."""
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path))


@pytest.mark.parametrize("name", list(CALLS))
def test_catalog_reads_do_not_grow_with_rows(name: str) -> None:
    small = catalog_reads(CALLS[name], SMALL)
    large = catalog_reads(CALLS[name], LARGE)
    assert large <= MAX_READS
    assert large == small, f"{name}: {small} reads for {len(SMALL)} rows, {large} for {len(LARGE)}"


def test_split_revisions_renames_early_rounds_only() -> None:
    out = metrics.split_revisions(LARGE)
    early = LARGE["round"].isin(["v1.0", "v1.1"])
    for bench, (_, old_id) in metrics.REVISIONS.items():
        hit = LARGE["benchmark"] == bench
        assert (out.loc[hit & early, "benchmark"] == old_id).all()
        assert (out.loc[hit & ~early, "benchmark"] == bench).all()
    assert out.loc[~LARGE["benchmark"].isin(list(metrics.REVISIONS)), "benchmark"].equals(
        LARGE.loc[~LARGE["benchmark"].isin(list(metrics.REVISIONS)), "benchmark"]
    )


def test_round_rank_map_agrees_with_round_rank() -> None:
    versions = [*ROUNDS, "v0.5", "v9.1", "v4.1", "v1.0"]
    rank = metrics.round_rank_map(versions)
    assert list(rank) == list(dict.fromkeys(versions))
    assert [rank[v] for v in versions] == metrics.round_rank(versions)
    assert metrics.round_rank(iter(versions)) == metrics.round_rank(versions)
