"""MLPerf Training power rounds: scores equal mlperf-logging's summarizer and MLCommons' table."""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from mlperf_logging.compliance_checker.mlp_parser import parse_file
from mlperf_logging.result_summarizer import result_summarizer as rs

from mlperf_power_dag.parsers.training_logs import (
    ResultLogError,
    node_energy,
    read_result_log,
    ruleset_for,
    score_benchmark_folder,
)
from mlperf_power_dag.readers.training import SPARSE_PATTERNS, read_training_round
from mlperf_power_dag.schemas import TrainingResults, columns

V40, V41 = "training_results_v4.0", "training_results_v4.1"
LLAMA = "llama2_70b_lora"


def _only(benchmark_folders: list[str]) -> list[str]:
    """SPARSE_PATTERNS narrowed to some ``<system>/<benchmark>`` folders (keeps tests fast)."""
    out = [p for p in SPARSE_PATTERNS if "/results/" not in p]
    for folder in benchmark_folders:
        sub, system, bench = folder.split("/")
        out += [
            p.replace("/*/results/*/*/", f"/{sub}/results/{system}/{bench}/")
            for p in SPARSE_PATTERNS
            if "/results/" in p
        ]
    return out


LLAMA_FOLDERS = [
    f"smc-{kind}-power/{n}xSMC-H100-SXM-80GB/{LLAMA}" for kind in ("ac", "dc") for n in (1, 8, 64)
]


def _commit(root: Path) -> str:
    out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True)
    return out.stdout.decode().strip()


@pytest.fixture(scope="module")
def llama_root(checkout) -> Path:
    return checkout(V40, _only(LLAMA_FOLDERS))


@pytest.fixture(scope="module")
def llama(llama_root: Path):
    return read_training_round(llama_root, "v4.0", f"mlcommons/{V40}", _commit(llama_root))


def _row(table, submitter: str, accelerators: int) -> pd.Series:
    r = table.results
    hit = r[(r.submitter == submitter) & (r.accelerators == accelerators) & (r.benchmark == LLAMA)]
    assert len(hit) == 1
    return hit.iloc[0]


# ------------------------------------------------------------------ real data, v4.0


def test_sparse_patterns_fetch_what_the_summarizer_reads(llama_root: Path):
    files = {p.relative_to(llama_root).as_posix() for p in llama_root.rglob("*.txt")}
    folder = f"smc-dc-power/results/64xSMC-H100-SXM-80GB/{LLAMA}"
    assert sum(f.startswith(f"{folder}/result_") for f in files) == 10
    assert sum(f.startswith(f"{folder}/power/") and "/node_" in f for f in files) == 640
    assert sum(f.startswith(f"{folder}/power/") and "/sw_" in f for f in files) == 10
    assert not any(f.endswith("total_power.txt") for f in files)  # not read by the summarizer
    assert (llama_root / folder / "scaling.json").is_file()
    assert (llama_root / "smc-dc-power/systems/64xSMC-H100-SXM-80GB.json").is_file()


def test_round_table_is_valid_and_one_row_per_folder(llama):
    r = llama.results
    assert list(r.columns) == columns(TrainingResults)
    TrainingResults.validate(r)
    assert len(r) == 6
    assert sorted(zip(r.submitter, r.accelerators, strict=True)) == [
        ("smc-ac-power", 8),
        ("smc-ac-power", 64),
        ("smc-ac-power", 512),
        ("smc-dc-power", 8),
        ("smc-dc-power", 64),
        ("smc-dc-power", 512),
    ]
    assert set(r.division) == {"closed"} and set(r["round"]) == {"v4.0"}
    assert set(r.accelerator) == {"NVIDIA H100-SXM5-80GB"}
    assert r.source_commit.str.fullmatch(r"[0-9a-f]{40}").all()


