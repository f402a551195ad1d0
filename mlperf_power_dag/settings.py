"""The environment: the one module that reads or sets environment variables.

Everything else receives paths and URLs as arguments or as Dagster resources (`MlperfHome`,
`GitSource`), which the code location configures from these variables with `dg.EnvVar`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# The process environment; no other module of the package touches it.
_ENVIRON = os.environ

DEFAULT_GIT_BASE = "https://github.com"
DEFAULT_LINK_BASE = "https://github.com"
DEFAULT_HOME = "data"
DEFAULT_SENSOR_INTERVAL_S = 3600

HOME_VAR = "MLPERF_POWER_HOME"
GIT_BASE_VAR = "MLPERF_POWER_GIT_BASE"
LINK_BASE_VAR = "MLPERF_POWER_LINK_BASE"
DATASET_VAR = "MLPERF_POWER_DATASET"
VERBOSE_VAR = "MLPERF_POWER_VERBOSE"
SENSOR_INTERVAL_VAR = "MLPERF_POWER_SENSOR_INTERVAL"
AUTOMATION_VAR = "MLPERF_POWER_AUTOMATION"
FETCH_RETRIES_VAR = "MLPERF_POWER_FETCH_RETRIES"
DAGSTER_HOME_VAR = "DAGSTER_HOME"
# The variables the code location is configured from.
CONFIG_VARS = (HOME_VAR, GIT_BASE_VAR, LINK_BASE_VAR, DATASET_VAR, FETCH_RETRIES_VAR)
# What a worker process of `mlperf-power build --jobs N` inherits from its parent.
WORKER_VARS = (HOME_VAR, GIT_BASE_VAR, DATASET_VAR, VERBOSE_VAR, DAGSTER_HOME_VAR)


def env(name: str, default: str | None = None) -> str | None:
    """The value of an environment variable, or `default`."""
    return _ENVIRON.get(name, default)


def set_env(name: str, value: str) -> None:
    """Set an environment variable of this process (and of the processes it starts)."""
    _ENVIRON[name] = value


def update_env(values: Mapping[str, str]) -> None:
    """Set several environment variables at once."""
    _ENVIRON.update(values)


def process_env(**overrides: str) -> dict[str, str]:
    """A copy of this process's environment with `overrides`, for a subprocess."""
    return {**_ENVIRON, **overrides}


def worker_env() -> dict[str, str]:
    """The variables a build worker process needs from its parent."""
    return {k: _ENVIRON[k] for k in WORKER_VARS if k in _ENVIRON}


def resource_value(name: str, default: Any) -> Any:
    """`dg.EnvVar(name)` when the variable is set (read when a run starts; `dg.EnvVar.int` for
    an int default), else `default`."""
    if name not in _ENVIRON:
        return default
    import dagster as dg

    return dg.EnvVar.int(name) if isinstance(default, int) else dg.EnvVar(name)


def snapshot() -> tuple[str | None, ...]:
    """The values of the variables the code location is configured from."""
    return tuple(env(k) for k in CONFIG_VARS)


def verbose() -> bool:
    """Full traces and Dagster's own log (`MLPERF_POWER_VERBOSE`)."""
    return bool(env(VERBOSE_VAR))


def set_verbose(on: bool) -> None:
    """Turn full traces and Dagster's own log on or off for this process."""
    if on:
        _ENVIRON[VERBOSE_VAR] = "1"
    else:
        _ENVIRON.pop(VERBOSE_VAR, None)


def configuration() -> dict[str, str | None]:
    """The settings a command reads (the code location's variables, with the home and the
    dataset resolved, and the Dagster home): what a running `mlperf-power serve` must share
    with a command it takes."""
    return {
        **{k: env(k) for k in CONFIG_VARS},
        HOME_VAR: str(home()),
        DATASET_VAR: str(local_dataset_dir() or dataset_dir()),
        DAGSTER_HOME_VAR: str(dagster_home().absolute()),
    }


def sensor_interval_s() -> int:
    """Seconds between discovery ticks (`MLPERF_POWER_SENSOR_INTERVAL`, default 3600)."""
    return int(env(SENSOR_INTERVAL_VAR, str(DEFAULT_SENSOR_INTERVAL_S)))


def automation_on() -> bool:
    """False when `MLPERF_POWER_AUTOMATION` is off, 0, false or no."""
    return env(AUTOMATION_VAR, "on").lower() not in ("off", "0", "false", "no")


