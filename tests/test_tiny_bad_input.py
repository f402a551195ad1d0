"""The tiny reader on a synthetic round of bad input: every problem counted, nothing crashes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from mlperf_power_dag.benchmark_ids import canonical_tiny_benchmark
from mlperf_power_dag.metrics import repeated_results
from mlperf_power_dag.readers.tiny import load_system_json, read_tiny_round
from mlperf_power_dag.schemas import Problems, TinyResults

FIXTURE = Path(__file__).parent / "fixtures" / "tiny" / "bad_round"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture(scope="module")
def bad_round():
    messages: list[str] = []
    table = read_tiny_round(FIXTURE, "v0.9", "acme/tiny_results_v0.9", COMMIT, log=messages.append)
    return table, messages


def _row(df: pd.DataFrame, system: str, benchmark: str) -> pd.Series:
    hit = df[(df["system"] == system) & (df["benchmark"] == benchmark)]
    assert len(hit) == 1, (system, benchmark)
    return hit.iloc[0]


def test_every_problem_is_counted(bad_round):
    table, messages = bad_round
    counts = table.problems["kind"].value_counts().to_dict()
    assert counts == {
        "energy_runtime_not_met": 1,
        "incomplete_window": 1,
        "mac_resource_fork": 2,
        "malformed_system_json": 1,
        "median_recomputed": 1,
        "missing_accuracy": 2,
        "missing_energy": 1,
        "missing_performance": 1,
        "missing_system_json": 2,
        "no_energy_value": 1,
        "thousands_separator": 1,
        "unparseable_value": 1,
        "unrecognized_line": 2,
    }
    Problems.validate(table.problems)
    assert (table.problems["round"] == "v0.9").all()
    assert len(messages) == 1 and "7 results, 4 with energy per inference" in messages[0]


def test_rows_are_kept_and_validated(bad_round):
    df = bad_round[0].results
    TinyResults.validate(df)
    assert len(df) == 7
    assert sorted(zip(df["system"], df["benchmark"], strict=True)) == [
        ("board_a", "ad"),
        ("board_a", "ic"),
        ("board_a", "kws"),
        ("board_a", "vww"),
        ("board_b", "ic"),
        ("board_c", "kws"),
        ("board_d", "ic"),
    ]
    assert (df["source_commit"] == COMMIT).all()
    assert set(df["source_repo"]) == {"acme/tiny_results_v0.9"}


def test_thousands_separators_parse(bad_round):
    r = _row(bad_round[0].results, "board_a", "ic")
    assert r["energy_per_inference_uj"] == 1234.5
    assert r["inferences_per_joule"] == pytest.approx(1e6 / 1234.5)
    assert r["power_w"] == pytest.approx(0.012345)
    assert r["throughput_ips"] == 10.0  # the performance run, not the energy run's printout
    assert r["latency_ms"] == pytest.approx(100.0)
    assert (r["system_name"], r["processor"], r["accelerator"]) == ("Acme Board A", "Acme M0", None)
    assert r["accuracy"] == 80.0
    probs = bad_round[0].problems
    msg = probs.loc[probs["kind"] == "thousands_separator", "message"].item()
    assert "closed/acme/results/board_a/ic/energy/results.txt" in msg


def test_performance_without_energy(bad_round):
    r = _row(bad_round[0].results, "board_a", "kws")
    assert r["throughput_ips"] == 40.0
    assert pd.isna(r["energy_per_inference_uj"]) and pd.isna(r["power_w"])
    probs = bad_round[0].problems
    assert probs.loc[probs["kind"] == "missing_energy", "source_path"].item() == (
        "closed/acme/results/board_a/kws"
    )


def test_energy_run_that_never_met_its_runtime(bad_round):
    r = _row(bad_round[0].results, "board_a", "vww")
    assert r["energy_per_inference_uj"] == 400.0  # kept as published, flagged
    probs = bad_round[0].problems
    row = probs[probs["kind"] == "energy_runtime_not_met"].iloc[0]
    assert row["severity"] == "flagged"
    assert "5 of 5" in row["message"] and "none met it" in row["message"]


def test_unparseable_window_and_line(bad_round):
    r = _row(bad_round[0].results, "board_a", "ad")
    # windows 50, 51, 52, 53 uJ (window 4 unreadable), no median line
    assert r["energy_per_inference_uj"] == 51.5
    assert r["power_w"] == pytest.approx(0.0102)
    assert r["accuracy"] == 0.85  # AUC for anomaly detection
    probs = bad_round[0].problems
    ad = probs[probs["source_path"] == "closed/acme/results/board_a/ad/energy/results.txt"]
    assert sorted(ad["kind"]) == [
        "incomplete_window",
        "median_recomputed",
        "unparseable_value",
        "unrecognized_line",
    ]
    assert "median of 4 window(s)" in ad.loc[ad["kind"] == "median_recomputed", "message"].item()


def test_missing_system_json_and_modes(bad_round):
    df, probs = bad_round[0].results, bad_round[0].problems
    b = _row(df, "board_b", "ic")
    assert pd.isna(b["system_name"]) and b["throughput_ips"] == 2.0
    c = _row(df, "board_c", "kws")
    assert pd.isna(c["throughput_ips"]) and pd.isna(c["latency_ms"])
    assert c["energy_per_inference_uj"] == 10.0 and c["system_name"] == "Acme Board C"
    d = _row(df, "board_d", "ic")
    assert pd.isna(d["energy_per_inference_uj"]) and d["throughput_ips"] == 3.0
    missing = probs.loc[probs["kind"] == "missing_system_json", "message"].tolist()
    assert any("results/board_b" in m for m in missing)
    assert any("results/board_d" in m for m in missing)
    forks = probs[probs["kind"] == "mac_resource_fork"]
    assert set(forks["severity"]) == {"skipped"}
    assert sorted(forks["source_path"]) == [
        "closed/acme/results/board_a/ic/energy/._results.txt",
        "closed/acme/systems/._board_a.json",
    ]


def test_layout_variants(tmp_path):
    """Spelled-out benchmark, extra folder level, model folder, enegy/power, new benchmark."""
    src = FIXTURE / "closed/acme/results/board_a/ic"
    root = tmp_path / "tree"
    (root / "closed/acme/systems").mkdir(parents=True)
    targets = {
        "closed/acme/results/board_a/image_classification": None,
        "closed/acme/results/tvm/board_a/kws": None,
        "open/acme/results/fpga/ic/RN07": None,
        "open/acme/results/fpga/ic/RN08": "power",
        "closed/acme/results/board_e/vww": "enegy",
        "closed/acme/results/board_a/sww": None,
    }
    for dest, energy_name in targets.items():
        shutil.copytree(src, root / dest, ignore=shutil.ignore_patterns("._*"))
        if energy_name:
            (root / dest / "energy").rename(root / dest / energy_name)
    shutil.copy(FIXTURE / "closed/acme/systems/board_a.json", root / "closed/acme/systems")
    table = read_tiny_round(root, "v0.9", "acme/t", COMMIT)
    df = table.results.set_index(["division", "system", "benchmark"])
    assert sorted(df.index) == [
        ("closed", "board_a", "ic"),
        ("closed", "board_a", "sww"),
        ("closed", "board_e", "vww"),
        ("closed", "tvm/board_a", "kws"),
        ("open", "fpga:RN07", "ic"),
        ("open", "fpga:RN08", "ic"),
    ]
    assert df.loc[("closed", "board_a", "ic"), "system_name"] == "Acme Board A"
    assert bool(df.loc[("closed", "board_a", "sww"), "benchmark_known"]) is False
    # a "per inference" energy of a streaming benchmark is not an energy per inference
    assert pd.isna(df.loc[("closed", "board_a", "sww"), "energy_per_inference_uj"])
    assert df.loc[("closed", "board_a", "sww"), "power_w"] == pytest.approx(0.012345)
    assert df.loc[("open", "fpga:RN08", "ic"), "energy_per_inference_uj"] == 1234.5
    assert df.loc[("closed", "board_e", "vww"), "energy_per_inference_uj"] == 1234.5
    counts = table.problems["kind"].value_counts().to_dict()
    assert counts["mode_folder_alias"] == 2
    assert counts["unknown_benchmark"] == 1
    assert counts["streaming_energy_per_run"] == 1


def test_duplicate_result_is_skipped(tmp_path):
    src = FIXTURE / "closed/acme/results/board_a/kws"
    for name in ("kws", "keyword_spotting"):
        shutil.copytree(src, tmp_path / "closed/acme/results/board_a" / name)
    table = read_tiny_round(tmp_path, "v0.9", "acme/t", COMMIT)
    assert len(table.results) == 1
    assert table.problems["kind"].value_counts().get("duplicate_result") == 1


def test_empty_tree(tmp_path):
    table = read_tiny_round(tmp_path, "v0.9", "acme/t", COMMIT)
    assert table.results.empty
    assert table.problems["kind"].tolist() == ["no_results"]


def test_load_system_json_leniency():
    assert load_system_json(b'{"Board Name": "X"}') == ({"Board Name": "X"}, False)
    # raw newline inside a string: accepted by the non-strict decoder
    assert load_system_json(b'{"Board Name": "X\nY"}') == ({"Board Name": "X\nY"}, False)
    truncated = b'{\n "Board Name": "X",\n "Accelerator": "",\n'
    assert load_system_json(truncated) == ({"Board Name": "X", "Accelerator": ""}, True)
    assert load_system_json(b"\xff\xfe garbage") == (None, True)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ic", ("ic", True)),
        ("image_classification", ("ic", True)),
        ("Visual_Wake_Words", ("vww", True)),
        ("keyword_spotting", ("kws", True)),
        ("anomaly_detection", ("ad", True)),
        ("sww", ("sww", False)),
        ("Foo-Bar", ("foo_bar", False)),
    ],
)
def test_canonical_tiny_benchmark(name, expected):
    assert canonical_tiny_benchmark(name) == expected


def test_repeated_results_across_rounds():
    def frame(thr: float, energy: float | None) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "submitter": ["syn"],
                "system": ["s1"],
                "benchmark": ["kws"],
                "throughput_ips": [thr],
                "energy_per_inference_uj": [energy],
                "accuracy": [91.1],
            }
        )

    rep = repeated_results(
        {"v1.1": frame(2.0, 3.0), "v1.0": frame(2.0, 3.0), "v1.2": frame(2.5, 3.0)}
    )
    assert rep.to_dict("records") == [
        {
            "round": "v1.1",
            "submitter": "syn",
            "system": "s1",
            "benchmark": "kws",
            "first_round": "v1.0",
        }
    ]
