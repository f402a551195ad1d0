"""Figure builders and renderers on synthetic InferenceResults (values computed by hand)."""

from __future__ import annotations

import pandas as pd
import pytest
from test_metrics import frame, row

from mlperf_power_dag.figures.common import LONG_COLUMNS, save
from mlperf_power_dag.figures.fig1 import Fig1Params, build_fig1, moore, render_fig1
from mlperf_power_dag.figures.fig2 import Fig2Params, build_fig2, render_fig2, si_watts
from mlperf_power_dag.figures.fig5 import (
    Fig5aParams,
    Fig5bParams,
    build_fig5a,
    build_fig5b,
    build_trend,
    render_fig5a,
    render_trend,
)
from mlperf_power_dag.figures.fig7 import Fig7Params, build_fig7, render_fig7
from mlperf_power_dag.figures.fig8 import Fig8Params, build_fig8, render_fig8
from mlperf_power_dag.figures.fig9 import Fig9Params, build_fig9, render_fig9
from mlperf_power_dag.figures.fig10 import Fig10Params, build_fig10, render_fig10
from mlperf_power_dag.figures.fig11a import Fig11aParams, build_fig11a, render_fig11a
from mlperf_power_dag.metrics import round_dates
from mlperf_power_dag.schemas import TinyResults, TrainingResults, columns

SHA = "0" * 40


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    rows = [
        # Throughput without power in v0.5/v0.7, with power from v1.0.
        row("v0.5", "resnet50", sps=1000, power=None),
        row("v0.7", "resnet50", sps=4000, power=None, system="b"),
        row("v1.0", "resnet50", sps=8000, power=4000),  # 2 samples/J
        row("v1.1", "resnet50", sps=6000, power=2000),  # 3
        row("v2.0", "resnet50", sps=5000, power=2500),  # 2 -> running max 3
        row("v1.0", "retinanet", sps=float("nan"), power=None),  # excluded (fig1)
        row("v4.0", "gptj-99", sps=10, power=5000, system="dgx"),
        row("v4.0", "gptj-99.9", sps=9, power=5000, system="dgx"),
        row("v4.0", "bert-99", sps=1000, power=5000, system="dgx"),
        row("v4.0", "bert-99.9", sps=500, power=5000, system="dgx"),
        row("v4.0", "resnet50", sps=50000, power=5000, system="dgx"),
        row("v4.0", "llama2-70b-99", sps=4, power=6000, system="dgx"),  # later benchmark
        row("v4.1", "llama2-70b-99", sps=8, power=6000, system="dgx2"),
        row("v4.1", "stable-diffusion-xl", sps=1, power=6000, system="dgx2"),  # one round
        row("v1.0", "bert-99", sps=100, power=10, system="dgxa"),
        row("v1.0", "bert-99.9", sps=40, power=10, system="dgxa"),
        row("v1.1", "bert-99", sps=100, power=10, system="dgxa"),
        row("v1.1", "bert-99.9", sps=60, power=10, system="dgxa"),
        row("v1.1", "resnet50", sps=1, power=float("inf"), system="bad", spj=None),
        # Edge
        row("v1.1", "resnet50", sps=100, power=50, system="q5", category="edge"),
        row("v2.0", "resnet50", sps=90, power=40, system="q5e", category="edge"),
        row("v3.0", "resnet50", sps=120, power=40, system="q5e3", category="edge"),
        row("v3.0", "retinanet", sps=2, power=4, system="tiny-edge", category="edge"),
    ]
    return frame(rows)


def tiny_frame() -> pd.DataFrame:
    base = {
        "round": "v1.2",
        "division": "closed",
        "submitter": "ST",
        "system": "NUCLEO_L4R5ZI",
        "system_name": None,
        "processor": None,
        "accelerator": None,
        "benchmark_known": True,
        "latency_ms": 10.0,
        "accuracy": None,
        "source_repo": "mlcommons/tiny_results_v1.2",
        "source_path": "closed/ST/results/NUCLEO_L4R5ZI",
        "source_commit": SHA,
    }
    rows = [
        {
            **base,
            "benchmark": "kws",
            "throughput_ips": 10.0,
            "energy_per_inference_uj": 500.0,
            "power_w": None,
            "inferences_per_joule": 2000.0,
        },
        {
            **base,
            "benchmark": "ad",
            "throughput_ips": 100.0,
            "energy_per_inference_uj": 50.0,
            "power_w": 0.004,
            "inferences_per_joule": 20000.0,
        },
    ]
    return TinyResults.validate(pd.DataFrame(rows, columns=columns(TinyResults)))


