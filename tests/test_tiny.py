"""MLPerf Tiny v0.5-v1.3 read from the offline mirror, and cross-checked against MLCommons'
published summaries (v1.2 summary.csv, CMX tiny results for v0.7/v1.0/v1.1)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from mlperf_power_dag import tiny_crosscheck as cc
from mlperf_power_dag.metrics import repeated_results
from mlperf_power_dag.parsers.tiny_results import (
    agrees,
    energy_from_results_json,
    parse_energy_text,
    parse_performance_text,
    parse_runner_log,
    precision,
    throughputs_from_results_json,
)
from mlperf_power_dag.readers.tiny import SPARSE_PATTERNS, read_tiny_round
from mlperf_power_dag.rounds.catalog import rounds
from mlperf_power_dag.schemas import TinyResults

VERSIONS = ["v0.5", "v0.7", "v1.0", "v1.1", "v1.2", "v1.3"]


def _head(root: Path) -> str:
    out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True)
    return out.stdout.decode().strip()


@pytest.fixture(scope="session")
def tiny_root(checkout):
    return lambda version: checkout(f"tiny_results_{version}", SPARSE_PATTERNS)


@pytest.fixture(scope="session")
def tiny(tiny_root):
    """version -> (RoundTable, log messages), read once per session."""
    cache: dict[str, tuple] = {}

    def get(version: str):
        if version not in cache:
            root = tiny_root(version)
            msgs: list[str] = []
            table = read_tiny_round(
                root, version, f"mlcommons/tiny_results_{version}", _head(root), log=msgs.append
            )
            cache[version] = (table, msgs)
        return cache[version]

    return get


def _one(df: pd.DataFrame, submitter: str, system: str, benchmark: str) -> pd.Series:
    hit = df[(df.submitter == submitter) & (df.system == system) & (df.benchmark == benchmark)]
    assert len(hit) == 1, (submitter, system, benchmark, len(hit))
    return hit.iloc[0]


def test_catalog_tiny_rounds_are_the_ones_read():
    assert [r.version for r in rounds("tiny")] == VERSIONS


# Rows, rows with energy per inference, rows with an energy run (power_w), problems by kind.
EXPECTED = {
    "v0.5": (
        19,
        4,
        4,
        {
            "energy_runtime_not_met": 2,
            "missing_accuracy": 15,
            "performance_runtime_not_met": 1,
            "system_json_division_mismatch": 1,
            "system_json_submitter_mismatch": 1,
            "throughput_from_log": 14,
        },
    ),
    "v0.7": (
        59,
        34,
        34,
        {
            "energy_runtime_not_met": 1,
            "missing_system_json": 5,
            "mode_folder_alias": 8,
            "performance_runtime_not_met": 2,
            "repeated_lines": 18,
        },
    ),
    "v1.0": (
        60,
        39,
        39,
        {
            "malformed_system_json": 3,
            "median_recomputed": 1,
            "missing_system_json": 5,
            "mode_folder_alias": 2,
        },
    ),
    "v1.1": (
        111,
        41,
        41,
        {
            "energy_runtime_not_met": 5,
            "missing_energy": 1,
            "performance_runtime_not_met": 4,
            "system_json_division_mismatch": 2,
            "system_json_submitter_mismatch": 4,
        },
    ),
    "v1.2": (
        73,
        18,
        18,
        {
            "performance_runtime_not_met": 5,
            "repeated_lines": 4,
            "system_json_division_mismatch": 2,
            "system_json_submitter_mismatch": 3,
        },
    ),
    "v1.3": (
        43,
        18,
        27,
        {
            "missing_energy": 3,
            "missing_performance": 4,
            "streaming_energy_per_run": 9,
            "system_json_division_mismatch": 2,
            "unknown_benchmark": 1,
        },
    ),
}
# Energy results per round as counted in the notes (files under a folder named "energy").
NOTES_ENERGY = {"v0.5": 4, "v0.7": 26, "v1.0": 37, "v1.1": 41, "v1.2": 18, "v1.3": 27}


@pytest.mark.parametrize("version", VERSIONS)
def test_round_counts(tiny, version):
    table, msgs = tiny(version)
    df = table.results
    TinyResults.validate(df)
    rows, with_epi, energy_runs, problems = EXPECTED[version]
    assert len(df) == rows
    assert int(df["energy_per_inference_uj"].notna().sum()) == with_epi
    assert int(df["power_w"].notna().sum()) == energy_runs
    assert table.problems["kind"].value_counts().to_dict() == problems
    assert (df["round"] == version).all()
    assert df["source_commit"].str.fullmatch(r"[0-9a-f]{40}").all()
    assert len(msgs) == 1 and msgs[0].startswith(f"tiny {version}: {rows} results")


@pytest.mark.parametrize("version", VERSIONS)
def test_energy_results_match_the_notes(tiny, version):
    """The notes count energy folders; `enegy` (v1.0) and hls4ml's `power` folders (v0.7 8,
    v1.0 1) hold energy-mode output too and are read (flagged mode_folder_alias)."""
    table, _ = tiny(version)
    energy_runs = int(table.results["power_w"].notna().sum())
    aliased = int((table.problems["kind"] == "mode_folder_alias").sum())
    assert energy_runs - aliased == NOTES_ENERGY[version]


def test_v05(tiny):
    df = tiny("v0.5")[0].results
    ic = _one(df, "reference", "Nucleo-L4R5ZI", "ic")
    assert ic["energy_per_inference_uj"] == 29207.010
    assert ic["throughput_ips"] == 1.420
    assert ic["power_w"] == pytest.approx(0.041476910)  # median window power, uW -> W
    assert ic["inferences_per_joule"] == pytest.approx(1e6 / 29207.010)
    assert ic["accuracy"] == 86.5
    assert _one(df, "reference", "Nucleo-L4R5ZI", "kws")["energy_per_inference_uj"] == 7373.704
    assert _one(df, "reference", "Nucleo-L4R5ZI", "vww")["energy_per_inference_uj"] == 24312.648
    assert _one(df, "reference", "Nucleo-L4R5ZI", "ad")["energy_per_inference_uj"] == 416.312
    # throughput from the raw runner log where no results.txt exists
    syn = _one(df, "syntiant", "syntiant_9120", "kws")
    assert syn["throughput_ips"] == pytest.approx(168.01371, rel=1e-6)
    lat = _one(df, "latentai", "raspberry_pi_4_leip_framework:ic_int8", "ic")
    assert lat["throughput_ips"] == pytest.approx(931.48488, rel=1e-6)
    assert lat["system_name"] == "Raspberry Pi 4B"


def test_v05_runner_log_reproduces_results_txt(tiny_root):
    """Where both exist, the throughput recomputed from the raw log equals results.txt."""
    root = tiny_root("v0.5") / "closed/reference/results/Nucleo-L4R5ZI"
    for bench in ("ic", "kws", "vww", "ad"):
        log = parse_runner_log((root / bench / "performance/log.txt").read_text())
        txt = parse_performance_text((root / bench / "performance/results.txt").read_text())
        assert len(log.windows) == 5
        assert agrees(log.throughput_ips, txt.median_ips, txt.median_decimals), bench


def test_v05_energy_run_never_met_runtime(tiny):
    probs = tiny("v0.5")[0].problems
    flagged = probs[probs["kind"] == "energy_runtime_not_met"]
    assert sorted(flagged["source_path"]) == [
        "closed/reference/results/Nucleo-L4R5ZI/ad/energy/results.txt",
        "closed/reference/results/Nucleo-L4R5ZI/ic/energy/results.txt",
    ]
    assert flagged["message"].str.contains("none met it").all()


def test_v07(tiny):
    df = tiny("v0.7")[0].results
    r = _one(df, "renesas", "EK-RA6M4", "ic")
    assert (r["energy_per_inference_uj"], r["throughput_ips"]) == (17723.829, 4.062)
    # energy_results.txt / performance_results.txt naming
    s = _one(df, "silicon_labs", "silicon_labs_xG24_DK2601B", "kws")
    assert (s["energy_per_inference_uj"], s["throughput_ips"]) == (611.493, 15.850)
    # hls4ml-finn: model folder below the benchmark, energy output in a "power" folder
    h = _one(df, "hls4ml-finn", "pynq-z2:RN07", "ic")
    assert h["division"] == "open"
    assert h["energy_per_inference_uj"] == 44190.540
    assert h["power_w"] == pytest.approx(1.616805926)


def test_throughput_comes_from_the_performance_run(tiny, tiny_root):
    df = tiny("v0.7")[0].results
    r = _one(df, "syntiant", "syntiant_9120_1v1_98mhz", "kws")
    assert r["throughput_ips"] == 558.359
    assert r["energy_per_inference_uj"] == 49.587
    energy_file = "closed/syntiant/results/syntiant_9120_1v1_98mhz/kws/energy/results.txt"
    run = parse_energy_text((tiny_root("v0.7") / energy_file).read_text())
    assert run.median_ips == 665.602  # the energy run's own printout, not used
    # the logged power belongs to the energy run: 49.587 uJ x 665.602 inf/s
    assert r["power_w"] == pytest.approx(49.587e-6 * 665.602, rel=1e-3)


def test_v10(tiny):
    df, probs = tiny("v1.0")[0].results, tiny("v1.0")[0].problems
    g = _one(df, "greenwaves-technologies", "gap9_650_240", "kws")  # keyword_spotting folder
    assert (g["energy_per_inference_uj"], g["throughput_ips"]) == (18.561, 1365.785)
    # OctoML's extra folder level stays in the system id
    o = _one(df, "OctoML", "microtvm_native/NUCLEO_L4R5ZI", "vww")
    assert (o["energy_per_inference_uj"], o["throughput_ips"]) == (17131.583, 2.971)
    c = _one(df, "OctoML", "microtvm_cmsis_nn/NUCLEO_L4R5ZI", "ic")
    assert c["energy_per_inference_uj"] == 20236.298
    assert c["system_name"] == "NUCLEO-L4R5ZI"  # from a malformed JSON, read leniently
    # "enegy" folder
    st = _one(df, "STMicroelectronics", "NUCLEO-H7A3ZI-Q", "ic")
    assert st["energy_per_inference_uj"] == 8707.284
    q = _one(df, "qualcomm", "Next_Generation_Snapdragon_Mobile_Platform_HDK", "ad")
    assert q["throughput_ips"] == 10199.626  # one window, no median line
    assert set(probs.loc[probs["kind"] == "mode_folder_alias", "source_path"]) == {
        "closed/STMicroelectronics/results/NUCLEO-H7A3ZI-Q/ic/enegy/results.txt",
        "open/hls4ml/results/pynq-z2/ic/RN08/power/results.txt",
    }


def test_v11(tiny):
    df = tiny("v1.1")[0].results
    st = _one(df, "STMicroelectronics", "NUCLEO_L4R5ZI", "ic")
    # four energy windows, one below 10 s: the runner's median of four
    assert (st["energy_per_inference_uj"], st["throughput_ips"]) == (7019.085, 4.673)
    sk = _one(df, "Skymizer", "NUCLEO_L4R5ZI-zephyr", "kws")
    assert (sk["energy_per_inference_uj"], sk["throughput_ips"]) == (4747.946, 10.679)


def test_v12_nucleo_l4r5zi_used_by_figure_7(tiny):
    df = tiny("v1.2")[0].results
    sys_rows = df[(df.submitter == "STMicroelectronics") & (df.system == "NUCLEO_L4R5ZI")]
    got = {
        r.benchmark: (r.energy_per_inference_uj, r.throughput_ips, r.accuracy)
        for r in sys_rows.itertuples()
    }
    assert got == {
        "ic": (6919.375, 6.056, 87.0),
        "vww": (3894.566, 11.245, 85.2),
        "kws": (1820.454, 23.155, 90.2),
        "ad": (203.368, 190.086, 0.86),
    }
    ic = sys_rows[sys_rows.benchmark == "ic"].iloc[0]
    assert ic["inferences_per_joule"] == pytest.approx(144.52172, rel=1e-6)
    assert ic["power_w"] == pytest.approx(0.041950864)
    assert ic["latency_ms"] == pytest.approx(1000 / 6.056)
    assert (ic["system_name"], ic["processor"], ic["division"]) == (
        "NUCLEO-L4R5ZI",
        "32-bit Arm Cortex-M4 (DSP + FPU)",
        "closed",
    )
    assert ic["source_path"] == "closed/STMicroelectronics/results/NUCLEO_L4R5ZI/ic"


def test_v13(tiny):
    df = tiny("v1.3")[0].results
    ic = _one(df, "STMicroelectronics", "NUCLEO_L4R5ZI-P", "ic")
    assert (ic["energy_per_inference_uj"], ic["throughput_ips"], ic["accuracy"]) == (
        5495.915,
        6.036,
        87.0,
    )
    assert ic["power_w"] == pytest.approx(0.0330735)  # median trial power in mW
    assert _one(df, "STMicroelectronics", "NUCLEO_L4R5ZI-P", "ad")["accuracy"] == 0.862
    assert _one(df, "STMicroelectronics", "NUCLEO_U385RG_Q", "vww")[
        "energy_per_inference_uj"
    ] == pytest.approx(518.9761)


def test_v13_streaming_wakeword_keeps_power_only(tiny):
    df = tiny("v1.3")[0].results
    sww = df[df.benchmark == "sww"]
    assert len(sww) == 9
    assert not sww["benchmark_known"].any()
    assert sww["energy_per_inference_uj"].isna().all()
    assert sww["inferences_per_joule"].isna().all()
    assert sww["power_w"].notna().all()
    r = _one(df, "STMicroelectronics", "NUCLEO_L4R5ZI-P", "sww")
    assert r["power_w"] == pytest.approx(0.025622)
    assert r["throughput_ips"] == 55.908  # estimated throughput of the performance run
    s = _one(df, "syntiant", "syntiant_9120_1v0_49mhz", "sww")
    assert s["power_w"] == pytest.approx(0.0005067)
    assert pd.isna(s["throughput_ips"])  # no performance run


def test_v13_results_json_matches_the_text(tiny, tiny_root):
    """Median energy recomputed from the raw samples (and median throughput from the windows)
    equals the printed text to its precision, for every results.json in the round."""
    root = tiny_root("v1.3")
    energy = sorted(root.glob("*/*/results/**/energy/results.json"))
    perf = sorted(root.glob("*/*/results/**/performance/results.json"))
    assert (len(energy), len(perf)) == (9, 33)
    for p in energy:
        je = energy_from_results_json(json.loads(p.read_bytes()))
        run = parse_energy_text((p.parent / "results.txt").read_text())
        assert len(je.trials_uj) == 5 and je.issues == []
        assert all(s >= 10.0 for s in je.trial_seconds)
        assert agrees(je.median_uj, run.median_uj, run.median_decimals), p
    checked = 0
    for p in perf:
        vals, issues = throughputs_from_results_json(json.loads(p.read_bytes()))
        run = parse_performance_text((p.parent / "results.txt").read_text())
        if run.fmt == "streaming":
            assert vals == [] and issues == []
            continue
        checked += 1
        med = pd.Series(vals).median()
        assert agrees(med, run.median_ips, precision(run.median_decimals, run.windows)), p
    assert checked == 28
    table, msgs = tiny("v1.3")
    assert "results.json checked: 9 energy, 28 performance" in msgs[0]
    assert "json_mismatch" not in set(table.problems["kind"])


POWER_CHECKED = {"v0.5": 4, "v0.7": 34, "v1.0": 39, "v1.1": 41, "v1.2": 18, "v1.3": 6}


@pytest.mark.parametrize("version", VERSIONS)
def test_logged_power_is_energy_per_inference_times_energy_run_throughput(tiny_root, version):
    """power_w definition check: in every classic energy file the logged window power equals
    the median energy per inference x the energy run's median throughput (within 0.2%)."""
    root = tiny_root(version)
    n = 0
    for p in sorted(root.glob("*/*/results/**/*results.txt")):
        if p.parent.name not in ("energy", "enegy", "power"):
            continue
        run = parse_energy_text(p.read_text())
        if run.median_ips is None:
            continue
        n += 1
        assert run.power_w == pytest.approx(run.median_uj * 1e-6 * run.median_ips, rel=2e-3), p
    assert n == POWER_CHECKED[version]


