"""The raw round asset: sparse fetch metadata, cache reuse, and a failing remote."""

import dagster as dg
import pytest

from mlperf_power_dag.definitions import make_definitions


@pytest.fixture
def home(tmp_path, monkeypatch, mirror_url):
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", mirror_url)
    return tmp_path / "home"


def _raw_metadata(instance, key, partition):
    rec = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[partition]), limit=1
    ).records[0]
    return {k: v.value for k, v in rec.asset_materialization.metadata.items()}


def test_raw_partition_records_commit_and_reuses_cache(home, mirror_root):
    defs = make_definitions()
    job = defs.resolve_job_def("tiny_round")
    head = mirror_root / "mlcommons" / "tiny_results_v1.2.git" / "refs" / "heads" / "main"
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("tiny_rounds", ["v1.2"])
        raw_only = job.get_subset(asset_selection={dg.AssetKey("tiny_raw")})
        assert raw_only.execute_in_process(partition_key="v1.2", instance=instance).success
        first = _raw_metadata(instance, "tiny_raw", "v1.2")
        assert first["commit"] == head.read_text().strip()
        assert first["files"] > 0 and first["bytes"] > 0 and first["reused_cache"] is False
        assert first["url"].endswith("/mlcommons/tiny_results_v1.2.git")
        assert raw_only.execute_in_process(partition_key="v1.2", instance=instance).success
        second = _raw_metadata(instance, "tiny_raw", "v1.2")
        assert second["reused_cache"] is True and second["commit"] == first["commit"]


def test_unreachable_round_fails_alone_with_url(home):
    defs = make_definitions()
    job = defs.resolve_job_def("training_round").get_subset(
        asset_selection={dg.AssetKey("training_raw")}
    )
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("training_rounds", ["v9.9", "v4.1"])
        bad = job.execute_in_process(partition_key="v9.9", instance=instance, raise_on_error=False)
        assert not bad.success
        failure = next(e for e in bad.all_events if e.is_step_failure)
        assert "training_results_v9.9.git" in failure.step_failure_data.error.to_string()
        good = job.execute_in_process(partition_key="v4.1", instance=instance)
        assert good.success
