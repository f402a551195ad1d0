"""Past one machine: the Kubernetes instance config and executor load (no cluster is used)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config
from dagster._serdes import ConfigurableClassData

from mlperf_power_dag.definitions import make_definitions
from mlperf_power_dag.defs.resources import resolved

REPO = Path(__file__).resolve().parents[1]
K8S = REPO / "deploy" / "k8s"
ENV = {
    "DAGSTER_PG_HOST": "postgres.example.internal",
    "DAGSTER_PG_PORT": "5432",
    "DAGSTER_PG_USER": "dagster",
    "DAGSTER_PG_PASSWORD": "not-a-secret",
    "DAGSTER_PG_DB": "dagster",
    "DAGSTER_K8S_NAMESPACE": "mlperf-power",
    "MLPERF_POWER_IMAGE": "registry.example.internal/mlperf-power-dag:1",
    "MLPERF_POWER_LOG_BUCKET": "mlperf-power-logs",
}


@pytest.fixture
def k8s_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENV.items():
        monkeypatch.setenv(key, value)


def _section(config: dict, name: str) -> ConfigurableClassData:
    part = config[name]
    return ConfigurableClassData(part["module"], part["class"], yaml.safe_dump(part["config"]))


# A cluster that is never contacted: loading the launcher reads its client settings only.
KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://kubernetes.invalid:6443"}}]
users: [{name: none, user: {token: not-a-token}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
current-context: none
"""


def test_instance_config_loads_with_the_k8s_run_launcher(k8s_env, tmp_path):
    from dagster._config import process_config
    from dagster._core.launcher import RunLauncher
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_k8s import K8sRunLauncher

    config, _ = dagster_instance_config(str(K8S))  # the instance schema
    # In the cluster the launcher loads the pod's service account: no kubeconfig or CA file.
    settings = process_config(K8sRunLauncher.config_type(), config["run_launcher"]["config"])
    assert settings.success, settings.errors
    client = ("load_incluster_config", "kubeconfig_file", "k8s_api_ssl_ca_cert_file")
    assert {k: settings.value.get(k) for k in client} == {
        "load_incluster_config": True,
        "kubeconfig_file": None,
        "k8s_api_ssl_ca_cert_file": None,
    }
    # Here, outside a pod: the same settings with a kubeconfig instead (config, not a patch).
    (tmp_path / "kubeconfig").write_text(KUBECONFIG)
    outside = {"load_incluster_config": False, "kubeconfig_file": str(tmp_path / "kubeconfig")}
    section = config["run_launcher"]
    config["run_launcher"] = {**section, "config": {**section["config"], **outside}}
    launcher = _section(config, "run_launcher").rehydrate(as_type=RunLauncher)
    assert type(launcher).__name__ == "K8sRunLauncher"
    assert (launcher.load_incluster_config, launcher.kubeconfig_file) == tuple(outside.values())
    assert launcher.job_namespace == "mlperf-power"
    assert launcher.job_image == "registry.example.internal/mlperf-power-dag:1"
    assert launcher.instance_config_map == "dagster-instance"
    assert launcher.env_config_maps == ["mlperf-power-env"]
    assert launcher.env_secrets == ["mlperf-power-secrets"]
    assert [m["mountPath"] for m in launcher.volume_mounts] == ["/var/lib/mlperf-power"]
    assert launcher.volumes[0]["persistentVolumeClaim"]["claimName"] == "mlperf-home"

    coordinator = _section(config, "run_coordinator").rehydrate(as_type=QueuedRunCoordinator)
    limits = {(x["key"], x["value"]): x["limit"] for x in coordinator.get_run_queue_config(
    ).tag_concurrency_limits}  # fmt: skip
    assert limits == {
        ("mlperf/stage", "round"): 4,
        ("mlperf/stage", "downstream"): 1,
        ("mlperf/stage", "checks"): 1,
    }
    # the storage is the one the Postgres test runs against; no password in either file
    single = yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())
    raw = yaml.safe_load((K8S / "dagster.yaml").read_text())
    assert raw["storage"] == single["storage"]
    assert raw["storage"]["postgres"]["postgres_db"]["password"] == {"env": "DAGSTER_PG_PASSWORD"}
    assert config["compute_logs"]["class"] == "S3ComputeLogManager"  # needs dagster-aws


def test_the_env_config_map_matches_what_the_instance_reads():
    env = yaml.safe_load((K8S / "mlperf-power-env.yaml").read_text())["data"]
    assert set(ENV) - set(env) == {"DAGSTER_PG_PASSWORD"}  # the one secret: not in the map
    assert env["MLPERF_POWER_DATASET"].startswith("s3://")


def test_definitions_with_the_k8s_executor_and_a_dataset_on_s3(monkeypatch, tmp_path):
    from dagster_k8s import k8s_job_executor

    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path))
    monkeypatch.setenv("MLPERF_POWER_DATASET", "s3://mlperf-power/dataset")
    monkeypatch.setenv("MLPERF_POWER_EXECUTOR", "k8s")
    defs = make_definitions()
    defs.get_repository_def().load_all_definitions()  # what a code server does at start
    for job in ("tiny_round", "inference_round", "downstream", "check_freshness"):
        assert defs.resolve_job_def(job).executor_def is k8s_job_executor, job
    io = defs.resources["io_manager"]  # the dataset of the home, read when a run starts
    assert resolved(io.home).dataset_dir() == "s3://mlperf-power/dataset"

    monkeypatch.setenv("MLPERF_POWER_EXECUTOR", "in_process")
    assert make_definitions().resolve_job_def("tiny_round").executor_def is dg.in_process_executor
    monkeypatch.setenv("MLPERF_POWER_EXECUTOR", "celery")
    with pytest.raises(ValueError, match="MLPERF_POWER_EXECUTOR='celery'"):
        make_definitions()


def test_dagster_definitions_validate_with_the_k8s_settings(tmp_path):
    env = {
        **os.environ,
        "MLPERF_POWER_HOME": str(tmp_path),
        "MLPERF_POWER_DATASET": "s3://mlperf-power/dataset",
        "MLPERF_POWER_EXECUTOR": "k8s",
        "DAGSTER_HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "dagster", "definitions", "validate", "-w", "deploy/workspace.yaml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Validation successful for code location mlperf_power_dag" in proc.stdout + proc.stderr