def test_syntiant_results_repeat_across_rounds(tiny):
    rep = repeated_results({v: tiny(v)[0].results for v in VERSIONS})
    assert len(rep) == 18
    assert set(rep["submitter"]) == {"syntiant"}
    assert set(rep["first_round"]) == {"v1.0"}
    assert rep["round"].value_counts().to_dict() == {"v1.1": 6, "v1.2": 6, "v1.3": 6}


# ---------------------------------------------------------------------- cross-check


def test_crosscheck_v12_summary_csv(tiny, checkout):
    root = checkout("tiny_results_v1.2", cc.SUMMARY_PATTERNS)
    published = cc.read_summary_csv((root / "summary.csv").read_bytes(), "v1.2")
    assert len(published) == 73
    cmp = cc.compare(cc.comparable(tiny("v1.2")[0].results), published)
    s = cc.summarize(cmp)
    assert (s["pairs"], s["only_ours"], s["only_published"]) == (73, 0, 0)
    assert (s["throughput_compared"], s["throughput_within"]) == (73, 73)
    assert (s["energy_compared"], s["energy_within"]) == (18, 18)
    assert s["throughput_max_abs_rel_diff"] == 0.0
    assert s["energy_max_abs_rel_diff"] == 0.0
    assert (s["accuracy_compared"], s["accuracy_max_abs_rel_diff"]) == (73, 0.0)


