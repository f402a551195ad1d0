"""Published reference tables are read once per commit and reader code, then reused."""

from __future__ import annotations

import pandas as pd

from mlperf_power_dag import reference_cache
from mlperf_power_dag.rounds import load
from mlperf_power_dag.rounds.catalog import SUMMARY_REFERENCES


def test_reference_table_is_cached_by_commit_and_a_damaged_cache_is_read_again(
    tmp_path, monkeypatch, mirror_url
):
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path))
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", mirror_url)
    ref = SUMMARY_REFERENCES["v4.1"]
    first = reference_cache.reference_results(ref)
    commit = load.cached_checkout(ref)[1]
    path = reference_cache.cache_path(ref, commit)
    assert path.exists() and len(first) > 900
    pd.testing.assert_frame_equal(reference_cache.reference_results(ref), first)
    path.write_bytes(b"not parquet")
    seen: list[str] = []
    pd.testing.assert_frame_equal(reference_cache.reference_results(ref, log=seen.append), first)
    assert any("unreadable cache" in m for m in seen)
    pd.testing.assert_frame_equal(load.read_round(ref).results, first)
