"""End to end: `mlperf-power build --suite inference` from the offline mirror, as a user runs it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pytest

TREE_ROUNDS = ["v0.5", "v0.7", "v1.0", "v1.1", "v2.0", "v2.1", "v3.0", "v4.1"]
CMX_ROUNDS = ["v3.1", "v4.0"]


def _ls(mirror_root: Path, repo: str, ref: str = "main") -> list[str]:
    out = subprocess.run(
        [
            "git",
            "--git-dir",
            str(mirror_root / "mlcommons" / f"{repo}.git"),
            "ls-tree",
            "-r",
            "--name-only",
            ref,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.splitlines()


def _sql(home: Path, query: str):
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        return con.sql(query).fetchall()
    finally:
        con.close()


def test_bad_round_fails_alone_and_exit_code_says_so(built):
    assert built["code"] == 1
    failed = [m for m in built["log"] if "FAILED" in m]
    assert len(failed) == 1 and "inference v0.6" in failed[0]
    assert "inference_results_v0.6.git" in failed[0]
    for v in TREE_ROUNDS + CMX_ROUNDS:
        assert any(m.startswith(f"inference {v}: done") for m in built["log"]), v
    assert any(m.startswith("metrics, checks and figures: done") for m in built["log"])


@pytest.mark.parametrize("version", [v for v in TREE_ROUNDS])
def test_every_result_and_every_power_trace_of_tree_rounds(built, mirror_root, version):
    files = _ls(mirror_root, f"inference_results_{version}")
    folders = lambda name: {"/".join(p.split("/")[:6]) for p in files if p.endswith(name)}  # noqa: E731
    summaries, traces = folders("/mlperf_log_summary.txt"), folders("/run_1/spl.txt")
    rows = _sql(
        built["home"],
        "select source_path, power_w, energy_per_query_j, source_commit "
        f"from mlperf.inference_results where round = '{version}'",
    )
    assert {r[0] for r in rows} == summaries
    with_power = {r[0] for r in rows if r[1] is not None or r[2] is not None}
    assert with_power == traces
    head = subprocess.run(
        [
            "git",
            "--git-dir",
            str(mirror_root / "mlcommons" / f"inference_results_{version}.git"),
            "rev-parse",
            "main",
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert {r[3] for r in rows} == {head}


def test_cmx_rounds_hold_every_published_power_result(built, mirror_root):
    repo = "cm4mlperf-results"
    for version in CMX_ROUNDS:
        expected = set()
        for path in _ls(mirror_root, repo):
            if f"mlperf-inference--{version}--" not in path or "-power--" not in path:
                continue
            if not path.endswith("cm-result.json"):
                continue
            category = path.split("--")[2]
            blob = subprocess.run(
                [
                    "git",
                    "--git-dir",
                    str(mirror_root / "mlcommons" / f"{repo}.git"),
                    "show",
                    f"main:{path}",
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            for row in json.loads(blob):
                if row.get("Result_Power") is not None:
                    expected.add((category, row["Location"]))
        rows = _sql(
            built["home"],
            "select category, source_path from mlperf.inference_results "
            f"where round = '{version}' and (power_w is not null or "
            "energy_per_query_j is not null)",
        )
        assert set(rows) == expected and len(expected) > 900, version


def test_partitions_runs_and_crosscheck_recorded(built):
    import os

    os.environ["DAGSTER_HOME"] = str(built["home"] / "dagster")
    try:
        instance = dg.DagsterInstance.get()
        keys = set(instance.get_dynamic_partitions("inference_rounds"))
        assert keys == set(TREE_ROUNDS + CMX_ROUNDS + ["v0.6"])
        runs = instance.get_runs()
        # one per round of every suite (6 tiny, 2 training); the warm build starts only v0.6's
        # run, which fails
        rounds = [r for r in runs if r.job_name != "downstream"]
        assert sum(r.is_success for r in rounds) == len(TREE_ROUNDS + CMX_ROUNDS) + 6 + 2
        # the downstream stage of each single-suite build and of the build that recorded v0.6
        # (a new known round changes what the figures show): one run or more each (its lanes),
        # all successful
        downstream = [r for r in runs if r.job_name == "downstream"]
        assert len(downstream) >= 4 and all(r.is_success for r in downstream)
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [dg.AssetCheckKey(dg.AssetKey("inference_crosscheck"), "crosscheck_agreement")]
        )
        evaluation = next(iter(check.values())).event.asset_check_evaluation
        assert evaluation.passed
    finally:
        del os.environ["DAGSTER_HOME"]
    rows = _sql(
        built["home"],
        "select round, reference, count(*) filter (where "
        "primary_power is not null and reference_power is not null) matched, "
        "count(*) filter (where abs(power_rel_diff) <= 0.01) good "
        "from mlperf.inference_crosscheck group by all order by all",
    )
    by = {(r[0], r[1].split(":")[0]): (r[2], r[3]) for r in rows}
    # every published value with a trace is reproduced (../shared/notes/mlperf-data.md)
    assert by[("v2.0", "cmx")] == (2110, 2110)
    assert by[("v2.1", "cmx")] == (2463, 2463)
    assert by[("v3.0", "cmx")] == (2447, 2447)
    assert by[("v4.1", "summary")] == (31, 31)


def test_metric_tables_match_the_results(built):
    best = _sql(
        built["home"],
        "select as_of_round, submitter, system, best_samples_per_joule, "
        "best_so_far_normalized from mlperf.inference_best_efficiency where category = "
        "'datacenter' and division = 'closed' and benchmark = 'bert-99' order by all",
    )
    raw = _sql(
        built["home"],
        "select round, submitter, system, samples_per_joule from "
        "mlperf.inference_results where category = 'datacenter' and division = 'closed' "
        "and benchmark = 'bert-99' and scenario = 'Offline' and valid and "
        "samples_per_joule > 0",
    )
    per_round: dict[str, tuple] = {}
    for rnd, sub, sysid, spj in raw:
        if rnd not in per_round or spj > per_round[rnd][2]:
            per_round[rnd] = (sub, sysid, spj)
    first = per_round["v1.0"][2]
    running = 0.0
    by_round = {r[0]: r for r in best}
    for rnd in ["v1.0", "v1.1", "v2.0", "v2.1", "v3.0", "v3.1", "v4.0", "v4.1"]:
        if rnd in per_round and per_round[rnd][2] > running:
            running, holder = per_round[rnd][2], per_round[rnd][:2]
        row = by_round[rnd]
        assert row[3] == pytest.approx(running, rel=1e-12) and tuple(row[1:3]) == holder
        assert row[4] == pytest.approx(running / first, rel=1e-12)
    pairs = _sql(
        built["home"],
        "select category, division, round, system, count(*) from "
        "mlperf.inference_accuracy_pairs group by all having count(*) > 1",
    )
    assert pairs == []  # one pair per (category, division, round, system): no cross product


def test_each_suite_alone_on_a_fresh_home(built):
    tiny_code, tiny_log = built["suite_alone"]["tiny"]
    assert tiny_code == 0, [m for m in tiny_log if "FAILED" in m]
    assert sum(m.startswith("tiny v") and ": done in" in m for m in tiny_log) == 6
    skipped = [m for m in tiny_log if m.startswith("skipped (no rows in inference_results): ")]
    assert len(skipped) == 1 and "fig1" in skipped[0].split(": ")[1].split(", ")
    assert any(m.startswith("  fig5c: ") and "fig5c.png" in m for m in tiny_log)
    training_code, training_log = built["suite_alone"]["training"]
    assert training_code == 0, [m for m in training_log if "FAILED" in m]
    assert sum(m.startswith("training v") and ": done in" in m for m in training_log) == 2
    assert any(m.startswith("  fig6: ") and "fig6.png" in m for m in training_log)
    assert any(
        m.startswith("skipped (no rows in inference_results): ") and "fig5a" in m
        for m in training_log
    )
    inference_code, inference_log = built["suite_alone"]["inference"]
    assert inference_code == 0, [m for m in inference_log if "FAILED" in m]
    assert any(m.startswith("  fig1: ") and "fig1.png" in m for m in inference_log)
    # the later builds keep what the single-suite builds made
    for v in ["v0.5", "v0.7", "v1.0", "v1.1", "v1.2", "v1.3"]:
        assert any(m.startswith(f"tiny {v}: unchanged (commit ") for m in built["log"]), v
    assert any(m.startswith("training v4.0: unchanged (commit ") for m in built["log"])
    assert any(m.startswith("inference v3.0: unchanged (commit ") for m in built["log"])


def test_warm_build_does_nothing_but_say_so(built):
    code, log = built["warm"]
    assert code == 1  # the unreachable round still fails, alone
    unchanged = {m.split(":")[0] for m in log if ": unchanged (commit " in m}
    everything = {f"inference {v}" for v in TREE_ROUNDS + CMX_ROUNDS}
    everything |= {f"tiny {v}" for v in ["v0.5", "v0.7", "v1.0", "v1.1", "v1.2", "v1.3"]}
    everything |= {"training v4.0", "training v4.1"}
    assert unchanged == everything
    assert [m for m in log if ": done in" in m and not m.startswith("inference v0.6")] == []
    assert "metrics, checks and figures: nothing to rebuild" in log
    kept = [m for m in log if m.startswith("skipped (inputs and code unchanged): ")]
    assert len(kept) == 1 and len(kept[0].split(": ")[1].split(", ")) == 19  # with the report


def test_the_dataset_is_readable_without_the_package(built):
    import pandas as pd

    dataset = built["home"] / "dataset"
    df = pd.read_parquet(dataset / "inference_results")
    assert set(df["round"].astype(str)) == set(TREE_ROUNDS + CMX_ROUNDS)
    assert df["power_w"].notna().sum() > 8000
    manifest = json.loads((dataset / "manifest.json").read_text())
    rounds = manifest["tables"]["inference_results"]["rounds"]
    assert set(rounds) == set(TREE_ROUNDS + CMX_ROUNDS)
    counts = df.groupby(df["round"].astype(str)).size().to_dict()
    assert {v: e["rows"] for v, e in rounds.items()} == counts
    assert rounds["v2.1"]["source_repo"] == "mlcommons/inference_results_v2.1"
    assert len(rounds["v2.1"]["source_commit"]) == 40
    assert set(manifest["tables"]["tiny_results"]["rounds"]) == {
        "v0.5", "v0.7", "v1.0", "v1.1", "v1.2", "v1.3"
    }  # fmt: skip
    assert "inference_best_efficiency" in manifest["tables"]
    text = (dataset / "README.md").read_text()
    assert "| `power_w` | DOUBLE | W | yes |" in text and "## training_results" in text


def test_warehouse_queries_worked_while_the_build_ran(built):
    reader = built["reader"]
    assert reader["stderr"] == "" and reader["ok"] > 5, reader
    assert reader["most_rows"] > 0  # rows appeared while the build was still running
    rows = _sql(built["home"], "select count(*) from mlperf.inference_results")
    assert rows[0][0] >= reader["most_rows"]


@pytest.mark.parametrize("key", ["fig2", "fig7"])
def test_figures_of_several_suites_draw_from_inference_alone(built, key):
    """What `--suite inference` on a fresh home draws: the other suites' tables are absent."""
    import matplotlib.pyplot as plt
    from upath import UPath

    from mlperf_power_dag import dataset
    from mlperf_power_dag.defs.figures import FIGURES, typed
    from mlperf_power_dag.schemas import InferenceResults

    spec = {f.key: f for f in FIGURES}[key]
    base = UPath(built["home"] / "dataset")
    inference, _ = dataset.read_partitions(base, "inference_results", None, InferenceResults)
    extra = {suite: None for suite in spec.tables[1:]}
    data = spec.build(typed("inference", inference), spec.params(), **extra)
    plt.close(spec.render(data))
    assert len(data.frame) > 0
    assert set(data.frame["round"].astype(str)) <= set(TREE_ROUNDS + CMX_ROUNDS)


