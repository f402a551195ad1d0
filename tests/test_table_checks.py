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


def test_metric_table_keys_and_sources():
    frame = pd.DataFrame(
        {
            "round": ["v1.0", "v1.1", "v1.1"],
            "system": ["a", "a", "a"],
            "source_path": ["p", "q", ""],
        }
    )
    c = table_checks.keys_and_sources(frame, ["round", "system"], ["source_path"])
    assert not c.passed
    assert c.metadata["duplicated_rows"] == 1 and c.metadata["missing_source_path"] == 1
    ok = table_checks.keys_and_sources(frame.iloc[:2], ["round", "system"], ["source_path"])
    assert ok.passed
    assert table_checks.keys_and_sources(pd.DataFrame(), ["round"], ["source_path"]).passed
    absent = table_checks.keys_and_sources(frame, ["round", "benchmark"], ["source_path"])
    assert not absent.passed and absent.metadata["missing"] == ["benchmark"]


def test_problems_name_their_round():
    rows = {"suite": ["tiny", "tiny"], "round": ["v1.0", "v1.1"], "source_path": ["a", ""]}
    c = table_checks.problems_of_round(pd.DataFrame(rows), "tiny", "v1.0")
    assert not c.passed
    assert c.metadata == {"rows": 2, "other_round_or_suite": 1, "without_path": 1}


def test_every_table_has_checks():
    from mlperf_power_dag.definitions import make_definitions
    from mlperf_power_dag.defs.resources import GitSource, MlperfHome

    defs = make_definitions(resources={"mlperf_home": MlperfHome(), "git": GitSource()})
    checked = {k.asset_key.to_user_string() for k in defs.resolve_asset_graph().asset_check_keys}
    tables = {
        k.to_user_string()
        for k in defs.resolve_all_asset_keys()
        if k.to_user_string().endswith(("_results", "_problems", "_crosscheck"))
        or k.to_user_string().startswith("inference_")
    } - {"inference_raw"}  # a checkout, not a table
    assert tables <= checked, sorted(tables - checked)
