"""The code location: the light input map the CLI uses agrees with the assets' real inputs."""

from __future__ import annotations

import dagster as dg

from mlperf_power_dag import suites
from mlperf_power_dag.asset_inputs import downstream_tables
from mlperf_power_dag.definitions import DOWNSTREAM_JOB, make_definitions
from mlperf_power_dag.suites import table_models


def test_downstream_inputs_match_the_asset_graph():
    defs = make_definitions()
    graph = defs.resolve_asset_graph()
    job = defs.resolve_job_def(DOWNSTREAM_JOB)
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    tables = downstream_tables()
    assert keys == set(tables)
    per_round = set(table_models())
    for key, expected in tables.items():
        parents = {p.to_user_string() for p in graph.get(dg.AssetKey(key)).parent_keys}
        assert parents & per_round == set(expected), key


def test_every_per_round_table_is_an_asset_with_its_schema():
    defs = make_definitions()
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert set(table_models()) <= keys


def test_one_suite_alone_has_its_downstream_job():
    # tiny alone: fig5c and the tiny cross-check, no report (so no freshness checks)
    defs = make_definitions(specs=(suites.get("tiny"),))
    job = defs.resolve_job_def(DOWNSTREAM_JOB)
    keys = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert keys == {"rounds", "fig5c", "tiny_crosscheck", "tiny_reference_results"}
