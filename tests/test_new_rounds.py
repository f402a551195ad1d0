"""A newly published round rebuilds itself and touches nothing else (sensor + automation)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from mlperf_power_dag.definitions import make_definitions
from mlperf_power_dag.rounds import catalog, discovery, registry

KNOWN = ["v0.5", "v0.7", "v1.0", "v1.1"]
ROUND_ASSETS = {"tiny_raw", "tiny_results", "tiny_problems"}  # what automation never rebuilds


@pytest.fixture
def world(tmp_path, monkeypatch, mirror_root):
    """A mirror with tiny v0.5-v1.1 only, a catalog that knows just those, an empty home."""
    mirror = tmp_path / "mirror" / "mlcommons"
    mirror.mkdir(parents=True)
    for v in KNOWN:
        (mirror / f"tiny_results_{v}.git").symlink_to(
            mirror_root / "mlcommons" / f"tiny_results_{v}.git"
        )
    monkeypatch.setitem(catalog.CATALOG, "tiny", [r for r in catalog.TINY if r.version in KNOWN])
    monkeypatch.setitem(catalog.CATALOG, "inference", [])
    monkeypatch.setitem(catalog.CATALOG, "training", [])
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", "file://" + str(tmp_path / "mirror"))
    return mirror


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


def test_new_round_is_found_built_and_drawn_alone(world: Path, tmp_path, mirror_root):
    defs = make_definitions()
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
        assert "v1.2" not in _fig5c_rounds(instance)
        assert _tick(defs, instance) == []  # nothing new: nothing requested

        # MLCommons publishes tiny v1.2 (found past the v1.1 gap-free window)
        (world / "tiny_results_v1.2.git").symlink_to(
            mirror_root / "mlcommons" / "tiny_results_v1.2.git"
        )
        new = _tick(defs, instance)
        assert [(r.job_name, r.partition_key) for r in new] == [("tiny_round", "v1.2")]
        assert instance.has_dynamic_partition("tiny_rounds", "v1.2")
        assert _run(defs, instance, new) == {"v1.2": True}
        cursor, rebuilt = _automate(defs, instance, cursor)
        assert "fig5c" in rebuilt and not rebuilt & ROUND_ASSETS
        assert "v1.2" in _fig5c_rounds(instance)
        after = {k: _latest_runs(instance, k) for k in ("tiny_raw", "tiny_results")}
        for key in after:
            assert {v: after[key][v] for v in KNOWN} == before[key]  # untouched
        assert after["tiny_results"]["v1.2"] not in before["tiny_results"].values()

        # an empty repository appears: its partition fails, nothing else moves
        _git("init", "-q", "--bare", str(world / "tiny_results_v1.3.git"))
        bad = _tick(defs, instance)
        assert [r.partition_key for r in bad] == ["v1.3"]
        assert _run(defs, instance, bad) == {"v1.3": False}
        cursor, rebuilt = _automate(defs, instance, cursor)
        assert rebuilt == set()
        assert {k: _latest_runs(instance, k) for k in after} == after


def test_malformed_round_fails_its_partition_with_a_clear_error(world: Path, tmp_path):
    # a repository with the right name but no results in any known layout
    work = tmp_path / "work"
    _git("init", "-q", "-b", "master", str(work))  # a default branch other than main
    (work / "README.md").write_text("results moved elsewhere\n")
    _git("-C", str(work), "add", "README.md")
    _git("-C", str(work), "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    _git("clone", "-q", "--bare", str(work), str(world / "tiny_results_v1.2.git"))
    found = discovery.discover("tiny", KNOWN, "file://" + str(tmp_path / "mirror"))
    assert [(r.version, r.ref, r.source) for r in found] == [("v1.2", "master", "tree")]
    registry.record(found)
    defs = make_definitions()
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("tiny_rounds", ["v1.1", "v1.2"])
        job = defs.resolve_job_def("tiny_round")
        bad = job.execute_in_process(partition_key="v1.2", instance=instance, raise_on_error=False)
        assert not bad.success
        err = next(e for e in bad.all_events if e.is_step_failure).step_failure_data.error
        assert "no results found in mlcommons/tiny_results_v1.2@" in err.to_string()
        assert job.execute_in_process(partition_key="v1.1", instance=instance).success


def _fig5c_rounds(instance) -> set[str]:
    event = instance.get_latest_materialization_event(dg.AssetKey("fig5c"))
    csv = event.asset_materialization.metadata["csv"].value
    return set(pd.read_csv(csv)["x"].astype(str))  # x: the round each point is plotted at