def git_base() -> str:
    """Base URL under which `<owner>/<repo>.git` repositories are fetched."""
    return env(GIT_BASE_VAR, DEFAULT_GIT_BASE).rstrip("/")


def link_base() -> str:
    """Base URL of the links to result folders in figures and the report (not the fetch base,
    which may be a local mirror): `MLPERF_POWER_LINK_BASE`, default https://github.com."""
    return env(LINK_BASE_VAR, DEFAULT_LINK_BASE).rstrip("/")


def home() -> Path:
    """Root of the runtime data: checkouts, warehouse, figures, Dagster instance."""
    return Path(env(HOME_VAR, DEFAULT_HOME)).absolute()


def cache_dir() -> Path:
    return home() / "cache"


def warehouse_path() -> Path:
    return home() / "warehouse.duckdb"


def figures_dir() -> Path:
    return home() / "figures"


def report_dir() -> Path:
    return home() / "report"


def local_dir() -> Path:
    """Tables and figures of local submission trees, kept apart from the published dataset."""
    return home() / "local"


def dagster_home() -> Path:
    """`DAGSTER_HOME`, default `$MLPERF_POWER_HOME/dagster`."""
    return Path(env(DAGSTER_HOME_VAR) or home() / "dagster")


def dataset_dir() -> str:
    """Base path of the Parquet dataset: `MLPERF_POWER_DATASET` (a folder or an fsspec URL such
    as s3://bucket/mlperf), default `$MLPERF_POWER_HOME/dataset`."""
    return env(DATASET_VAR) or str(home() / "dataset")


def local_dataset_dir() -> Path | None:
    """The dataset folder when it is on this machine (None for object storage)."""
    return local_path(dataset_dir())


def local_path(base: str) -> Path | None:
    """A dataset base path as a local folder (None for object storage)."""
    if "://" in base and not base.startswith("file://"):
        return None
    return Path(base.removeprefix("file://")).absolute()


def input_limits() -> str:
    """Overrides of the caps on input files (`mlperf_power_dag.limits`):
    `MLPERF_POWER_LIMITS`, e.g. `spl=512M,loadgen_detail.line=16M`; empty for the defaults."""
    return _ENVIRON.get("MLPERF_POWER_LIMITS", "").strip()


# Running as a service (deploy/): alerts, freshness, executor.

DEFAULT_WEBSERVER_URL = "http://localhost:3000"


def alert_log_path() -> Path:
    """File the run-failure alerts are appended to, one JSON object a line:
    `MLPERF_POWER_ALERT_LOG`, default `$MLPERF_POWER_HOME/alerts.log`."""
    return Path(_ENVIRON.get("MLPERF_POWER_ALERT_LOG") or home() / "alerts.log").absolute()


def alert_webhook_url() -> str | None:
    """URL each alert is also POSTed to as JSON (`MLPERF_POWER_ALERT_WEBHOOK`), or None."""
    return _ENVIRON.get("MLPERF_POWER_ALERT_WEBHOOK") or None


def webserver_url() -> str:
    """Base URL of the Dagster UI for run links in alerts (`MLPERF_POWER_WEBSERVER_URL`)."""
    return _ENVIRON.get("MLPERF_POWER_WEBSERVER_URL", DEFAULT_WEBSERVER_URL).rstrip("/")


def discovery_state_path(root: Path | None = None) -> Path:
    """File recording when discovery last probed every suite without an error (under the home
    `root`, default `$MLPERF_POWER_HOME`)."""
    return (root or home()) / "discovery.json"


EXECUTORS = ("multiprocess", "in_process", "k8s")


def executor_kind() -> str:
    """Where a run's steps execute, from `MLPERF_POWER_EXECUTOR`: `multiprocess` (default, one
    process per step), `in_process` (every step in the run's own process: no per-step start-up)
    or `k8s` (one Kubernetes job per step, needs dagster-k8s)."""
    kind = _ENVIRON.get("MLPERF_POWER_EXECUTOR", "multiprocess").strip().lower()
    if kind not in EXECUTORS:
        raise ValueError(f"MLPERF_POWER_EXECUTOR={kind!r}: expected one of {', '.join(EXECUTORS)}")
    return kind


def automation_interval_s() -> int:
    """Seconds between evaluations of the downstream automation conditions
    (`MLPERF_POWER_AUTOMATION_INTERVAL`, default 30)."""
    return int(_ENVIRON.get("MLPERF_POWER_AUTOMATION_INTERVAL", "30"))
