"""The checks every round table passes: exact outcomes on small frames."""

from __future__ import annotations

import pandas as pd

from mlperf_power_dag import table_checks
from mlperf_power_dag.schemas import TinyResults, columns, empty


def _rows(n: int) -> pd.DataFrame:
    df = empty(TinyResults).reindex(range(n))
    df["round"], df["division"], df["submitter"] = "v1.0", "closed", "acme"
    df["system"] = [f"s{i}" for i in range(n)]
    df["benchmark"], df["benchmark_known"] = "ic", True
    df["source_repo"], df["source_commit"] = "mlcommons/tiny_results_v1.0", "a" * 40
    df["source_path"] = [f"closed/acme/results/s{i}/ic" for i in range(n)]
    return df[columns(TinyResults)]


def _problems(skipped: int, flagged: int) -> pd.DataFrame:
    sev = ["skipped"] * skipped + ["flagged"] * flagged
    return pd.DataFrame({"severity": sev, "kind": "x", "message": "m"})


def test_unique_keys_and_provenance():
    df = _rows(3)
    assert table_checks.unique_keys(df, TinyResults).passed
    dup = pd.concat([df, df.iloc[[1]]], ignore_index=True)
    c = table_checks.unique_keys(dup, TinyResults)
    assert not c.passed and c.metadata == {"duplicated_rows": 1}
    assert table_checks.provenance(df).passed
    df.loc[2, "source_commit"] = None
    df.loc[0, "source_path"] = ""
    c = table_checks.provenance(df)
    assert not c.passed
    assert c.metadata == {"missing_source_repo": 0, "missing_source_path": 1,
                          "missing_source_commit": 1}  # fmt: skip


def test_skipped_share():
    assert table_checks.skipped_share(_rows(3), _problems(3, 9)).passed  # 3 of 6: half
    c = table_checks.skipped_share(_rows(3), _problems(4, 0))
    assert not c.passed and c.metadata == {"skipped": 4, "kept": 3, "share": round(4 / 7, 4)}


def test_row_count_needs_a_reason_to_drop():
    info = {"source_commit": "a" * 40, "code_version": "c1"}
    assert table_checks.row_count(10, None, info).passed
    same = {"rows": 12, **info}
    c = table_checks.row_count(10, same, info)
    assert not c.passed and c.metadata == {"rows": 10, "previous_rows": 12}
    assert table_checks.row_count(12, same, info).passed
    moved = {"rows": 12, "source_commit": "b" * 40, "code_version": "c1"}
    c = table_checks.row_count(10, moved, info)
    assert c.passed and c.metadata["reason"] == "source_commit changed"