# Figure 6: llama2_70b_lora, v4.0 power submissions at 8, 64 and 512 accelerators.
FIGURE6 = [
    # submitter, accelerators, nodes, minutes, energy J, compute J, interconnect J, AC/DC
    ("smc-ac-power", 8, 1, 29.10068730, 12127904.43, 12127904.43, 0.0, "AC"),
    ("smc-ac-power", 64, 8, 5.488485706, 20644274.64, 15342397.45, 5301877.19, "AC"),
    ("smc-ac-power", 512, 64, 2.014838790, 46574812.84, 39373376.04, 7201436.80, "AC"),
    ("smc-dc-power", 8, 1, 29.10068730, 11769962.27, 11769962.27, 0.0, "DC"),
    ("smc-dc-power", 64, 8, 5.488485706, 20381549.45, 15079672.26, 5301877.19, "DC"),
    ("smc-dc-power", 512, 64, 2.014838790, 45837401.66, 38635964.86, 7201436.80, "DC"),
]


@pytest.mark.parametrize("case", FIGURE6, ids=lambda c: f"{c[0]}-{c[1]}")
def test_figure6_llama2_energy_and_time_to_train(llama, case):
    submitter, accelerators, nodes, minutes, energy, compute, interconnect, kind = case
    row = _row(llama, submitter, accelerators)
    assert row.nodes == nodes
    assert row.time_to_train_min == pytest.approx(minutes, rel=1e-9)
    assert row.energy_j == pytest.approx(energy, rel=1e-9)
    assert row.compute_energy_j == pytest.approx(compute, rel=1e-9)
    assert row.interconnect_energy_j == pytest.approx(interconnect, rel=1e-9, abs=1e-6)
    assert row.compute_energy_j + row.interconnect_energy_j == pytest.approx(row.energy_j)
    assert row.average_power_w == pytest.approx(energy / (minutes * 60), rel=1e-9)
    assert row.runs_used == 8  # 10 runs, best and worst dropped
    assert row.power_measurement == kind


# MLCommons' published v4.0 results table (results page; the same numbers in the HPCA'25
# paper repository aryatschand/MLPerf-Power-HPCA-2025, code/data_cleaned_training.csv, public
# IDs 4.0-0090 ... 4.0-0097): energy in kJ to 2 decimals and time to train in minutes to 3.
PUBLISHED_V40 = {
    ("smc-ac-power", "1xSMC-H100-SXM-80GB", LLAMA): (12127.90, 29.101),
    ("smc-ac-power", "8xSMC-H100-SXM-80GB", LLAMA): (20644.28, 5.488),
    ("smc-ac-power", "64xSMC-H100-SXM-80GB", LLAMA): (46574.81, 2.015),
    ("smc-dc-power", "1xSMC-H100-SXM-80GB", LLAMA): (11769.96, 29.101),
    ("smc-dc-power", "8xSMC-H100-SXM-80GB", LLAMA): (20381.55, 5.488),
    ("smc-dc-power", "64xSMC-H100-SXM-80GB", LLAMA): (45837.40, 2.015),
    ("smc-ac-power", "8xSMC-H100-SXM-80GB", "resnet"): (7867.17, 2.554),
    ("smc-dc-power", "1xSMC-H100-SXM-80GB", "dlrm_dcnv2"): (1265.89, 3.836),
}


def _published_check(table, key):
    kj, minutes = PUBLISHED_V40[key]
    r = table.results
    hit = r[(r.submitter == key[0]) & (r.system == key[1]) & (r.benchmark == key[2])]
    assert len(hit) == 1
    # The table rounds twice (to 3 decimals, then 2: 20644.2746 -> 20644.28), so 0.0055.
    assert hit.iloc[0].energy_j / 1000 == pytest.approx(kj, abs=0.0055)
    assert hit.iloc[0].time_to_train_min == pytest.approx(minutes, abs=0.0005)


@pytest.mark.parametrize("key", [k for k in PUBLISHED_V40 if k[2] == LLAMA])
def test_llama2_equals_published_v40(llama, key):
    _published_check(llama, key)


