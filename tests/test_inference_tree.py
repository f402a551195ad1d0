"""Reading a whole inference round: a synthetic tree with every kind of bad input, and real
rounds (v0.5 without system types, v1.0 power coverage, v4.1 against published values)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pandas as pd
import pytest

from mlperf_power_dag.readers.inference_tree import (
    POWER_PROBLEM_KINDS,
    SPARSE_PATTERNS,
    infer_categories,
    read_tree_round,
)
from mlperf_power_dag.schemas import InferenceResults, Problems

FIX = Path(__file__).parent / "fixtures" / "inference"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
OFFLINE_SUMMARY = """================================================
MLPerf Results Summary
================================================
SUT name : SUT
Scenario : Offline
Mode     : PerformanceOnly
Samples per second: 512.25
Result is : VALID
"""


def _result(root: Path, rel: str, **files: str | Path | None) -> Path:
    """Create `rel/performance/run_1/` with files given as fixture paths or text."""
    run = root / rel / "performance" / "run_1"
    run.mkdir(parents=True, exist_ok=True)
    names = {"summary": "mlperf_log_summary.txt", "detail": "mlperf_log_detail.txt"}
    for key, src in files.items():
        dest = run / names.get(key, "spl.txt")
        if isinstance(src, Path):
            shutil.copyfile(src, dest)
        else:
            dest.write_text(src or "")
    return run


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tree_v3.0")
    sysdir = root / "closed" / "Synth" / "systems"
    sysdir.mkdir(parents=True)
    shutil.copyfile(FIX / "system_both.json", sysdir / "box.json")
    shutil.copyfile(FIX / "system_odd.json", sysdir / "odd.json")
    shutil.copyfile(FIX / "system_broken.json", sysdir / "broken.json")
    box = "closed/Synth/results/box"
    d_off, d_ss = FIX / "detail_offline.txt", FIX / "detail_singlestream.txt"
    # a good power result (one malformed MLLOG line, one -2 W sample in the window)
    _result(root, f"{box}/bert-99/Offline", detail=d_off, spl=FIX / "spl_window.txt")
    # the same result spelled in lower case, without its trace: a duplicate
    _result(root, f"{box}/bert-99/offline", detail=d_off)
    _result(root, f"{box}/resnet50/SingleStream", detail=d_ss, spl=FIX / "spl_outside.txt")
    _result(
        root, f"{box}/resnet50/MultiStream", detail=FIX / "detail_multistream_invalid.txt", spl=""
    )
    _result(root, f"{box}/my-new-net/Server", summary=FIX / "summary_server_crlf.txt")
    _result(
        root,
        f"{box}/rnnt/Server",
        summary=FIX / "summary_server_crlf.txt",
        spl=FIX / "spl_window.txt",
    )
    _result(root, f"{box}/bert-99/Interactive", summary=FIX / "summary_server_crlf.txt")
    _result(root, f"{box}/bert-99/Server", detail=d_off, spl=FIX / "spl_window.txt")
    _result(root, f"{box}/extra/level/Offline", summary=OFFLINE_SUMMARY)
    run = _result(root, f"{box}/3d-unet-99/Offline", detail=d_off)
    (run / "spl.txt").symlink_to(run / "no-such-file")
    _result(root, f"{box}/dlrm-99/Offline", summary="")
    _result(root, f"{box}/ssd-resnet34/Offline", detail=d_off, spl="garbage\nmore garbage\n")
    _result(root, f"{box}/ssd-large/Offline", summary=OFFLINE_SUMMARY)
    _result(root, "closed/Synth/results/odd/resnet50/Offline", summary=OFFLINE_SUMMARY)
    _result(
        root, "closed/Synth/results/broken/resnet50/Server", summary=FIX / "summary_server_crlf.txt"
    )
    _result(
        root,
        "open/Synth/results/nojson/resnet50/SingleStream",
        summary=FIX / "summary_singlestream_invalid.txt",
    )
    return root


@pytest.fixture(scope="module")
def synthetic_table(synthetic):
    messages: list[str] = []
    table = read_tree_round(synthetic, "v3.0", "synth/tree", COMMIT, log=messages.append)
    return table, messages


def _problems(table) -> Counter:
    return Counter(zip(table.problems.kind, table.problems.severity, strict=True))


def test_synthetic_problem_counts(synthetic_table):
    table, _ = synthetic_table
    assert _problems(table) == {
        ("unexpected_layout", "skipped"): 1,
        ("unreadable_system_json", "flagged"): 1,
        ("category_inferred", "flagged"): 3,
        ("odd_system_type", "flagged"): 1,
        ("odd_system_field", "flagged"): 2,
        ("odd_availability", "flagged"): 1,
        ("missing_system_json", "flagged"): 1,
        ("malformed_mllog", "flagged"): 5,  # every copy of detail_offline.txt
        ("nonpositive_watts", "flagged"): 2,
        ("malformed_trace_lines", "flagged"): 2,  # every copy of spl_window.txt
        ("unreadable_trace", "skipped"): 1,  # a trace of garbage
        ("symlinked_file", "skipped"): 1,  # a (dangling) link is not followed
        ("missing_trace", "skipped"): 1,
        ("empty_trace", "skipped"): 1,
        ("no_samples_in_window", "skipped"): 1,
        ("missing_detail", "skipped"): 1,
        ("invalid_result", "flagged"): 2,
        ("unknown_benchmark", "flagged"): 1,
        ("unknown_scenario", "skipped"): 1,
        ("scenario_mismatch", "flagged"): 1,
        ("empty_file", "flagged"): 1,
        ("no_loadgen_log", "skipped"): 1,
        ("duplicate_result", "skipped"): 2,
    }
    Problems.validate(table.problems)


@pytest.mark.parametrize("batch_bytes", [0, 64])
def test_trace_batches_and_large_traces_read_the_same(synthetic, synthetic_table, batch_bytes):
    """Traces alone, streamed (above the batch size) or batched: the same table and problems."""
    table = read_tree_round(synthetic, "v3.0", "synth/tree", COMMIT, batch_bytes=batch_bytes)
    pd.testing.assert_frame_equal(table.results, synthetic_table[0].results, check_exact=True)
    pd.testing.assert_frame_equal(table.problems, synthetic_table[0].problems)


def test_synthetic_rows(synthetic_table):
    table, messages = synthetic_table
    df = InferenceResults.validate(table.results)
    # 11 results kept; box (datacenter,edge) and odd (Offline only) appear twice
    assert df.source_path.nunique() == 11 and len(df) == 8 * 2 + 2 + 1 + 1
    rows = df.set_index(["source_path", "category"])
    box = "closed/Synth/results/box"
    good = rows.loc[(f"{box}/bert-99/Offline", "edge")]
    assert good.power_w == pytest.approx(1118 / 9)  # the -2 W sample kept (v3.0 checker)
    assert good.samples_per_second == 1000.5
    assert good.samples_per_joule == pytest.approx(1000.5 / (1118 / 9))
    assert (good.accelerators, good.nodes, good.availability) == (16, 2, "available")
    assert (good.source, good.source_repo, good.source_commit) == ("tree", "synth/tree", COMMIT)
    ms = rows.loc[(f"{box}/resnet50/MultiStream", "datacenter")]
    assert not ms.valid and pd.isna(ms.power_w) and ms.performance == 9.0
    new = rows.loc[(f"{box}/my-new-net/Server", "datacenter")]
    assert (new.benchmark, new.benchmark_known, new.performance) == ("my-new-net", False, 1234.56)
    mismatch = rows.loc[(f"{box}/bert-99/Server", "datacenter")]
    assert pd.isna(mismatch.performance) and mismatch.power_w == pytest.approx(1118 / 9)
    assert f"{box}/ssd-resnet34/Offline" in df.source_path.values  # kept over ssd-large
    assert f"{box}/bert-99/offline" not in df.source_path.values
    odd = df[df.system == "odd"]
    assert sorted(odd.category) == ["datacenter", "edge"] and odd.accelerators.isna().all()
    assert df[df.system == "broken"].category.tolist() == ["datacenter"]
    nojson = df[df.system == "nojson"]
    assert nojson.category.tolist() == ["edge"] and not nojson.valid.iloc[0]
    assert nojson.system_name.isna().all()
    assert messages[-1].startswith("v3.0: 20 rows from 11 results (2 with power)")


def test_synthetic_traces_give_power_or_a_counted_problem(synthetic, synthetic_table):
    table, _ = synthetic_table
    spl = {  # os.walk also lists the dangling spl.txt link
        Path(d).parent.parent.relative_to(synthetic).as_posix()
        for d, _, files in os.walk(synthetic)
        if "spl.txt" in files
    }
    powered = set(table.results.loc[table.results.power_w.notna(), "source_path"])
    p = table.problems
    power_problems = p[p.kind.isin(POWER_PROBLEM_KINDS) & p.source_path.isin(spl)]
    assert len(spl) == 7 and len(powered) == 2 and len(power_problems) == 5
    assert len(powered) == len(spl) - len(power_problems)
    assert powered | set(power_problems.source_path) == spl


def test_infer_categories():
    assert infer_categories({"Server", "Offline"}) == ("datacenter",)
    assert infer_categories({"SingleStream"}) == ("edge",)
    assert infer_categories({"Offline"}) == ("datacenter", "edge")
    assert infer_categories({"Server", "MultiStream"}) == ("datacenter", "edge")


def test_sparse_patterns_select_only_what_is_read(checkout):
    root = checkout("inference_results_v4.1", SPARSE_PATTERNS)
    files = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    names = Counter(p.name if p.suffix != ".json" else "*.json" for p in files)
    assert names == {
        "mlperf_log_summary.txt": 937,
        "mlperf_log_detail.txt": 31,
        "spl.txt": 31,
        "*.json": 112,
    }


# --- real rounds --------------------------------------------------------------------------


def test_v05_without_system_types(checkout):
    root = checkout("inference_results_v0.5", SPARSE_PATTERNS)
    table = read_tree_round(root, "v0.5", "mlcommons/inference_results_v0.5", COMMIT)
    df, problems = table.results, table.problems
    assert df.source_path.nunique() == 589 and len(df) == 665
    assert df.power_w.isna().all() and df.valid.all()
    kinds = problems.kind.value_counts().to_dict()
    assert kinds["category_inferred"] == 57 and kinds["missing_system_json"] == 1
    assert kinds["missing_system_type"] == 56
    # lower-case and spaced scenario folders are read, legacy MultiStream in samples/query
    assert set(df.scenario) == {"Offline", "Server", "SingleStream", "MultiStream"}
    ms = df[df.scenario == "MultiStream"]
    assert (ms.performance_unit == "samples/query").all() and ms.performance.notna().all()


def test_v10_every_trace_gives_power_or_a_counted_problem(checkout, mirror_root):
    root = checkout("inference_results_v1.0", SPARSE_PATTERNS)
    git = str(mirror_root / "mlcommons" / "inference_results_v1.0.git")
    ls = ["git", "-C", git, "ls-tree", "-r", "--name-only", "main"]
    names = subprocess.run(ls, check=True, capture_output=True, text=True).stdout.splitlines()
    spl = {n.rsplit("/performance/run_1/", 1)[0] for n in names if n.endswith("run_1/spl.txt")}
    assert len(spl) == 862
    messages: list[str] = []
    table = read_tree_round(
        root, "v1.0", "mlcommons/inference_results_v1.0", COMMIT, messages.append
    )
    df, problems = table.results, table.problems
    powered = set(df.loc[df.power_w.notna(), "source_path"])
    skipped = set(problems.loc[problems.severity == "skipped", "source_path"]) & spl
    assert powered | skipped == spl and not powered & skipped
    assert len(powered) == len(spl) - len(skipped)
    assert not set(problems.kind) & POWER_PROBLEM_KINDS
    assert df.source_path.nunique() == 1994 and len(powered) == 862
    assert (problems.kind == "nonpositive_watts").sum() == 1
    assert sum("results read" in m for m in messages) == 3  # every 500 of 1994


def test_v41_round_against_published_summary(checkout, mirror_root):
    root = checkout("inference_results_v4.1", SPARSE_PATTERNS)
    table = read_tree_round(root, "v4.1", "mlcommons/inference_results_v4.1", COMMIT)
    df = table.results
    assert df.source_path.nunique() == 937 and len(df) == 950
    assert table.problems.kind.value_counts().to_dict() == {
        "unknown_benchmark": 30,
        "odd_system_field": 1,
    }
    git = str(mirror_root / "mlcommons" / "inference_results_v4.1.git")
    show = ["git", "-C", git, "show", "refs/pull/2/head:summary_results.json"]
    published = json.loads(subprocess.run(show, check=True, capture_output=True).stdout)
    pub = {r["Location"]: r for r in published}
    first = df.drop_duplicates("source_path").set_index("source_path")
    power = first[first.power_w.notna()]
    assert len(power) == 31
    for loc, row in power.iterrows():
        r = pub[loc]
        assert row.performance == r["Performance_Result"], loc  # from the detail log
        if r["Power_Units"] == "Watts":
            assert row.power_w == pytest.approx(r["Power_Result"], rel=1e-9)
            assert row.samples_per_joule == row.samples_per_second / row.power_w
        else:
            assert row.energy_per_query_j * 1000 == pytest.approx(r["Power_Result"], rel=1e-9)
    llama = first.loc["closed/NVIDIA/results/H200-SXM-141GBx8_TRT_MaxQ/llama2-70b-99/Offline"]
    assert (llama.performance_unit, llama.samples_per_second) == ("tokens/s", 86.7369)
    assert llama.samples_per_joule == 86.7369 / llama.power_w
    ms = first.loc["closed/UntetherAI/results/h13_u3_slim/resnet50/multistream"]
    assert ms.samples_per_joule == 8 / ms.energy_per_query_j
    ss = first.loc["closed/UntetherAI/results/h13_u3_slim/resnet50/singlestream"]
    assert ss.samples_per_joule == 1 / ss.energy_per_query_j
    both = df[df.system == "h13_u3_slim"]
    assert set(both.category) == {"edge"}