def training_frame() -> pd.DataFrame:
    base = {
        "round": "v4.0",
        "division": "closed",
        "submitter": "N",
        "system_name": None,
        "accelerator": None,
        "benchmark": "llama2_70b_lora",
        "accelerators": 8,
        "nodes": 1,
        "compute_energy_j": None,
        "interconnect_energy_j": None,
        "runs_used": 10,
        "power_measurement": "AC",
        "source_repo": "mlcommons/training_results_v4.0",
        "source_path": "closed/N/results/x",
        "source_commit": SHA,
    }
    rows = [
        {
            **base,
            "system": "small",
            "time_to_train_min": 10.0,
            "energy_j": 6.0e6,
            "average_power_w": None,
        },  # 10 kW
        {
            **base,
            "system": "big",
            "time_to_train_min": 2.0,
            "energy_j": 6.0e7,
            "average_power_w": 480000.0,
        },
    ]
    return TrainingResults.validate(pd.DataFrame(rows, columns=columns(TrainingResults)))


def check_saved(fig, data, tmp_path, key):
    paths = save(fig, data, tmp_path, key)
    assert set(paths) == {"png", "svg", "csv", "json"}
    assert 0 < paths["png"].stat().st_size < 200_000
    assert paths["svg"].stat().st_size > 0
    csv = pd.read_csv(paths["csv"])
    assert list(csv.columns[: len(LONG_COLUMNS)]) == LONG_COLUMNS
    assert len(csv) == len(data.frame)


def test_fig1_normalized_on_moore_curve(results, tmp_path):
    data = build_fig1(results, Fig1Params(benchmarks=("resnet50", "retinanet", "gptj-99")))
    df = data.frame
    res = df[df["benchmark"] == "resnet50"]
    assert res["x"].tolist() == ["v0.5", "v0.7", "v1.0", "v1.1", "v2.0", "v4.0"]
    assert res["y"].tolist() == pytest.approx([1, 4, 8, 6, 5, 50])
    assert res["system"].tolist()[:3] == ["sysA", "b", "sysA"]
    gptj = df[df["benchmark"] == "gptj-99"]
    d = round_dates()
    assert gptj["y"].tolist() == pytest.approx([moore(d["v4.0"], d["v0.5"], 2.0)])
    curve = df[df["series"] == "Moore's law"]
    assert curve["y"].iloc[0] == 1.0 and curve["x"].iloc[-1] == "v4.0"
    assert any("retinanet" in n for n in data.notes)  # no usable result
    assert any("excluded" in n for n in data.notes)
    check_saved(render_fig1(data), data, tmp_path, "fig1")
    per = build_fig1(results, Fig1Params(benchmarks=("resnet50",), per_accelerator=True))
    assert per.frame[per.frame["benchmark"] == "resnet50"]["value"].iloc[0] == 1000 / 8


def test_fig1_without_any_of_its_benchmarks_says_so(tmp_path):
    only_llm = frame([row("v4.0", "llama2-70b-99", sps=4, power=6000, system="dgx"),
                      row("v4.1", "llama2-70b-99", sps=8, power=6000, system="dgx2")])  # fmt: skip
    data = build_fig1(only_llm, Fig1Params(benchmarks=("resnet50", "gptj-99")))
    assert data.notes == ["no usable results for: resnet50, gptj-99"]
    assert data.frame["series"].unique().tolist() == ["Moore's law"]
    assert data.meta["benchmarks"] == []
    check_saved(render_fig1(data), data, tmp_path, "fig1")


def test_fig2_min_max_per_scale(results, tmp_path):
    data = build_fig2(results, Fig2Params(), tiny=tiny_frame(), training=training_frame())
    got = {(r.x, r.series): (r.y, r.system) for r in data.frame.itertuples()}
    assert got[("Tiny", "min")] == (pytest.approx(0.004), "NUCLEO_L4R5ZI")
    assert got[("Tiny", "max")][0] == pytest.approx(0.005)  # 500 uJ x 10/s
    assert got[("Edge", "min")] == (4.0, "tiny-edge")
    assert got[("Edge", "max")] == (50.0, "q5")
    assert got[("Datacenter", "min")] == (10.0, "dgxa")
    assert got[("Datacenter", "max")] == (6000.0, "dgx")  # inf excluded
    assert got[("Training", "min")] == (pytest.approx(10000.0), "small")
    assert got[("Training", "max")] == (480000.0, "big")
    assert any("Datacenter: 1 results excluded" in n for n in data.notes)
    check_saved(render_fig2(data), data, tmp_path, "fig2")
    assert si_watts(0.0056) == "5.6 mW" and si_watts(6300) == "6.3 kW"