@pytest.fixture(scope="module")
def quirks(checkout):
    """8x resnet (stop == start, readings out of order) and 1x dlrm_dcnv2 (duplicated runs)."""
    root = checkout(
        V40,
        _only(
            [
                "smc-ac-power/8xSMC-H100-SXM-80GB/resnet",
                "smc-dc-power/1xSMC-H100-SXM-80GB/dlrm_dcnv2",
            ]
        ),
    )
    return read_training_round(root, "v4.0", f"mlcommons/{V40}", _commit(root))


@pytest.mark.parametrize("key", [k for k in PUBLISHED_V40 if k[2] != LLAMA])
def test_quirky_folders_equal_published_v40(quirks, key):
    _published_check(quirks, key)


def test_quirks_are_flagged(quirks):
    p = quirks.problems
    counts = p.groupby("kind").size().to_dict()
    assert counts["power_stop_equals_start"] == 2
    assert counts["readings_out_of_order"] == 1  # resnet: 7 of its 40 node logs
    assert counts["duplicate_runs"] == 1
    dup = p[p.kind == "duplicate_runs"].iloc[0]
    assert dup.source_path == "smc-dc-power/results/1xSMC-H100-SXM-80GB/dlrm_dcnv2"
    assert "5 files" in dup.message and "_raw_06.txt repeats" in dup.message
    ooo = p[p.kind == "readings_out_of_order"].iloc[0]
    assert ooo.message.startswith("smc-ac-power/results/8xSMC-H100-SXM-80GB/resnet: 7 files")
    assert set(p.severity) == {"flagged"}


def _org_of(root: Path, sub: str, systems: list[str], dest: Path) -> Path:
    """A submitter folder holding only some systems (symlinks), for the summarizer."""
    org = dest / sub
    (org / "results").mkdir(parents=True)
    (org / "systems").symlink_to(root / sub / "systems")
    for system in systems:
        (org / "results" / system).symlink_to(root / sub / "results" / system)
    return org


@pytest.mark.parametrize("sub", ["smc-ac-power", "smc-dc-power"])
def test_equals_mlperf_logging_summarizer(llama, llama_root, tmp_path, sub):
    systems = ["8xSMC-H100-SXM-80GB", "64xSMC-H100-SXM-80GB"]
    org = _org_of(llama_root, sub, systems, tmp_path)
    with contextlib.redirect_stdout(io.StringIO()):
        _, _, detailed, _ = rs.summarize_results(str(org), "training", "4.0.0")
    assert len(detailed) == 2
    for _, s in detailed.iterrows():
        row = _row(llama, sub, int(s.accelerators_count))
        assert row.energy_j == pytest.approx(s[f"{LLAMA}:Energy"], rel=1e-12)
        assert row.time_to_train_min == pytest.approx(s[f"{LLAMA}:time_to_train"], rel=1e-12)


def test_per_run_energy_equals_summarizer(llama_root):
    folder = llama_root / "smc-dc-power/results/64xSMC-H100-SXM-80GB" / LLAMA
    with contextlib.redirect_stdout(io.StringIO()):
        times, energies, score, energy, factor = rs._compute_strong_score_standalone(
            LLAMA,
            "64xSMC-H100-SXM-80GB",
            True,
            str(folder),
            "training",
            "4.0.0",
            {"submitter": None},
            True,
        )
    ours = score_benchmark_folder(folder, "4.0.0", nodes=64)
    assert len(ours.runs) == len(energies) == 10
    for run in ours.runs:
        assert run.energy_j == pytest.approx(energies[str(run.path)], rel=1e-12)
        assert run.log.minutes == pytest.approx(times[str(run.path)], rel=1e-15)
        assert run.nodes == 64 and run.switches == 1
    assert (ours.energy_j, ours.time_to_train_min) == (pytest.approx(energy), pytest.approx(score))
    assert ours.scaling_factor == factor == pytest.approx(1.0317460317460319)


