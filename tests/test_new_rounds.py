"""A newly published round rebuilds itself and touches nothing else (sensor + automation)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from mlperf_power_dag import suites
from mlperf_power_dag.definitions import make_definitions
from mlperf_power_dag.rounds import catalog, discovery, registry

KNOWN = [r.version for r in catalog.rounds("tiny")]  # the catalog's tiny rounds, v0.5 ... v1.3
SPECS = (suites.get("tiny"),)  # the pipeline over the tiny suite alone
ROUND_ASSETS = {"tiny_raw", "tiny_results", "tiny_problems"}  # what automation never rebuilds


@pytest.fixture
def world(github: Path, monkeypatch) -> Path:
    """A GitHub-like remote holding the catalog's rounds as published, and an empty home."""
    monkeypatch.setenv("MLPERF_POWER_HOME", str(github.parent / "home"))
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", "file://" + str(github))
    return github / "mlcommons"


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[dg.RunRequest]:
    """One sensor evaluation, applied as the daemon would: add partitions, return requests."""
    sensor = defs.resolve_sensor_def("new_rounds_sensor")
    result = sensor(dg.build_sensor_context(instance=instance, definitions=defs))
    if isinstance(result, dg.SkipReason):
        return []
    for req in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(req.partitions_def_name, list(req.partition_keys))
    return list(result.run_requests)


def _run(defs, instance, requests) -> dict[str, bool]:
    out = {}
    for req in requests:
        job = defs.resolve_job_def(req.job_name)
        res = job.execute_in_process(
            partition_key=req.partition_key,
            instance=instance,
            tags=req.tags,
            raise_on_error=False,
        )
        out[req.partition_key] = res.success
    return out


def _automate(defs, instance, cursor=None):
    """Evaluate the automation conditions and run the requested downstream assets."""
    r = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=cursor)
    keys = {k for k in defs.resolve_all_asset_keys() if r.get_num_requested(k)}
    if keys:
        job = defs.resolve_job_def("downstream").get_subset(asset_selection=keys)
        assert job.execute_in_process(instance=instance).success
        # the next tick sees those runs' materializations as handled: nothing more to do
        r = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=r.cursor)
        assert r.total_requested == 0
    return r.cursor, {k.to_user_string() for k in keys}


def _latest_runs(instance, key: str) -> dict[str, str]:
    out = {}
    for v in instance.get_dynamic_partitions("tiny_rounds"):
        recs = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[v]), limit=1
        ).records
        if recs:
            out[v] = recs[0].run_id
    return out


def _git(*args):
    subprocess.run(["git", *args], check=True, capture_output=True)


def test_new_round_is_found_built_and_drawn_alone(world: Path, publish):
    defs = make_definitions(specs=SPECS)
    with dg.instance_for_test() as instance:
        # first start: automation begins watching; the sensor registers the catalog rounds
        cursor, initial = _automate(defs, instance)
        first = _tick(defs, instance)
        assert sorted(r.partition_key for r in first) == KNOWN
        assert all(_run(defs, instance, first).values())
        cursor, built = _automate(defs, instance, cursor)
        assert "fig5c" in built and not built & ROUND_ASSETS
        before = {k: _latest_runs(instance, k) for k in ("tiny_raw", "tiny_results")}
        assert sorted(before["tiny_results"]) == KNOWN
        assert _tick(defs, instance) == []  # nothing new: nothing requested

        # MLCommons publishes the round after the catalog's newest (v1.4), unknown to the code
        new_version = publish("tiny")
        assert new_version not in KNOWN and new_version not in _fig5c_rounds(instance)
        new = _tick(defs, instance)
        assert [(r.job_name, r.partition_key) for r in new] == [("tiny_round", new_version)]
        assert instance.has_dynamic_partition("tiny_rounds", new_version)
        recorded = [(r.version, r.slug, r.ref, r.source) for r in registry.discovered("tiny")]
        assert recorded == [(new_version, f"mlcommons/tiny_results_{new_version}", "main", "tree")]
        assert _run(defs, instance, new) == {new_version: True}
        cursor, rebuilt = _automate(defs, instance, cursor)
        assert "fig5c" in rebuilt and not rebuilt & ROUND_ASSETS
        assert new_version in _fig5c_rounds(instance)
        after = {k: _latest_runs(instance, k) for k in ("tiny_raw", "tiny_results")}
        for key in after:
            assert {v: after[key][v] for v in KNOWN} == before[key]  # untouched
        assert after["tiny_results"][new_version] not in before["tiny_results"].values()

        # an empty repository appears after it: its partition fails, nothing else moves
        empty = _next_minor(new_version)
        _git("init", "-q", "--bare", str(world / f"tiny_results_{empty}.git"))
        bad = _tick(defs, instance)
        assert [r.partition_key for r in bad] == [empty]
        assert _run(defs, instance, bad) == {empty: False}
        cursor, rebuilt = _automate(defs, instance, cursor)
        assert rebuilt == set()
        assert {k: _latest_runs(instance, k) for k in after} == after


def test_malformed_round_fails_its_partition_with_a_clear_error(world: Path, tmp_path):
    # a repository with the next round's name but no results in any known layout
    version = _next_minor(KNOWN[-1])
    work = tmp_path / "work"
    _git("init", "-q", "-b", "master", str(work))  # a default branch other than main
    (work / "README.md").write_text("results moved elsewhere\n")
    _git("-C", str(work), "add", "README.md")
    _git("-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    _git("clone", "-q", "--bare", str(work), str(world / f"tiny_results_{version}.git"))
    found = discovery.discover("tiny", KNOWN, "file://" + str(world.parent))
    assert [(r.version, r.ref, r.source) for r in found] == [(version, "master", "tree")]
    registry.record(found)
    defs = make_definitions(specs=SPECS)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("tiny_rounds", ["v1.1", version])
        job = defs.resolve_job_def("tiny_round")
        bad = job.execute_in_process(partition_key=version, instance=instance, raise_on_error=False)
        assert not bad.success
        err = next(e for e in bad.all_events if e.is_step_failure).step_failure_data.error
        assert f"no results found in mlcommons/tiny_results_{version}@" in err.to_string()
        assert job.execute_in_process(partition_key="v1.1", instance=instance).success


def _next_minor(version: str) -> str:
    """`v1.3` -> `v1.4`."""
    major, minor = catalog.version_tuple(version)[:2]
    return f"v{major}.{minor + 1}"


def _fig5c_rounds(instance) -> set[str]:
    event = instance.get_latest_materialization_event(dg.AssetKey("fig5c"))
    csv = event.asset_materialization.metadata["csv"].value
    return set(pd.read_csv(csv)["x"].astype(str))  # x: the round each point is plotted at