def test_fig2_without_tiny_and_training_says_so(results):
    data = build_fig2(results)
    assert set(data.frame["x"]) == {"Edge", "Datacenter"}
    assert "Tiny: no tiny results given; scale left empty" in data.notes
    assert "Training: no training results given; scale left empty" in data.notes


def test_fig5a_running_max_normalized_and_later_benchmarks(results, tmp_path):
    data = build_fig5a(results)
    df = data.frame
    res = df[df["benchmark"] == "resnet50"]
    assert res["x"].tolist() == ["v1.0", "v1.1", "v2.0", "v4.0"]
    assert res["y"].tolist() == pytest.approx([1.0, 1.5, 1.5, 5.0])
    assert res["round"].tolist() == ["v1.0", "v1.1", "v1.1", "v4.0"]  # provenance of the max
    llama = df[df["benchmark"] == "llama2-70b-99"]
    assert llama["y"].tolist() == pytest.approx([1.0, 2.0])
    assert "stable-diffusion-xl" not in set(df["benchmark"])  # one round only
    assert any("later benchmarks with >= 2 rounds: llama2-70b-99" in n for n in data.notes)
    assert any("gptj-99: one round only (v4.0)" in n for n in data.notes)
    assert any("1 results excluded" in n for n in data.notes)
    check_saved(render_fig5a(data), data, tmp_path, "fig5a")
    listed_only = build_fig5a(results, Fig5aParams(later_since=None))
    assert "llama2-70b-99" not in set(listed_only.frame["benchmark"])


def test_fig5b_edge_and_missing_power(results):
    data = build_fig5b(results)
    res = data.frame[data.frame["benchmark"] == "resnet50"]
    assert res["y"].tolist() == pytest.approx([1.0, 1.125, 1.5])
    empty = build_fig5b(results, Fig5bParams(division="open"))
    assert empty.frame.empty
    assert any("no valid edge open Offline results with power" in n for n in empty.notes)
    render_trend(empty)  # no crash on no data


def test_trend_reusable_for_tiny():
    tiny = tiny_frame()
    data = build_trend(
        tiny, "inferences_per_joule", key="fig5c", benchmarks=["kws", "ad", "ic"], suite="tiny"
    )
    assert data.frame["y"].tolist() == [1.0, 1.0]
    assert data.frame["x"].tolist() == ["v1.2", "v1.2"]
    assert any("no usable results for: ic" in n for n in data.notes)


def test_fig7_energy_per_sample_and_macs(results, tmp_path):
    p = Fig7Params(round="v4.0", system="dgx")
    data = build_fig7(results, p, tiny=tiny_frame())
    bars = data.frame[data.frame["series"] == "energy per sample"]
    # high-accuracy variants kept: gptj-99.9, bert-99.9; sorted by energy, largest first.
    assert bars["benchmark"].tolist() == [
        "llama2-70b-99",
        "gptj-99.9",
        "bert-99.9",
        "resnet50",
        "kws",
        "ad",
    ]
    assert bars["y"].tolist() == pytest.approx([1500, 5000 / 9, 10, 0.1, 500e-6, 50e-6])
    macs = data.frame[data.frame["series"] == "MACs per sample"]
    assert macs.set_index("benchmark")["y"]["resnet50"] == 4.1e9
    check_saved(render_fig7(data), data, tmp_path, "fig7")
    no_tiny = build_fig7(results, p)
    assert "Tiny: no tiny results given; tiny bars left out" in no_tiny.notes
    with pytest.raises(ValueError, match="Available systems of v4.0: dgx"):
        build_fig7(results, Fig7Params(round="v4.0", system="DGX-H100"))
    with pytest.raises(ValueError, match="Available systems of v1.2: NUCLEO_L4R5ZI"):
        build_fig7(
            results, Fig7Params(round="v4.0", system="dgx", tiny_system="nope"), tiny_frame()
        )


def test_fig8_histogram_rows(results, tmp_path):
    data = build_fig8(results)
    assert data.frame["x"].tolist() == ["v1.0 dgxa", "v1.1 dgxa", "v4.0 dgx"]
    assert data.frame["y"].tolist() == pytest.approx([60.0, 40.0, 50.0])
    inc = build_fig8(results, Fig8Params(measure="increase"))
    assert inc.frame["y"].tolist() == pytest.approx([150.0, 100 / 60 * 100 - 100, 100.0])
    check_saved(render_fig8(data), data, tmp_path, "fig8")
    with pytest.raises(ValueError, match="measure"):
        build_fig8(results, Fig8Params(measure="ratio"))