def test_single_node_llama2_breaks_current_summarizer_but_not_us(llama, llama_root):
    """mlperf-logging 4.1.68 divides by zero where the node logs' stop equals their start."""
    folder = llama_root / "smc-dc-power/results/1xSMC-H100-SXM-80GB" / LLAMA
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(ZeroDivisionError):
        rs._compute_strong_score_standalone(
            LLAMA, "1xSMC-H100-SXM-80GB", True, str(folder), "training", "4.0.0"
        )
    flagged = llama.problems[llama.problems.kind == "power_stop_equals_start"]
    assert sorted(flagged.source_path) == [
        f"smc-ac-power/results/1xSMC-H100-SXM-80GB/{LLAMA}",
        f"smc-dc-power/results/1xSMC-H100-SXM-80GB/{LLAMA}",
    ]
    assert all("10 files" in m for m in flagged.message)
    # Single node: no switch logs and none needed; not flagged as missing.
    assert "no_switch_logs" not in set(llama.problems.kind)
    assert _row(llama, "smc-dc-power", 8).interconnect_energy_j == 0.0


def test_llama2_problems_are_counted(llama):
    assert llama.problems.groupby("kind").size().to_dict() == {
        "power_stop_equals_start": 2,
        "power_type_from_system_name": 6,  # SMC logs do not say AC/DC; the system name does
    }


# ------------------------------------------------------------------ real data, v4.1


@pytest.fixture(scope="module")
def v41(checkout):
    root = checkout(V41, list(SPARSE_PATTERNS))
    return root, read_training_round(root, "v4.1", f"mlcommons/{V41}", _commit(root))


def test_v41_dell_row_equals_summarizer(v41):
    root, table = v41
    assert len(table.results) == 1
    row = table.results.iloc[0]
    assert (row.submitter, row.system, row.benchmark) == (
        "Dell",
        "8xXE9680x8H100-SXM-80GB-POWER",
        LLAMA,
    )
    assert (row.accelerators, row.nodes, row.runs_used) == (64, 8, 8)
    assert row.power_measurement == "AC"  # from conversion_eff's metadata in the node logs
    folder = root / "Dell/results/8xXE9680x8H100-SXM-80GB-POWER" / LLAMA
    with contextlib.redirect_stdout(io.StringIO()):
        score, energy, _ = rs._compute_strong_score_standalone(
            LLAMA, "x", True, str(folder), "training", "4.1.0"
        )
    assert row.time_to_train_min == pytest.approx(score, rel=1e-12)
    assert row.time_to_train_min == pytest.approx(5.051522250280583, rel=1e-12)
    assert row.energy_j == pytest.approx(energy, rel=1e-12)
    assert row.energy_j == pytest.approx(16384267.9502019, rel=1e-11)


def test_v41_dell_switch_readings_counted_as_zero_and_flagged(v41):
    _, table = v41
    row = table.results.iloc[0]
    assert row.interconnect_energy_j == 0.0
    assert row.compute_energy_j == pytest.approx(row.energy_j)
    p = table.problems
    assert p.kind.tolist() == ["switch_readings_not_counted"]
    msg = p.iloc[0].message
    assert "10 files" in msg and "would add 201,072 J (1.2%)" in msg


# ------------------------------------------------------------------ synthetic edge cases


def _line(t: float, key: str, value=None, metadata: object = "") -> str:
    return ":::MLLOG " + json.dumps(
        {
            "namespace": "",
            "time_ms": t,
            "event_type": "POINT_IN_TIME",
            "key": key,
            "value": value,
            "metadata": metadata,
        }
    )


