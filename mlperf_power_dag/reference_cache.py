"""Published reference tables (CMX, summary_results.json) read once per commit.

The cross-check compares every tree round with MLCommons' published tables. Reading those
(hundreds of CMX JSON files) costs seconds on every run although they change only when their
repository does: the table read for one (round, source, commit) by one version of the reader
code is kept as Parquet under the cache folder and reused.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from mlperf_power_dag import settings, suites, versions
from mlperf_power_dag.rounds import load
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.schemas import conform

Log = Callable[[str], None]


def cache_path(rnd: Round, commit: str, cache: Path | None = None) -> Path:
    """Where the table of `rnd` read at `commit` by the current reader code is kept."""
    name = f"{rnd.suite}-{rnd.version}-{rnd.source}-{commit[:16]}-{versions.tidy_code_version()}"
    return (cache or settings.cache_dir()) / "tables" / f"{name}.parquet"


def reference_results(
    rnd: Round,
    log: Log | None = None,
    cache: Path | None = None,
    git_base: str | None = None,
    timeout_s: int | None = None,
) -> pd.DataFrame:
    """The validated results of a published reference table, fetched (or confirmed) and read,
    or taken from the cache when this commit was read by this code before."""
    extra = {} if timeout_s is None else {"timeout_s": timeout_s}
    fetched = load.fetch_round(rnd, log=log, cache=cache, git_base=git_base, **extra)
    path = cache_path(rnd, fetched.commit, cache)
    model = suites.get(rnd.suite).results
    if path.exists():
        try:
            return conform(model, pd.read_parquet(path))
        except Exception as e:  # a damaged cache file: read the source again
            (log or (lambda _m: None))(f"{path.name}: unreadable cache ({e}); reading again")
    results = load.read_round(rnd, log=log, cache=cache).results
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    results.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return results