def test_fig9_ratio_for_chosen_systems(results, tmp_path):
    p = Fig9Params(systems={"v1.0": "dgxa", "v1.1": "dgxa", "v4.0": "dgx"})
    data = build_fig9(results, p)
    b = data.frame[data.frame["series"] == "bert-99.9"]
    assert b["x"].tolist() == ["v1.0", "v1.1", "v4.0"]
    assert b["y"].tolist() == pytest.approx([0.4, 0.6, 0.5])
    assert data.frame[data.frame["series"] == "bert-99"]["y"].tolist() == [1.0, 1.0, 1.0]
    check_saved(render_fig9(data), data, tmp_path, "fig9")
    with pytest.raises(ValueError, match="not found in round v1.1"):
        build_fig9(results, Fig9Params(systems={"v1.1": "dgx"}))
    partial = build_fig9(results, Fig9Params(systems={"v1.1": "bad"}))
    assert partial.frame.empty
    assert partial.notes == ["v1.1 bad: no usable bert-99 and bert-99.9 Offline pair with power"]


def test_fig10_pairs(results, tmp_path):
    data = build_fig10(results, Fig10Params(category="edge"))
    # v2.0 -> v3.0 skips v2.1: not consecutive, not paired.
    assert data.frame["x"].tolist() == ["resnet50 v1.1->v2.0 q5e"]
    assert data.frame["y"].tolist() == pytest.approx([12.5])
    assert data.frame["round_before"].tolist() == ["v1.1"]
    assert data.notes == ["pairs per round step: v1.1->v2.0 1"]
    check_saved(render_fig10(data), data, tmp_path, "fig10")


def test_fig11a_normalized_series(results, tmp_path):
    p = Fig11aParams(systems={"v1.1": "q5", "v2.0": "q5e", "v3.0": "q5e3"})
    data = build_fig11a(results, p)
    df = data.frame.set_index(["series", "x"])["y"]
    assert df["efficiency"].tolist() == pytest.approx([1.0, 1.125, 1.5])
    assert df["performance"].tolist() == pytest.approx([1.0, 0.9, 1.2])
    assert df["power"].tolist() == pytest.approx([1.0, 0.8, 0.8])
    check_saved(render_fig11a(data), data, tmp_path, "fig11a")
    with pytest.raises(ValueError, match="Available systems of v2.0"):
        build_fig11a(results, Fig11aParams(systems={"v2.0": "r282"}))


# --- Real data: the CMX power rows of v3.1 and v4.0 from the offline mirror -------------

CMX_POWER_OFFLINE = [
    f"experiment/mlperf-inference--{v}--*closed-power*offline/*/cm-result.json"
    for v in ("v3.1", "v4.0")
]


@pytest.fixture(scope="module")
def cmx_power(checkout) -> pd.DataFrame:
    from mlperf_power_dag.readers.inference_cmx import read_cmx_round

    root = checkout("cm4mlperf-results", CMX_POWER_OFFLINE)
    tables = [
        read_cmx_round(root, v, "mlcommons/cm4mlperf-results", SHA).results
        for v in ("v3.1", "v4.0")
    ]
    return pd.concat(tables, ignore_index=True)


def test_real_fig9_dgx_h100_bert_ratio(cmx_power):
    systems = {v: s for v, s in Fig9Params().systems.items() if v in ("v3.1", "v4.0")}
    data = build_fig9(cmx_power, Fig9Params(systems=systems))
    b = data.frame[data.frame["series"] == "bert-99.9"].set_index("x")
    # NVIDIA DGX-H100 8x H100-SXM-80GB MaxQ: bert-99.9 / bert-99 samples per joule.
    assert b.loc["v3.1", "y"] == pytest.approx(0.8499, abs=5e-4)
    assert b.loc["v4.0", "y"] == pytest.approx(0.8540, abs=5e-4)
    assert set(b["system"]) == {"DGX-H100_H100-SXM-80GBx8_TRT_MaxQ"}
    with pytest.raises(ValueError, match="Closest: DGX-H100_H100-SXM-80GBx8_TRT_MaxQ"):
        build_fig9(cmx_power, Fig9Params(systems={"v4.0": "DGX-H100_H100-SXM-80GBx8_TRT"}))


def test_real_fig7_dgx_h100_energy_per_sample(cmx_power, tmp_path):
    data = build_fig7(cmx_power)
    bars = data.frame[data.frame["series"] == "energy per sample"].set_index("benchmark")
    assert bars.loc["resnet50", "y"] == pytest.approx(4115.419 / 473737, rel=1e-4)
    assert bars.loc["stable-diffusion-xl", "y"] == pytest.approx(4751.583 / 9.64827, rel=1e-4)
    assert "bert-99" not in bars.index and "bert-99.9" in bars.index  # higher accuracy kept
    assert list(bars["y"]) == sorted(bars["y"], reverse=True)
    check_saved(render_fig7(data), data, tmp_path, "fig7")
