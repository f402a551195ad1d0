"""summary_results.json parser and reader: the published v4.1 table and malformed input."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from mlperf_power_dag.parsers.summary_results import (
    categories,
    parse_accuracy,
    row_parts,
    tokens_per_sample,
)
from mlperf_power_dag.readers.inference_summary import SUMMARY_PATTERNS, read_summary_round

FIXTURES = Path(__file__).parent / "fixtures" / "cmx"
REPO = "mlcommons/inference_results_v4.1"
COMMIT = "1" * 40


@pytest.fixture(scope="module")
def v41(checkout):
    root = checkout("inference_results_v4.1", list(SUMMARY_PATTERNS), ref="refs/pull/2/head")
    return read_summary_round(root / "summary_results.json", "v4.1", REPO, COMMIT)


def _one(df, path, category="datacenter"):
    rows = df[(df.source_path == path) & (df.category == category)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


def test_accuracy_field():
    acc = "ROUGE1: 44.5321  ROUGE2: 22.1191  ROUGEL: 28.7225  TOKENS_PER_SAMPLE: 293.7"
    assert parse_accuracy(acc) == {
        "ROUGE1": 44.5321,
        "ROUGE2": 22.1191,
        "ROUGEL": 28.7225,
        "TOKENS_PER_SAMPLE": 293.7,
    }
    assert tokens_per_sample(acc) == 293.7
    assert tokens_per_sample("ROUGE1: 43.1017  GEN_LEN: 4114386") is None
    assert tokens_per_sample(76.1) is None and tokens_per_sample(None) is None
    assert parse_accuracy("F1: 90.35676151551918") == {"F1": 90.35676151551918}
    assert categories("datacenter,edge") == (["datacenter", "edge"], [])
    assert categories("edge, automotive") == (["edge"], ["automotive"])


def test_row_parts():
    perf, power = row_parts(
        {"Performance_Result": 5.0, "Performance_Units": "Samples/s", "Power_Result": 2.0,
         "Power_Units": "Watts"}
    )  # fmt: skip
    assert perf == {"value": 5.0, "unit": "samples/s"}
    assert power == {"value": 2.0, "unit": "watts"}
    perf, power = row_parts({"Performance_Result": 30.0, "Performance_Units": "millijoules"})
    assert perf is None and power == {"value": 30.0, "unit": "millijoules"}


def test_v41_counts(v41):
    df, problems = v41.results, v41.problems
    # 937 objects; the 13 "datacenter,edge" ones give a row in each category.
    assert len(df) == 950
    assert df.groupby(["category", "division"]).size().to_dict() == {
        ("datacenter", "closed"): 827,
        ("datacenter", "open"): 42,
        ("edge", "closed"): 46,
        ("edge", "open"): 35,
    }
    assert int(df.power_w.notna().sum()) == 29
    assert int(df.energy_per_query_j.notna().sum()) == 2
    # GPT-J's inferred tokens/s carry no tokens per sample: flagged, not guessed.
    no_tps = problems[problems.kind == "no_tokens_per_sample"]
    gptj = df[df.benchmark.str.startswith("gptj") & df.scenario.isin(["Offline", "Server"])]
    assert len(no_tps) == 137 == len(gptj)
    assert gptj.samples_per_second.isna().all()
    # Five open llama2-70b variants labelled Samples/s/Queries/s carry token rates.
    assert problems.kind.eq("unit_conflict").sum() == 5
    assert set(problems.kind) == {"no_tokens_per_sample", "unit_conflict", "unknown_benchmark"}


def test_v41_values(v41):
    df = v41.results
    amd = _one(df, "closed/AMD/results/1xMI300X_2xEPYC-9374F/llama2-70b-99/Offline")
    assert amd.performance == 3062.72 and amd.performance_unit == "tokens/s"
    assert amd.tokens_per_sample == 293.7
    assert amd.samples_per_second == pytest.approx(3062.72 / 293.7, rel=1e-12)
    assert (amd.submitter, amd.system, amd.accelerators, amd.nodes) == (
        "AMD",
        "1xMI300X_2xEPYC-9374F",
        1,
        1,
    )
    base = "closed/NVIDIA/results/H200-SXM-141GBx8_TRT_MaxQ/"
    mix = _one(df, base + "mixtral-8x7b/Offline")
    assert mix.tokens_per_sample == 145.9 and mix.power_w == pytest.approx(6154.803549, 1e-9)
    # The loadgen log of this result says 335.674 samples/s; TOKENS_PER_SAMPLE is rounded.
    assert mix.samples_per_second == pytest.approx(335.674, rel=5e-4)
    assert mix.samples_per_joule == pytest.approx(mix.samples_per_second / mix.power_w)
    res = _one(df, base + "resnet50/Offline")
    assert res.performance == 556234.0 and res.power_w == pytest.approx(4954.031547, 1e-9)
    ss = _one(df, "closed/UntetherAI/results/h13_u3_slim/resnet50/singlestream", "edge")
    assert ss.scenario == "SingleStream" and ss.performance_unit == "ms"
    assert ss.energy_per_query_j == pytest.approx(0.029238987, rel=1e-8)
    assert ss.samples_per_joule == pytest.approx(1 / 0.029238987, rel=1e-8)
    nm = _one(df, "open/NeuralMagic/results/GO_2xRTX4090-reference-cpu-pytorch-v2.2.1-"
              "default_config/neuralmagic_Llama-2-7b-chat-hf-FP8/offline")  # fmt: skip
    assert nm.performance == 1871.84 and nm.performance_unit == "tokens/s"
    # its loadgen log: 6.31405 samples/s, 1871.84 tokens/s
    assert nm.samples_per_second == pytest.approx(1871.84 / 296.5, rel=1e-12)
    assert nm.samples_per_second == pytest.approx(6.31405, rel=3e-3)
    juniper = _one(df, "closed/JuniperNetworks/results/DGX-H100_H100-SXM-80GBx32_TRT/"
                   "llama2-70b-99/Offline")  # fmt: skip
    assert (juniper.nodes, juniper.accelerators) == (4, 32)
    # 13 open bert-99 variants of one system ("datacenter,edge"): benchmark is the used model,
    # so they stay 13 distinct results per category, flagged as unknown benchmarks.
    nm = df[df.source_path.str.contains("phoenix_Amd_Am5")]
    assert len(nm) == 26 and set(nm.category) == {"datacenter", "edge"}
    assert nm.benchmark.nunique() == 13 and not nm.benchmark_known.any()


def test_edge_cases_fixture():
    rt = read_summary_round(FIXTURES / "summary_edge_cases.json", "v9.0", "a/b", COMMIT)
    df, problems = rt.results, rt.problems
    box = _one(df, "closed/Acme/results/box/resnet50/Offline")  # perf + separate power object
    assert (box.performance, box.power_w, box.samples_per_joule, box.accelerators) == (
        1000.0,
        500.0,
        2.0,
        4,
    )
    both = df[df.source_path == "closed/Acme/results/both/resnet50/Offline"]
    assert sorted(both.category) == ["datacenter", "edge"] and set(both.accelerators) == {16}
    llm = _one(df, "closed/Acme/results/box/llama2-70b-99/Offline")
    assert (llm.tokens_per_sample, llm.samples_per_second) == (250.0, 8.0)
    gptj = _one(df, "closed/Acme/results/box/gptj-99/Offline")
    assert pd.isna(gptj.samples_per_second) and pd.isna(gptj.tokens_per_sample)
    ss = _one(df, "closed/Acme/results/box/resnet50/SingleStream")
    assert ss.energy_per_query_j == 0.025
    cpu = _one(df, "closed/Acme/results/cpu/resnet50/Offline")
    assert (cpu.performance, cpu.accelerators, cpu.nodes) == (1234.5, 0, 2)
    assert "closed/Acme/results/box/retinanet/Offline" not in set(df.source_path)
    assert len(df) == 7
    assert problems.groupby("kind").size().to_dict() == {
        "conflicting_rows": 1,
        "duplicate_row": 1,
        "missing_field": 1,
        "no_tokens_per_sample": 1,
        "unknown_category": 1,
        "unknown_scenario": 1,
    }


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "No such file"), (b'{"results": []}', "expected a JSON list"), (b"[{", "not valid")],
)
def test_unreadable_file_is_a_problem(tmp_path, content, needle):
    path = tmp_path / "summary_results.json"
    if content is not None:
        path.write_bytes(content)
    rt = read_summary_round(path, "v9.0", "a/b", COMMIT)
    assert rt.results.empty
    (p,) = rt.problems.itertuples()
    assert p.kind == "bad_file" and p.severity == "skipped" and needle in p.message
