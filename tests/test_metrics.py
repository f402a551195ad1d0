"""Metrics on small synthetic InferenceResults frames with hand-computed values."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from mlperf_power_dag.metrics import (
    best_per_round,
    check_systems,
    consecutive_pairs,
    efficiency,
    normalize_to_first,
    running_max,
    same_system_pairs,
    system_series,
)
from mlperf_power_dag.schemas import InferenceResults, columns

SHA = "0" * 40


def row(
    round_: str,
    benchmark: str,
    *,
    sps: float | None = 100.0,
    power: float | None = 10.0,
    system: str = "sysA",
    submitter: str = "Acme",
    category: str = "datacenter",
    division: str = "closed",
    scenario: str = "Offline",
    accelerator: str | None = "X1",
    accelerators: int | None = 8,
    host: str | None = "CPU-1",
    valid: bool = True,
    spj: float | None | str = "auto",
) -> dict:
    """One InferenceResults row; samples_per_joule = sps / power unless given."""
    if spj == "auto":
        spj = sps / power if sps is not None and power is not None and power > 0 else None
    return {
        "round": round_,
        "category": category,
        "division": division,
        "submitter": submitter,
        "system": system,
        "system_name": f"{system} name",
        "accelerator": accelerator,
        "accelerators": accelerators,
        "nodes": 1,
        "host_processor": host,
        "availability": "available",
        "benchmark": benchmark,
        "benchmark_known": True,
        "scenario": scenario,
        "valid": valid,
        "performance": sps,
        "performance_unit": "samples/s",
        "samples_per_second": sps,
        "tokens_per_sample": None,
        "power_w": power,
        "energy_per_query_j": None,
        "samples_per_joule": spj,
        "source": "tree",
        "source_repo": f"mlcommons/inference_results_{round_}",
        "source_path": f"{division}/{submitter}/results/{system}/{benchmark}/{scenario}",
        "source_commit": SHA,
    }


def frame(rows: list[dict]) -> pd.DataFrame:
    """Validated InferenceResults frame from row dicts."""
    return InferenceResults.validate(pd.DataFrame(rows, columns=columns(InferenceResults)))


def test_efficiency_prefers_reported_value_and_derives_the_rest():
    df = frame([row("v1.0", "resnet50", sps=100, power=10, spj=12.5), row("v1.1", "resnet50")])
    df.loc[1, "samples_per_joule"] = None
    assert list(efficiency(df)) == [12.5, 10.0]


def test_best_per_round_keeps_provenance_and_counts_bad_values():
    df = frame(
        [
            row("v1.0", "resnet50", sps=100, power=10, system="a"),  # 10
            row("v1.0", "resnet50", sps=300, power=20, system="b"),  # 15 best
            row("v1.0", "resnet50", sps=900, power=10, system="c", valid=False),  # invalid
            row("v1.0", "resnet50", sps=900, power=10, system="d", division="open"),
            row("v1.0", "resnet50", sps=900, power=10, system="e", scenario="Server"),
            row("v1.0", "resnet50", sps=900, power=10, system="f", category="edge"),
            row("v1.1", "resnet50", sps=50, power=10, system="a"),  # 5
            row("v1.1", "resnet50", sps=10, power=10, system="g", spj=float("inf")),
            row("v1.1", "resnet50", sps=10, power=10, system="h", spj=float("nan")),
            row("v1.1", "resnet50", sps=500, power=None, system="nopower"),  # not a power result
        ]
    )
    # NaN efficiency with power present is derived from sps/power (1.0) -> usable.
    m = best_per_round(df)
    got = m.frame[["round", "system", "value"]].values.tolist()
    assert got == [["v1.0", "b", 15.0], ["v1.1", "a", 5.0]]
    assert m.excluded == 1  # the inf one
    assert m.frame.loc[0, "source_path"] == "closed/Acme/results/b/resnet50/Offline"
    frame_, excluded = m  # unpacks as a tuple
    assert excluded == 1 and len(frame_) == 2


def test_best_per_round_non_positive_and_division_parameter():
    df = frame(
        [
            row("v2.0", "bert-99", sps=10, power=10, system="a", division="open"),
            row("v2.0", "bert-99", sps=0.0, power=10, system="z", division="open", spj=None),
        ]
    )
    m = best_per_round(df, division="open")
    assert m.frame["value"].tolist() == [1.0]
    assert m.excluded == 1
    assert best_per_round(df).frame.empty  # closed by default


def test_running_max_carries_holder_and_normalizes_to_first_round():
    df = frame(
        [
            row("v1.0", "resnet50", sps=10, power=10, system="a"),  # 1
            row("v1.1", "resnet50", sps=30, power=10, system="b"),  # 3
            row("v2.0", "resnet50", sps=20, power=10, system="c"),  # 2 -> max stays 3 (b)
            row("v2.1", "resnet50", sps=40, power=10, system="d"),  # 4
            row("v3.0", "bert-99", sps=7, power=1, system="e"),  # single round
        ]
    )
    best = best_per_round(df).frame
    rm = running_max(best)
    res = rm[rm["benchmark"] == "resnet50"]
    assert res["x_round"].tolist() == ["v1.0", "v1.1", "v2.0", "v2.1"]
    assert res["value"].tolist() == [1.0, 3.0, 3.0, 4.0]
    assert res["round_best"].tolist() == [1.0, 3.0, 2.0, 4.0]
    assert res["system"].tolist() == ["a", "b", "b", "d"]
    assert res["round"].tolist() == ["v1.0", "v1.1", "v1.1", "v2.1"]
    norm = normalize_to_first(rm)
    assert norm[norm["benchmark"] == "resnet50"]["normalized"].tolist() == [1.0, 3.0, 3.0, 4.0]
    assert norm[norm["benchmark"] == "bert-99"]["normalized"].tolist() == [1.0]


def test_running_max_orders_rounds_by_catalog_not_text():
    df = frame(
        [
            row("v4.1", "resnet50", sps=50, power=10),
            row("v0.7", "resnet50", sps=20, power=10),
            row("v1.0", "resnet50", sps=10, power=10),
        ]
    )
    rm = running_max(best_per_round(df).frame)
    assert rm["x_round"].tolist() == ["v0.7", "v1.0", "v4.1"]
    assert rm["value"].tolist() == [2.0, 2.0, 5.0]


def test_same_system_pairs_one_to_one():
    df = frame(
        [
            row("v3.0", "bert-99", sps=200, power=10, system="a"),  # 20
            row("v3.0", "bert-99.9", sps=100, power=10, system="a"),  # 10
            row("v3.0", "bert-99", sps=300, power=10, system="b"),  # 30, no 99.9
            row("v3.1", "bert-99", sps=100, power=10, system="a"),  # 10
            row("v3.1", "bert-99.9", sps=80, power=10, system="a"),  # 8
            row("v3.1", "bert-99", sps=100, power=10, system="a", category="edge"),
            row("v3.1", "bert-99.9", sps=90, power=10, system="a", category="edge"),
            row("v3.1", "bert-99", sps=100, power=10, system="c"),
            row("v3.1", "bert-99.9", sps=100, power=10, system="c", spj=float("inf")),
        ]
    )
    m = same_system_pairs(df)
    assert m.frame[["round", "system"]].values.tolist() == [["v3.0", "a"], ["v3.1", "a"]]
    assert m.frame["ratio"].tolist() == [0.5, 0.8]
    assert m.frame["pct_drop"].tolist() == pytest.approx([50.0, 20.0])
    assert m.excluded == 1
    edge = same_system_pairs(df, category="edge")
    assert edge.frame["pct_change"].tolist() == pytest.approx([-10.0])


def test_consecutive_pairs_same_hardware_without_duplicates():
    df = frame(
        [
            # Same hardware, two software stacks in v2.0: the better one (trt) stands for it.
            row("v2.0", "resnet50", sps=100, power=10, system="trt"),  # 10
            row("v2.0", "resnet50", sps=80, power=10, system="triton"),  # 8
            row("v2.1", "resnet50", sps=120, power=10, system="trt"),  # 12 -> +20%
            row("v2.1", "resnet50", sps=60, power=10, system="triton"),  # 6
            row("v3.0", "resnet50", sps=150, power=10, system="trt"),  # 15 -> +25%
            # Different host processor: a different hardware, paired with itself only.
            row("v2.0", "resnet50", sps=50, power=10, system="amd", host="CPU-2"),
            row("v2.1", "resnet50", sps=40, power=10, system="amd", host="  cpu-2 "),  # -20%
            # Different accelerator count: no partner.
            row("v2.1", "resnet50", sps=50, power=10, system="x4", accelerators=4),
            # Skips a round (v1.0 -> v2.0 is not consecutive): not paired.
            row("v1.0", "retinanet", sps=10, power=10, system="old"),
            row("v2.0", "retinanet", sps=20, power=10, system="old"),
            # Another benchmark on the trt system pairs separately.
            row("v2.0", "bert-99", sps=10, power=10, system="trt"),
            row("v2.1", "bert-99", sps=5, power=10, system="trt"),  # -50%
        ]
    )
    m = consecutive_pairs(df)
    got = m.frame[["benchmark", "round_before", "round_after", "system_before", "system_after"]]
    assert got.values.tolist() == [
        ["bert-99", "v2.0", "v2.1", "trt", "trt"],
        ["resnet50", "v2.0", "v2.1", "amd", "amd"],
        ["resnet50", "v2.0", "v2.1", "trt", "trt"],
        ["resnet50", "v2.1", "v3.0", "trt", "trt"],
    ]
    assert m.frame["pct_change"].tolist() == pytest.approx([-50.0, -20.0, 20.0, 25.0])
    assert not m.frame.duplicated(["benchmark", "round_before", "system_before"]).any()
    assert not m.frame.duplicated(["benchmark", "round_after", "system_after"]).any()
    assert m.notes == [
        "2 results not paired: another result on the same hardware and benchmark in the "
        "same round was more efficient"
    ]


def test_system_series_and_missing_system_error():
    df = frame(
        [
            row("v1.1", "resnet50", sps=100, power=10, system="q5", category="edge"),
            row("v2.0", "resnet50", sps=110, power=9, system="q5e", category="edge"),
            row("v2.0", "resnet50", sps=500, power=50, system="other", category="edge"),
            row("v3.0", "retinanet", sps=10, power=9, system="q5e3", category="edge"),
        ]
    )
    m = system_series(df, {"v1.1": "q5", "v2.0": "q5e", "v3.0": "q5e3"}, benchmark="resnet50")
    assert m.frame[["round", "system"]].values.tolist() == [["v1.1", "q5"], ["v2.0", "q5e"]]
    assert m.frame["efficiency"].tolist() == pytest.approx([10.0, 110 / 9])
    assert m.notes == ["v3.0 q5e3: no valid resnet50 Offline result"]
    with pytest.raises(ValueError) as err:
        system_series(df, {"v2.0": "q5x"}, benchmark="resnet50")
    msg = str(err.value)
    assert "'q5x' not found in round v2.0" in msg
    assert "Available systems of v2.0: other, q5e" in msg
    with pytest.raises(ValueError, match="round v1.1 has no valid datacenter results"):
        check_systems(df, {"v1.1": "q5"}, category="datacenter")
    # A round that is not loaded at all is skipped and reported, not an error.
    assert check_systems(df, {"v4.1": "q5", "v1.1": "q5"}) == ["v4.1"]
    m = system_series(df, {"v4.1": "q5", "v1.1": "q5"}, benchmark="resnet50")
    assert m.frame["round"].tolist() == ["v1.1"]
    assert m.notes == ["v4.1: round not in the results; skipped"]


def test_empty_inputs_do_not_crash():
    df = frame([])
    assert best_per_round(df).frame.empty
    assert running_max(best_per_round(df).frame).empty
    assert same_system_pairs(df).frame.empty
    assert consecutive_pairs(df).frame.empty
    assert math.isclose(len(normalize_to_first(running_max(best_per_round(df).frame))), 0)


def test_3d_unet_before_v2_0_is_another_benchmark():
    df = frame(
        [
            row("v1.1", "3d-unet-99", sps=500, power=10),  # BraTS 2019
            row("v2.0", "3d-unet-99", sps=50, power=10),  # KiTS19
            row("v2.1", "3d-unet-99", sps=60, power=10),
        ]
    )
    best = best_per_round(df).frame
    assert best[["benchmark", "round"]].values.tolist() == [
        ["3d-unet-99-brats19", "v1.1"],
        ["3d-unet-99", "v2.0"],
        ["3d-unet-99", "v2.1"],
    ]
    pairs = consecutive_pairs(df).frame
    assert pairs[["round_before", "round_after"]].values.tolist() == [["v2.0", "v2.1"]]
    assert pairs["pct_change"].tolist() == pytest.approx([20.0])
