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


def input_limits() -> str:
    """Overrides of the caps on input files (`mlperf_power_dag.limits`):
    `MLPERF_POWER_LIMITS`, e.g. `spl=512M,loadgen_detail.line=16M`; empty for the defaults."""
    return os.environ.get("MLPERF_POWER_LIMITS", "").strip()
