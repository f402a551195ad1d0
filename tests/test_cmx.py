"""CMX (cm4mlperf-results) parser and inference reader: real rows of the mirror, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlperf_power_dag.parsers.cmx import (
    CmxFormatError,
    load_rows,
    parse_experiment_folder,
    parse_location,
    row_kind,
)
from mlperf_power_dag.readers.inference_cmx import SPARSE_PATTERNS, read_cmx_round, reports_tokens

REPO = "mlcommons/cm4mlperf-results"
COMMIT = "0" * 40


@pytest.fixture(scope="module")
def cmx_root(checkout) -> Path:
    return checkout("cm4mlperf-results", list(SPARSE_PATTERNS))


@pytest.fixture(scope="module")
def rounds(cmx_root):
    return {
        v: read_cmx_round(cmx_root, v, REPO, COMMIT)
        for v in ("v2.0", "v2.1", "v3.0", "v3.1", "v4.0", "v4.1")
    }


def _one(df, path, category=None):
    rows = df[df.source_path == path]
    if category:
        rows = rows[rows.category == category]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_folder_names():
    f = parse_experiment_folder(
        "mlperf-inference--v4.0--datacenter--closed-power--image-classification--offline"
    )
    assert (f.round, f.category, f.division, f.power, f.task, f.scenario) == (
        "v4.0",
        "datacenter",
        "closed",
        True,
        "image-classification",
        "Offline",
    )
    n = parse_experiment_folder("mlperf-inference--v3.0--edge--closed-network--x--multistream")
    assert (n.division, n.power, n.scenario) == ("network", False, "MultiStream")
    assert parse_experiment_folder("mlperf-inference--all--edge--closed--x--offline") is None
    assert parse_experiment_folder("mlperf-tiny--v1.0--closed--x--singlestream") is None
    assert parse_experiment_folder("mlperf-inference--v4.0--edge--closed--x--interactive") is None


def test_location_and_row_kinds():
    loc = parse_location("closed/Dell/results/XE9680_H100_SXM_80GBx8_TRT_MaxQ/resnet50/Offline")
    assert (loc.division, loc.submitter, loc.system, loc.benchmark, loc.scenario) == (
        "closed",
        "Dell",
        "XE9680_H100_SXM_80GBx8_TRT_MaxQ",
        "resnet50",
        "Offline",
    )
    assert parse_location("closed/Dell/XE9680/resnet50") is None
    assert row_kind({"Result": 1.0, "Result_Power": 2.0}) == "combined"
    assert row_kind({"Result": 1.0, "Units": "Samples/s"}) == "performance"
    assert row_kind({"Result": None, "Result_Power": 2.0, "Units": "Watts"}) == "power"
    assert row_kind({"Result": None, "Units": "Watts"}) is None
    with pytest.raises(CmxFormatError):
        load_rows(b'{"Result": 1}')
    with pytest.raises(CmxFormatError):
        load_rows(b"[1, 2")


def test_v40_separate_power_rows(rounds):
    df = rounds["v4.0"].results
    r = _one(df, "closed/Dell/results/XE9680_H100_SXM_80GBx8_TRT_MaxQ/resnet50/Offline")
    assert (r.category, r.division, r.submitter, r.system) == (
        "datacenter",
        "closed",
        "Dell",
        "XE9680_H100_SXM_80GBx8_TRT_MaxQ",
    )
    assert (r.benchmark, r.scenario, r.accelerators, r.nodes) == ("resnet50", "Offline", 8, 1)
    assert r.performance == 456575 and r.performance_unit == "samples/s"
    assert r.samples_per_second == 456575
    assert r.power_w == 4037.9867435158512
    assert r.samples_per_joule == pytest.approx(456575 / 4037.9867435158512, rel=1e-12)
    assert r.source == "cmx" and r.source_repo == REPO and r.source_commit == COMMIT


def test_v40_llm_units(rounds):
    df = rounds["v4.0"].results
    base = "closed/Dell/results/XE9680_H100_SXM_80GBx8_TRT_MaxQ/llama2-70b-99.9/"
    off = _one(df, base + "Offline")
    assert off.performance_unit == "tokens/s" and off.performance == 17098.6
    assert off.power_w == pytest.approx(5722.274753, rel=1e-9)
    assert pd.isna(off.samples_per_second)  # CMX has no tokens per sample
    srv = _one(df, base + "Server")  # v4.0 Server llama2 counts samples (checker rule)
    assert srv.performance_unit == "queries/s" and srv.samples_per_second == 49.2235
    problems = rounds["v4.0"].problems
    flagged = problems[problems.kind == "no_tokens_per_sample"].source_path
    assert base + "Offline" in set(flagged) and base + "Server" not in set(flagged)
    assert reports_tokens("v4.0", "llama2-70b-99", "Offline")
    assert not reports_tokens("v4.0", "gptj-99", "Offline")
    assert reports_tokens("v4.1", "gptj-99", "Server")
    assert not reports_tokens("v3.1", "gptj-99", "Offline")


def test_v31_combined_rows(rounds):
    df = rounds["v3.1"].results
    base = "closed/NVIDIA/results/DGX-H100_H100-SXM-80GBx8_TRT_MaxQ/"
    off = _one(df, base + "resnet50/Offline")
    assert off.performance == 474849.0 and off.power_w == pytest.approx(4063.983208, rel=1e-9)
    srv = _one(df, base + "bert-99/Server")
    assert srv.performance_unit == "queries/s" and srv.samples_per_second == 42416.1
    assert srv.power_w == pytest.approx(5223.899167, rel=1e-9)
    ms = _one(df, "closed/NVIDIA/results/Orin_TRT_MaxQ/resnet50/MultiStream", "edge")
    assert ms.performance_unit == "ms" and ms.performance == pytest.approx(4.710039, rel=1e-6)
    assert ms.energy_per_query_j == pytest.approx(0.077826826, rel=1e-8)
    assert pd.isna(ms.power_w) and pd.isna(ms.samples_per_second)
    assert ms.samples_per_joule == pytest.approx(8 / 0.077826826, rel=1e-8)  # 8 samples/query


def test_open_variant_of_a_token_benchmark(rounds):
    # Model is the folder's model name; MlperfModel says it runs llama2-70b-99.9 (tokens/s).
    df = rounds["v4.1"].results
    path = (
        "open/NeuralMagic/results/GO_2xRTX4090-reference-cpu-pytorch-v2.2.1-default_config/"
        "neuralmagic_Llama-2-7b-chat-hf-FP8/offline"
    )
    r = _one(df, path)
    assert (r.benchmark, r.benchmark_known) == ("neuralmagic-llama-2-7b-chat-hf-fp8", False)
    assert r.performance == 1871.84 and r.performance_unit == "tokens/s"
    assert pd.isna(r.samples_per_second)


def test_round_counts(rounds):
    results = {v: len(rt.results) for v, rt in rounds.items()}
    assert results == {
        "v2.0": 2962,
        "v2.1": 5265,
        "v3.0": 7283,
        "v3.1": 3325,
        "v4.0": 9474,
        "v4.1": 937,
    }
    with_power = {
        v: int((rt.results.power_w.notna() | rt.results.energy_per_query_j.notna()).sum())
        for v, rt in rounds.items()
    }
    assert with_power == {
        "v2.0": 2110,
        "v2.1": 2463,
        "v3.0": 2449,
        "v3.1": 2095,
        "v4.0": 984,
        "v4.1": 31,
    }
    # v2.0-v3.1 write every power row twice: each copy is counted, none doubles a result.
    for v in ("v2.0", "v2.1", "v3.0", "v3.1"):
        assert rounds[v].problems.kind.eq("duplicate_row").sum() == with_power[v]
    for v in ("v4.0", "v4.1"):
        assert rounds[v].problems.kind.eq("duplicate_row").sum() == 0


# --- bad input -----------------------------------------------------------------------------

_FOLDER = "mlperf-inference--v9.0--datacenter--closed-power--image-classification--offline"


def _row(**kw):
    row = {
        "Location": "closed/Acme/results/box/resnet50/Offline",
        "Organization": "Acme",
        "Platform": "box",
        "Model": "resnet50",
        "Scenario": "Offline",
        "Result": 100.0,
        "Units": "Samples/s",
        "accelerators_per_node": 2,
        "number_of_nodes": 1,
        "version": "v9.0",
    }
    row.update(kw)
    return row


def _write(root: Path, folder: str, name: str, content) -> None:
    d = root / "experiment" / folder / name
    d.mkdir(parents=True)
    data = content if isinstance(content, bytes) else json.dumps(content).encode()
    (d / "cm-result.json").write_bytes(data)


def test_bad_input_is_counted_not_raised(tmp_path):
    loc2 = "closed/Acme/results/box2/resnet50/Offline"
    loc3 = "closed/Acme/results/box3/resnet50/Offline"
    loc4 = "closed/Acme/results/box4/resnet50/Offline"
    loc5 = "closed/Acme/results/box5/resnet50/Offline"
    _write(
        tmp_path,
        _FOLDER,
        "a",
        [
            _row(),  # performance row of box ...
            _row(Result=None, Result_Power=250.0, Units="Watts"),  # ... and its power row
            _row(Location=loc2, Platform="box2", accelerators_per_node="N/A"),
            _row(Location=loc2, Platform="box2", Result=None, Result_Power=-2.0, Units="Watts"),
            _row(Location=loc3, Platform="box3", Result=1.0),
            _row(Location=loc3, Platform="box3", Result=2.0),  # conflicting performance
            _row(Location=loc4, Platform="box4", Result=None, Result_Power=9.0, Units="Watts"),
            _row(Location=None),
            _row(
                Location=loc5,
                Platform="box5",
                Result=0.0,
                Result_Power=80.0,
                Result_Power_Units="Watts",
            ),
        ],
    )
    _write(tmp_path, _FOLDER, "b", b"[{not json")
    _write(tmp_path, "mlperf-inference--v9.0--datacenter--closed--x--someday", "c", [_row()])
    rt = read_cmx_round(tmp_path, "v9.0", REPO, COMMIT)
    df, problems = rt.results, rt.problems
    ok = _one(df, "closed/Acme/results/box/resnet50/Offline")
    assert (ok.performance, ok.power_w, ok.samples_per_joule, ok.accelerators) == (
        100.0,
        250.0,
        0.4,
        2,
    )
    box2 = _one(df, loc2)
    assert pd.isna(box2.power_w) and pd.isna(box2.accelerators) and box2.performance == 100.0
    box4 = _one(df, loc4)
    assert box4.power_w == 9.0 and pd.isna(box4.performance)
    assert loc3 not in set(df.source_path)
    box5 = _one(df, loc5)  # 0 samples/s: no efficiency, no crash on the schema's > 0
    assert (box5.samples_per_second, box5.power_w) == (0.0, 80.0)
    assert pd.isna(box5.samples_per_joule)
    kinds = problems.groupby("kind").size().to_dict()
    assert kinds == {
        "bad_accelerator_count": 1,
        "bad_file": 1,
        "bad_folder_name": 1,
        "bad_power": 1,
        "conflicting_rows": 1,
        "no_location": 1,
        "no_performance_row": 1,
    }
    bad = problems[problems.kind == "bad_file"].iloc[0]
    assert bad.severity == "skipped" and "b/cm-result.json" in bad.message


def test_missing_round_gives_a_problem(tmp_path):
    rt = read_cmx_round(tmp_path, "v9.9", REPO, COMMIT)
    assert rt.results.empty
    assert list(rt.problems.kind) == ["no_files"]
