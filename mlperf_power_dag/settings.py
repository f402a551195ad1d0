"""Runtime settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_GIT_BASE = "https://github.com"
DEFAULT_LINK_BASE = "https://github.com"


def git_base() -> str:
    """Base URL under which `<owner>/<repo>.git` repositories are fetched."""
    return os.environ.get("MLPERF_POWER_GIT_BASE", DEFAULT_GIT_BASE).rstrip("/")


def link_base() -> str:
    """Base URL of the links to result folders in figures and the report (not the fetch base,
    which may be a local mirror): `MLPERF_POWER_LINK_BASE`, default https://github.com."""
    return os.environ.get("MLPERF_POWER_LINK_BASE", DEFAULT_LINK_BASE).rstrip("/")


def home() -> Path:
    """Root of the runtime data: checkouts, warehouse, figures, Dagster instance."""
    return Path(os.environ.get("MLPERF_POWER_HOME", "data")).absolute()


def cache_dir() -> Path:
    return home() / "cache"


def warehouse_path() -> Path:
    return home() / "warehouse.duckdb"


def figures_dir() -> Path:
    return home() / "figures"


def report_dir() -> Path:
    return home() / "report"


def dagster_home() -> Path:
    return home() / "dagster"


def dataset_dir() -> str:
    """Base path of the Parquet dataset: `MLPERF_POWER_DATASET` (a folder or an fsspec URL such
    as s3://bucket/mlperf), default `$MLPERF_POWER_HOME/dataset`."""
    return os.environ.get("MLPERF_POWER_DATASET") or str(home() / "dataset")


def local_dataset_dir() -> Path | None:
    """The dataset folder when it is on this machine (None for object storage)."""
    base = dataset_dir()
    if "://" in base and not base.startswith("file://"):
        return None
    return Path(base.removeprefix("file://")).absolute()


# Running as a service (deploy/): alerts, freshness, executor.

DEFAULT_WEBSERVER_URL = "http://localhost:3000"


def alert_log_path() -> Path:
    """File the run-failure alerts are appended to, one JSON object a line:
    `MLPERF_POWER_ALERT_LOG`, default `$MLPERF_POWER_HOME/alerts.log`."""
    return Path(os.environ.get("MLPERF_POWER_ALERT_LOG") or home() / "alerts.log").absolute()


def alert_webhook_url() -> str | None:
    """URL each alert is also POSTed to as JSON (`MLPERF_POWER_ALERT_WEBHOOK`), or None."""
    return os.environ.get("MLPERF_POWER_ALERT_WEBHOOK") or None


def webserver_url() -> str:
    """Base URL of the Dagster UI for run links in alerts (`MLPERF_POWER_WEBSERVER_URL`)."""
    return os.environ.get("MLPERF_POWER_WEBSERVER_URL", DEFAULT_WEBSERVER_URL).rstrip("/")


def discovery_state_path() -> Path:
    """File recording when discovery last probed every suite without an error."""
    return home() / "discovery.json"


EXECUTORS = ("multiprocess", "in_process", "k8s")


def executor_kind() -> str:
    """Where a run's steps execute, from `MLPERF_POWER_EXECUTOR`: `multiprocess` (default, one
    process per step), `in_process` (every step in the run's own process: no per-step start-up)
    or `k8s` (one Kubernetes job per step, needs dagster-k8s)."""
    kind = os.environ.get("MLPERF_POWER_EXECUTOR", "multiprocess").strip().lower()
    if kind not in EXECUTORS:
        raise ValueError(f"MLPERF_POWER_EXECUTOR={kind!r}: expected one of {', '.join(EXECUTORS)}")
    return kind


def fetch_retries() -> int:
    """Retries of a round fetch that failed on the network (DNS, connection, timeout, HTTP 5xx)
    within the same run: `MLPERF_POWER_FETCH_RETRIES`, default 0 (deploy/ sets 3)."""
    return int(os.environ.get("MLPERF_POWER_FETCH_RETRIES", "0"))


def automation_interval_s() -> int:
    """Seconds between evaluations of the downstream automation conditions
    (`MLPERF_POWER_AUTOMATION_INTERVAL`, default 30)."""
    return int(os.environ.get("MLPERF_POWER_AUTOMATION_INTERVAL", "30"))
