"""Runtime settings read from the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_GIT_BASE = "https://github.com"


def git_base() -> str:
    """Base URL under which `<owner>/<repo>.git` repositories are fetched."""
    return os.environ.get("MLPERF_POWER_GIT_BASE", DEFAULT_GIT_BASE).rstrip("/")


def home() -> Path:
    """Root of the runtime data: checkouts, warehouse, figures, Dagster instance."""
    return Path(os.environ.get("MLPERF_POWER_HOME", "data")).absolute()


def cache_dir() -> Path:
    return home() / "cache"


def warehouse_path() -> Path:
    return home() / "warehouse.duckdb"


def figures_dir() -> Path:
    return home() / "figures"


def dagster_home() -> Path:
    return home() / "dagster"