def test_crosscheck_cmx_v07_v10_v11(tiny, checkout):
    root = checkout("cm4mlperf-results", cc.CMX_PATTERNS)
    published = cc.read_cmx_tiny(root)
    assert published["round"].value_counts().to_dict() == {"v1.1": 111, "v1.0": 60, "v0.7": 59}
    ours = cc.comparable(pd.concat([tiny(v)[0].results for v in ("v0.7", "v1.0", "v1.1")]))
    cmp = cc.compare(ours, published)
    s = cc.summarize(cmp)
    assert s["pairs"] == 222
    # CMX writes STMicroelectronics "STMicrolectronics" in v1.1
    assert s["pairs_without_submitter"] == 12
    assert set(cmp.loc[cmp["match"] == cc.NO_SUBMITTER, "published_submitter"]) == {
        "STMicrolectronics"
    }
    # OctoML's two NUCLEO_L4R5ZI systems (v1.0) are one name in CMX: not guessed
    assert (s["ambiguous_ours"], s["ambiguous_published"]) == (8, 8)
    assert (s["only_ours"], s["only_published"]) == (0, 0)
    assert (s["throughput_compared"], s["throughput_within"]) == (222, 222)
    assert (s["energy_compared"], s["energy_within"]) == (88, 88)
    assert s["energy_share_within"] >= 0.98 and s["throughput_share_within"] >= 0.98
    assert s["energy_max_abs_rel_diff"] == 0.0
    # AUC for ad, top-1 otherwise, on both sides
    assert (s["accuracy_compared"], s["accuracy_max_abs_rel_diff"]) == (222, 0.0)
    # three files named performance_results.txt where CMX holds the first window's
    # throughput instead of the "Median throughput" line
    off = cmp[cmp["throughput_rel_diff"].abs() > 0]
    assert sorted(zip(off["round"], off["submitter"], off["benchmark"], strict=True)) == [
        ("v0.7", "plumerai", "ad"),
        ("v0.7", "silicon_labs", "kws"),
        ("v1.0", "silicon_labs", "vww"),
    ]
    assert s["throughput_max_abs_rel_diff"] < 2e-4
    # energies CMX lacks: energy_results.txt (silicon_labs), "enegy", hls4ml "power" folders
    assert s["energy_only_ours"] == 18 and s["energy_only_published"] == 0
    only = cmp[cmp["energy_ours"].notna() & cmp["energy_published"].isna()]
    only = only[only["match"] != cc.AMBIGUOUS]
    assert only.groupby("submitter").size().to_dict() == {
        "STMicroelectronics": 1,
        "hls4ml": 1,
        "hls4ml-finn": 8,
        "silicon_labs": 8,
    }