def _power_log(
    path: Path,
    watts: list[float],
    *,
    start: float = 1_000_000,
    stop: float | None = None,
    with_start: bool = True,
    measurement: str | None = None,
) -> None:
    """Readings every second from `start` + 1 s; the stop line last (at the last reading)."""
    lines = [_line(start, "power_measurement_start")] if with_start else []
    if measurement:
        lines.append(_line(start, "conversion_eff", 1.0, {"measurement_type": measurement}))
    lines += [_line(start + 1000 * (i + 1), "power_reading", w) for i, w in enumerate(watts)]
    lines.append(
        _line(start + 1000 * len(watts) if stop is None else stop, "power_measurement_stop")
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def _estimate_log(path: Path, watts: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_line(1_000_000, "interconnect_power_est", watts, {"switch_id": "s"}) + "\n")


@pytest.fixture(scope="module")
def real_result_logs(llama_root) -> list[Path]:
    folder = llama_root / "smc-dc-power/results/1xSMC-H100-SXM-80GB" / LLAMA
    logs = sorted(folder.glob("result_*.txt"))
    assert len(logs) == 10
    return logs


def _synthetic(
    tmp_path: Path,
    logs: list[Path],
    *,
    nodes: int = 2,
    node_watts: tuple[float, ...] = (1000.0, 500.0),
    switch_watts: float | None = 200.0,
    scaling: str | None = '{"scaling_factor": 1.05}',
    system_json: bool = True,
    system_name: str = "Synthetic",
) -> Path:
    """org/results/SYN/llama2_70b_lora: 10 real result logs, synthetic power logs."""
    org = tmp_path / "org"
    folder = org / "results" / "SYN" / LLAMA
    folder.mkdir(parents=True)
    if system_json:
        (org / "systems").mkdir()
        (org / "systems" / "SYN.json").write_text(
            '{"submitter": "Synthetic", "division": "closed", "system_name": "' + system_name + '",'
            f' "number_of_nodes": "{nodes}", "accelerators_per_node": "8",'
            ' "accelerator_model_name": "Test Accelerator"}'
        )
    for i, log in enumerate(logs):
        (folder / f"result_{i}.txt").write_bytes(log.read_bytes())
        for n, watts in enumerate(node_watts):
            _power_log(folder / "power" / f"result_{i}" / f"node_{n}.txt", [watts] * 60)
        if switch_watts is not None:
            _estimate_log(folder / "power" / f"result_{i}" / "sw_0.txt", switch_watts)
    if scaling is not None:
        (folder / "scaling.json").write_text(scaling)
    return org


def _read(org: Path):
    return read_training_round(org.parent, "v4.0", "test/synthetic", "0" * 40)


def _minutes(logs: list[Path]) -> list[float]:
    return [read_result_log(p, "4.0.0").minutes for p in logs]


def _olympic(minutes: list[float], dropped: int = 0) -> float:
    kept = sorted(minutes)[1 : len(minutes) - (1 - dropped)]
    return sum(kept) / len(kept)


def test_synthetic_energy_is_power_times_time(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs)
    table = _read(org)
    assert len(table.results) == 1 and table.problems.empty
    row = table.results.iloc[0]
    minutes = _olympic(_minutes(real_result_logs)) * 1.05
    seconds = minutes * 60
    assert row.time_to_train_min == pytest.approx(minutes, rel=1e-12)
    assert row.compute_energy_j == pytest.approx(1500 * seconds, rel=1e-12)
    assert row.interconnect_energy_j == pytest.approx(200 * seconds, rel=1e-12)
    assert row.energy_j == pytest.approx(1700 * seconds, rel=1e-12)
    assert row.average_power_w == pytest.approx(1700, rel=1e-12)
    assert (row.accelerators, row.nodes, row.runs_used) == (16, 2, 8)
    assert row.source_path == f"org/results/SYN/{LLAMA}"


def _set_line(path: Path, key: str, old: str, new: str, last: bool = False) -> None:
    lines = path.read_text(encoding="latin-1").splitlines()
    idx = [i for i, line in enumerate(lines) if f'"key": "{key}"' in line]
    i = idx[-1] if last else idx[0]
    assert old in lines[i]
    lines[i] = lines[i].replace(old, new)
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")


def _abort(path: Path) -> None:
    """Make a run not converge: every evaluation above the target, run_stop aborted."""
    text = path.read_text(encoding="latin-1")
    text = re.sub(r'("key": "eval_accuracy", "value": )[0-9.]+', r"\g<1>0.95", text)
    path.write_text(text, encoding="latin-1")
    _set_line(path, "run_stop", '"status": "success"', '"status": "aborted"')


def test_non_converged_run_is_dropped_and_counted(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs)
    folder = org / "results/SYN" / LLAMA
    _abort(folder / "result_4.txt")
    with pytest.raises(ResultLogError) as e:
        read_result_log(folder / "result_4.txt", "4.0.0")
    assert e.value.kind == "not_converged"
    table = _read(org)
    p = table.problems
    assert p[["source_path", "kind", "severity"]].values.tolist() == [
        [f"org/results/SYN/{LLAMA}/result_4.txt", "not_converged", "skipped"]
    ]
    assert "result_4.txt: run_stop status 'aborted'" in p.iloc[0].message
    row = table.results.iloc[0]
    kept = [m for i, m in enumerate(_minutes(real_result_logs)) if i != 4]
    # The dropped run stands for the worst: only the best of the other 9 is dropped.
    assert row.runs_used == 8
    assert row.time_to_train_min == pytest.approx(_olympic(kept, dropped=1) * 1.05, rel=1e-12)
    assert row.energy_j == pytest.approx(1700 * row.time_to_train_min * 60, rel=1e-12)


def test_two_non_converged_runs_leave_no_score(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs)
    folder = org / "results/SYN" / LLAMA
    _abort(folder / "result_1.txt")
    _abort(folder / "result_7.txt")
    table = _read(org)
    assert table.results.empty
    assert table.problems.kind.tolist() == [
        "not_converged",
        "not_converged",
        "too_many_dropped_runs",
    ]
    assert "2 of 10 runs dropped (at most 1 allowed)" in table.problems.message.iloc[2]


def test_result_failing_compliance_is_dropped(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs)
    bad = org / "results/SYN" / LLAMA / "result_2.txt"
    _set_line(bad, "lora_rank", '"value": 16', '"value": 8')
    table = _read(org)
    p = table.problems
    assert p.kind.tolist() == ["compliance_failed"]
    assert p.iloc[0].source_path.endswith("result_2.txt")
    assert p.iloc[0].message.startswith("result_2.txt: fails the 4.0.0 compliance check")
    assert table.results.iloc[0].runs_used == 8


def test_node_log_without_start_leaves_energy_empty(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs)
    node = org / "results/SYN" / LLAMA / "power/result_3/node_1.txt"
    _power_log(node, [500.0] * 60, with_start=False)
    table = _read(org)
    row = table.results.iloc[0]
    assert pd.isna(row.energy_j) and pd.isna(row.compute_energy_j)
    assert pd.isna(row.interconnect_energy_j) and pd.isna(row.average_power_w)
    assert row.time_to_train_min > 0  # the score itself stands
    p = table.problems.set_index("kind")
    assert p.loc["no_power_start", "source_path"].endswith("power/result_3/node_1.txt")
    assert "node_1.txt: no power_measurement_start" in p.loc["no_power_start", "message"]
    assert "1 of 10 counted runs" in p.loc["energy_unknown", "message"]


def test_missing_switch_logs_count_zero_and_are_flagged(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs, switch_watts=None)
    table = _read(org)
    row = table.results.iloc[0]
    assert row.interconnect_energy_j == 0.0
    assert row.energy_j == pytest.approx(1500 * row.time_to_train_min * 60, rel=1e-12)
    p = table.problems
    assert p.kind.tolist() == ["no_switch_logs"]
    assert "10 of 10 runs have no sw_*.txt" in p.iloc[0].message


def test_switch_readings_follow_summarizer_and_are_flagged(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs, switch_watts=None)
    for i in range(10):
        sw = org / "results/SYN" / LLAMA / f"power/result_{i}/sw_0.txt"
        # Dell v4.1 style: measured readings, own clock (5 h off), no estimate.
        _power_log(sw, [300.0] * 60, start=1_000_000 - 5 * 3600 * 1000, measurement="AC")
    table = _read(org)
    row = table.results.iloc[0]
    assert row.interconnect_energy_j == 0.0  # as mlperf-logging counts it
    would_add = 300 * row.time_to_train_min * 60
    p = table.problems
    assert p.kind.tolist() == ["switch_readings_not_counted"]
    assert f"would add {would_add:,.0f} J (20.0%)" in p.iloc[0].message


def test_stop_equal_to_start_uses_last_reading(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs)
    folder = org / "results/SYN" / LLAMA
    watts = [1000.0] * 5 + [3000.0] * 5  # 2000 W on average over [start, last reading]
    for i in range(10):
        for n in range(2):
            log = folder / f"power/result_{i}/node_{n}.txt"
            _power_log(log, watts, stop=1_000_000)  # stop == start, at the end
    lines, _ = parse_file(str(folder / "power/result_0/node_0.txt"), "4.0.0")
    with contextlib.redirect_stdout(io.StringIO()), pytest.raises(ZeroDivisionError):
        rs._compute_power_node(lines, 60_000.0)  # the bug in mlperf-logging 4.1.68
    one = node_energy(folder / "power/result_0/node_0.txt", 60_000.0, "4.0.0")
    assert one.energy_j == pytest.approx(2000 * 60, rel=1e-12)
    table = _read(org)
    row = table.results.iloc[0]
    assert row.compute_energy_j == pytest.approx(4000 * row.time_to_train_min * 60, rel=1e-12)
    p = table.problems
    assert p.kind.tolist() == ["power_stop_equals_start"]
    assert p.iloc[0].message.startswith(f"org/results/SYN/{LLAMA}: 20 files, e.g. result_0/")


def test_stop_before_start_is_not_a_silent_zero(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs)
    log = org / "results/SYN" / LLAMA / "power/result_0/node_0.txt"
    _power_log(log, [1000.0] * 60, stop=999_000)
    lines, _ = parse_file(str(log), "4.0.0")
    with contextlib.redirect_stdout(io.StringIO()):
        assert rs._compute_power_node(lines, 60_000.0) == 0.0  # 4.1.68: a silent zero
    assert node_energy(log, 60_000.0, "4.0.0").energy_j == pytest.approx(1000 * 60)
    assert _read(org).problems.kind.tolist() == ["power_stop_before_start"]


def test_power_type_from_logs_wins_over_system_name(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs, system_name="SYN-DC-Power")
    for i in range(10):
        for n, w in enumerate((1000.0, 500.0)):
            log = org / "results/SYN" / LLAMA / f"power/result_{i}/node_{n}.txt"
            _power_log(log, [w] * 60, measurement="AC")
    table = _read(org)
    assert table.results.iloc[0].power_measurement == "AC"  # the system name says DC
    assert table.problems.empty


def test_bad_scaling_json_skips_the_result(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs, scaling="{oops")
    table = _read(org)
    assert table.results.empty
    p = table.problems
    assert p.kind.tolist() == ["bad_scaling_json"]
    assert p.iloc[0].source_path == f"org/results/SYN/{LLAMA}/scaling.json"


def test_results_without_power_or_system_are_skipped(tmp_path, real_result_logs):
    org = _synthetic(tmp_path, real_result_logs, system_json=False)
    plain = org / "results/SYN/bert"
    plain.mkdir()
    (plain / "result_0.txt").write_bytes(real_result_logs[0].read_bytes())
    table = _read(org)
    assert table.results.empty
    assert table.problems[["source_path", "kind"]].values.tolist() == [
        ["org/results/SYN/bert", "no_power"],
        ["org/systems/SYN.json", "no_system_json"],
    ]
    TrainingResults.validate(table.results)


def test_unsupported_round_is_a_problem(tmp_path):
    with pytest.raises(ValueError):
        ruleset_for("v9.9")
    table = read_training_round(tmp_path, "v9.9", "test/synthetic", "0" * 40)
    assert table.results.empty
    assert table.problems.kind.tolist() == ["unsupported_round"]


# ------------------------------------------------------------------ MLLOG files, fast reader


def _mllog(key: str, value: str, time_ms: str = "1715294008538", meta: str = '""') -> str:
    return (
        f':::MLLOG {{"namespace": "", "time_ms": {time_ms}, "event_type": "POINT_IN_TIME", '
        f'"key": "{key}", "value": {value}, "metadata": {meta}}}'
    )


STANDARD_MLLOG = [
    ':::MLLOG {"namespace":"","time_ms":1715294004458,"event_type":"INTERVAL_START",'
    '"key":"power_measurement_start","value":"null","metadata":""}',
    _mllog("power_reading", "2246"),
    _mllog("power_reading", "2246.5", time_ms="1715294010476.25"),
    _mllog("power_reading", "-0"),
    _mllog("conversion_eff", "0.95", meta='{"measurement_type": "AC"}'),
    _mllog("run_stop", "null", meta='{"status": "success", "epoch_num": 3}'),
    _mllog("eval", '{"a": [1, 2.5e3]}') + "   ",
    _mllog("empty", '""'),
]
ODD_MLLOG = [
    "[1,0]<stdout>:" + _mllog("prefixed", "1"),
    _mllog("twice", "1") + _mllog("again", "2"),
    _mllog("tab", '"a\tb"'),
    _mllog("latin", '"\xe9"'),
    _mllog("nel", '"a\x85b"'),
    _mllog("runs\non", "1"),
    _mllog("dup", '1, "key": "renamed"'),
    _mllog("neg", "1", time_ms="-0"),
    _mllog("power_reading", "007"),
    _mllog("power_reading", "1" * 5000),
    _mllog("power_reading", "12", time_ms="1" * 19),
    _mllog("huge", "1", time_ms="1" * 400),
    _mllog("esc", '"a\\nb"'),
    _mllog("none", ""),
    ":::MLLOG [1, 2]",
    ":::MLLOG ",
    ':::MLLOG {"time_ms": 1}',
    "plain text",
]


def _same_lines(path: Path) -> None:
    from mlperf_power_dag.parsers.training_logs import read_mllog_file

    def key(ll):
        return (ll.full_string, repr(ll.timestamp), ll.key, repr(ll.value), ll.lineno)

    try:
        want = parse_file(str(path), ruleset="4.0.0")
    except Exception as e:  # the same failure is expected
        with pytest.raises(type(e)):
            read_mllog_file(path, "4.0.0")
        return
    got = read_mllog_file(path, "4.0.0")
    assert [key(x) for x in got[0]] == [key(x) for x in want[0]]
    assert got[1] == want[1]


@pytest.mark.parametrize("odd", [None, *ODD_MLLOG])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_read_mllog_file_equals_mlperf_logging_parse_file(tmp_path, odd, newline):
    lines = STANDARD_MLLOG if odd is None else [*STANDARD_MLLOG[:3], odd, *STANDARD_MLLOG[3:]]
    path = tmp_path / "node_0.txt"
    path.write_bytes(newline.join(lines).encode("latin-1") + b"\n")
    _same_lines(path)
    if odd is None:  # every line of the standard form: mlperf-logging's decoder is not needed
        from mlperf_power_dag.parsers.training_logs import read_mllog_file

        decoded: list[str] = []

        def decode(lineno: int, line: str) -> None:
            decoded.append(line)

        loglines, failed = read_mllog_file(path, "4.0.0", decode=decode)
        assert len(loglines) == len(STANDARD_MLLOG) and failed == [] and decoded == []