def test_every_round_table_passed_its_checks(built):
    import os

    rounds = {"inference": len(TREE_ROUNDS + CMX_ROUNDS), "tiny": 6, "training": 2}
    os.environ["DAGSTER_HOME"] = str(built["home"] / "dagster")
    try:
        storage = dg.DagsterInstance.get().event_log_storage
        for suite, n in rounds.items():
            key = dg.AssetKey(f"{suite}_results")
            for name in ["unique_result_keys", "provenance_complete", "row_count_kept",
                         "skipped_share"]:  # fmt: skip
                history = storage.get_asset_check_execution_history(
                    dg.AssetCheckKey(key, name), limit=100
                )
                # the run of the unreachable round plans the checks but never evaluates them
                events = [r.event for r in history if r.event is not None]
                done = [e.asset_check_evaluation for e in events if e.asset_check_evaluation]
                assert len(done) == n, (suite, name)
                failed = [e.metadata for e in done if not e.passed]
                assert failed == [], (suite, name, failed)
    finally:
        del os.environ["DAGSTER_HOME"]


def test_every_cross_round_table_passed_its_key_check(built):
    import os

    tables = [
        "inference_best_efficiency",
        "inference_accuracy_pairs",
        "inference_software_gains",
        "inference_reference_results",
        "tiny_reference_results",
    ]
    os.environ["DAGSTER_HOME"] = str(built["home"] / "dagster")
    try:
        storage = dg.DagsterInstance.get().event_log_storage
        for table in tables:
            check = dg.AssetCheckKey(dg.AssetKey(table), "keys_and_provenance")
            history = storage.get_asset_check_execution_history(check, limit=10)
            done = [
                r.event.asset_check_evaluation
                for r in history
                if r.event is not None and r.event.asset_check_evaluation
            ]
            assert done, table
            assert done[0].passed, (table, done[0].metadata)
    finally:
        del os.environ["DAGSTER_HOME"]
