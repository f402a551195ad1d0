"""Figure 6 (Llama2-70B LoRA energy and time to train vs scale): synthetic and real v4.0 data."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

from mlperf_power_dag.figures.common import LONG_COLUMNS, save
from mlperf_power_dag.figures.fig6 import EXTRA, Fig6Params, build_fig6, render_fig6
from mlperf_power_dag.readers.training import SPARSE_PATTERNS, read_training_round
from mlperf_power_dag.schemas import TrainingResults, columns, empty

SHA = "0" * 40
LLAMA = "llama2_70b_lora"
NAN = float("nan")


def trow(
    submitter: str,
    accelerators: int | None,
    compute: float | None,
    inter: float | None,
    minutes: float | None,
    kind: str | None,
    **kw,
) -> dict:
    nodes = max(1, (accelerators or 8) // 8)
    energy = compute + inter if compute is not None and inter is not None else None
    row = {
        "round": "v4.0",
        "division": "closed",
        "submitter": submitter,
        "system": f"{nodes}x{submitter}",
        "system_name": None,
        "accelerator": "H100",
        "benchmark": LLAMA,
        "accelerators": accelerators,
        "nodes": nodes,
        "time_to_train_min": minutes,
        "energy_j": energy,
        "compute_energy_j": compute,
        "interconnect_energy_j": inter,
        "average_power_w": energy / (minutes * 60) if energy and minutes else None,
        "runs_used": 8,
        "power_measurement": kind,
        "source_repo": "mlcommons/training_results_v4.0",
        "source_path": f"{submitter}/results/{nodes}x{submitter}/{LLAMA}",
        "source_commit": SHA,
    }
    row.update(kw)
    return row


def table(rows: list[dict]) -> pd.DataFrame:
    return TrainingResults.validate(pd.DataFrame(rows, columns=columns(TrainingResults)))


# AC and DC measurements of the same runs (as SMC in v4.0): equal times and interconnect.
BASE = [
    trow("dc", 8, 10.0e6, 0.0, 30.0, "DC"),
    trow("dc", 64, 15.0e6, 5.0e6, 5.0, "DC"),
    trow("dc", 512, 40.0e6, 8.0e6, 2.0, "DC"),
    trow("ac", 8, 10.5e6, 0.0, 30.0, "AC"),
    trow("ac", 64, 15.5e6, 5.0e6, 5.0, "AC"),
    trow("ac", 512, 41.0e6, 8.0e6, 2.0, "AC"),
]


def values(data) -> dict[tuple[str, int], float]:
    return {(r.series, r.x): r.y for r in data.frame.itertuples()}


def check_saved(fig, data, tmp_path: Path) -> pd.DataFrame:
    paths = save(fig, data, tmp_path, "fig6")
    assert 0 < paths["png"].stat().st_size < 200_000 and paths["svg"].stat().st_size > 0
    csv = pd.read_csv(paths["csv"])
    assert list(csv.columns) == [*LONG_COLUMNS, *EXTRA, "url"]  # + the link of each point
    assert len(csv) == len(data.frame)
    return csv


def test_params_are_the_papers():
    p = Fig6Params()
    assert (p.benchmark, p.round, p.division) == (LLAMA, "v4.0", "closed")
    assert p.power_measurement == ("AC", "DC") and p.submitter is None


def test_stacked_energy_and_time_per_scale_and_variant(tmp_path):
    data = build_fig6(table(BASE))
    got = values(data)
    assert len(got) == 18 and data.notes == [
        "8 accelerators: interconnect energy 0 (nodes: 1; no switch)"
    ]
    assert got[("compute energy (DC)", 8)] == 10.0
    assert got[("interconnect energy (DC)", 8)] == 0.0
    assert got[("time to train (DC)", 8)] == 30.0
    assert got[("compute energy (DC)", 64)] == 15.0
    assert got[("interconnect energy (DC)", 64)] == 5.0
    assert got[("time to train (DC)", 64)] == 5.0
    assert got[("compute energy (DC)", 512)] == 40.0
    assert got[("interconnect energy (DC)", 512)] == 8.0
    assert got[("time to train (DC)", 512)] == 2.0
    assert got[("compute energy (AC)", 8)] == 10.5
    assert got[("compute energy (AC)", 64)] == 15.5
    assert got[("compute energy (AC)", 512)] == 41.0
    assert got[("interconnect energy (AC)", 512)] == 8.0
    assert got[("time to train (AC)", 512)] == 2.0
    df = data.frame
    # Ordered by scale, then variant as in the parameters (AC, DC), then series.
    assert df["x"].tolist() == [8] * 6 + [64] * 6 + [512] * 6
    assert df["series"].tolist()[:6] == [
        "compute energy (AC)",
        "interconnect energy (AC)",
        "time to train (AC)",
        "compute energy (DC)",
        "interconnect energy (DC)",
        "time to train (DC)",
    ]
    assert set(df["unit"]) == {"MJ", "min"}
    assert (df.loc[df["series"].str.startswith("time"), "unit"] == "min").all()
    # Provenance: every value carries its result.
    dc512 = df[df["series"] == "compute energy (DC)"].iloc[-1]
    assert (dc512["round"], dc512["submitter"], dc512["system"]) == ("v4.0", "dc", "64xdc")
    assert (dc512["benchmark"], dc512["scenario"], dc512["division"]) == (LLAMA, "", "closed")
    assert dc512["source_path"] == f"dc/results/64xdc/{LLAMA}" and dc512["nodes"] == 64
    assert data.meta["scales"] == [8, 64, 512]
    assert data.meta["tags"] == [("AC", "AC"), ("DC", "DC")]
    csv = check_saved(render_fig6(data), data, tmp_path)
    assert csv["y"].tolist() == pytest.approx(df["y"].tolist())


def test_selection_excludes_and_counts():
    rows = [
        *BASE,
        trow("dc", 8, 1.0e6, 0.0, 1.0, "DC", benchmark="resnet"),  # other benchmark
        trow("dc", 16, 1.0e6, 0.0, 1.0, "DC", round="v4.1"),  # other round
        trow("dc", 32, 1.0e6, 0.0, 1.0, "DC", division="open"),  # other division
        trow("u", 64, 9.0e6, 1.0e6, 4.0, "unknown"),
        trow("n", 64, 9.0e6, 1.0e6, 4.0, None),  # no measurement type: unknown
        trow("z", None, 9.0e6, 1.0e6, 4.0, "DC", system="zsys", source_path="z/zsys"),
    ]
    data = build_fig6(table(rows))
    assert sorted(set(data.frame["x"])) == [8, 64, 512]
    assert set(data.frame["submitter"]) == {"ac", "dc"}
    assert len(data.frame) == 18
    assert data.notes[:2] == [
        "2 results excluded: power measurement unknown not among the variants shown (AC, DC)",
        "1 results excluded: accelerator count unknown (z/zsys)",
    ]
    open_ = build_fig6(table(rows), Fig6Params(division="open"))
    assert values(open_) == {
        ("compute energy (DC)", 32): 1.0,
        ("interconnect energy (DC)", 32): 0.0,
        ("time to train (DC)", 32): 1.0,
    }
    assert "no AC-measured results" in open_.notes
    assert "one scale only (32 accelerators): a single group" in open_.notes
    any_division = build_fig6(table(rows), Fig6Params(division=None))
    assert sorted(set(any_division.frame["x"])) == [8, 32, 64, 512]
    unknown = build_fig6(table(rows), Fig6Params(power_measurement=("unknown",)))
    assert set(unknown.frame["submitter"]) == {"u", "n"}
    assert set(unknown.frame["power_measurement"]) == {"unknown"}


def test_nan_energies_are_excluded_and_counted(tmp_path):
    rows = [
        *BASE,
        trow("dc2", 128, None, None, 3.0, "DC"),  # energy unknown, score stands
        trow("dc3", 256, 20.0e6, None, 2.5, "DC"),  # split incomplete
    ]
    data = build_fig6(table(rows))
    got = values(data)
    assert got[("time to train (DC)", 128)] == 3.0
    assert got[("time to train (DC)", 256)] == 2.5
    assert not any(x in (128, 256) for s, x in got if "energy" in s)
    assert (
        "2 results without a usable energy (NaN, inf or < 0): energy bars left out "
        f"(dc2/results/16xdc2/{LLAMA}, dc3/results/32xdc3/{LLAMA})"
    ) in data.notes
    assert data.meta["scales"] == [8, 64, 128, 256, 512]
    check_saved(render_fig6(data), data, tmp_path)


def test_time_nan_keeps_energy():
    rows = [trow("dc", 64, 15.0e6, 5.0e6, 5.0, "DC")]
    rows[0]["time_to_train_min"] = None
    rows[0]["average_power_w"] = None
    data = build_fig6(table(rows))
    assert values(data) == {
        ("compute energy (DC)", 64): 15.0,
        ("interconnect energy (DC)", 64): 5.0,
    }
    assert any(n.startswith("1 results without a usable time to train") for n in data.notes)
    render_fig6(data)


def test_nothing_usable_is_an_empty_figure():
    data = build_fig6(table([trow("dc", 64, None, None, None, "DC")]))
    assert data.frame.empty
    assert data.notes[-1] == f"nothing to plot for {LLAMA} in training v4.0 closed"
    fig = render_fig6(data)
    assert [t.get_text() for t in fig.axes[0].texts] == [f"no usable {LLAMA} training data (v4.0)"]


@pytest.mark.parametrize("given", [None, "empty"])
def test_no_training_data(given, tmp_path):
    training = empty(TrainingResults) if given == "empty" else None
    data = build_fig6(training)
    assert data.frame.empty and list(data.frame.columns) == [*LONG_COLUMNS, *EXTRA]
    assert data.notes == ["no training data given"]
    fig = render_fig6(data)
    assert [t.get_text() for t in fig.axes[0].texts] == ["no training data"]
    check_saved(fig, data, tmp_path)


def test_benchmark_or_submitter_not_found():
    data = build_fig6(table(BASE), Fig6Params(benchmark="gpt3"))
    assert data.frame.empty
    assert data.notes == [f"no gpt3 results in training v4.0 closed (benchmarks of v4.0: {LLAMA})"]
    assert [t.get_text() for t in render_fig6(data).axes[0].texts] == [
        "no gpt3 training data (v4.0)"
    ]
    nobody = build_fig6(table(BASE), Fig6Params(submitter="nobody"))
    assert nobody.frame.empty and "of submitter nobody" in nobody.notes[0]


def test_single_scale_is_one_group(tmp_path):
    data = build_fig6(table([r for r in BASE if r["accelerators"] == 64]))
    assert set(data.frame["x"]) == {64} and len(data.frame) == 6
    assert data.notes == ["one scale only (64 accelerators): a single group"]
    fig = render_fig6(data)
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["64"]
    check_saved(fig, data, tmp_path)


def test_submitter_filter_and_missing_variant():
    data = build_fig6(table(BASE), Fig6Params(submitter="dc"))
    assert set(data.frame["power_measurement"]) == {"DC"}
    assert "no AC-measured results" in data.notes
    assert data.meta["tags"] == [("DC", "DC")]


def test_several_results_at_one_scale_split_by_submitter(tmp_path):
    rows = [*BASE, trow("other", 64, 12.0e6, 2.0e6, 6.0, "DC")]
    data = build_fig6(table(rows))
    got = values(data)
    assert got[("compute energy (DC, dc)", 64)] == 15.0
    assert got[("compute energy (DC, other)", 64)] == 12.0
    assert got[("time to train (DC, other)", 64)] == 6.0
    assert got[("compute energy (DC, dc)", 512)] == 40.0
    assert got[("compute energy (AC)", 512)] == 41.0  # AC has one result per scale
    assert "DC: several results at one scale; series split by submitter" in data.notes
    assert data.meta["tags"] == [("AC", "AC"), ("DC, dc", "DC"), ("DC, other", "DC")]
    check_saved(render_fig6(data), data, tmp_path)


# --- Real data: the v4.0 llama2_70b_lora power results from the offline mirror -----------

V40 = "training_results_v4.0"
# Every llama2_70b_lora folder of every submitter (the mirror holds power results only),
# and every system description; the other benchmarks' folders are not checked out.
LLAMA_PATTERNS = [p for p in SPARSE_PATTERNS if "/results/" not in p] + [
    p.replace("/*/results/*/*/", f"/*/results/*/{LLAMA}/")
    for p in SPARSE_PATTERNS
    if "/results/" in p
]


@pytest.fixture(scope="module")
def llama(checkout) -> pd.DataFrame:
    root = checkout(V40, LLAMA_PATTERNS)
    commit = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    return read_training_round(root, "v4.0", f"mlcommons/{V40}", commit).results


# The paper's Figure 6 (DC): MJ and minutes at 8, 64 and 512 accelerators.
PAPER_DC = {
    8: (11.770, 0.0, 29.101),
    64: (15.080, 5.302, 5.488),
    512: (38.636, 7.201, 2.015),
}


def test_real_v40_llama2_figure6(llama, tmp_path):
    data = build_fig6(llama)
    got = values(data)
    assert len(data.frame) == 18 and data.meta["scales"] == [8, 64, 512]
    for x, (compute, inter, minutes) in PAPER_DC.items():
        assert got[("compute energy (DC)", x)] == pytest.approx(compute, abs=5e-4)
        assert got[("interconnect energy (DC)", x)] == pytest.approx(inter, abs=5e-4)
        assert got[("time to train (DC)", x)] == pytest.approx(minutes, abs=5e-4)
    # Every plotted value is the reader's, of the result named in the row.
    df = data.frame
    for r in llama.itertuples():
        sel = df[(df["submitter"] == r.submitter) & (df["system"] == r.system)]
        mine = dict(zip(sel["series"], sel["y"], strict=True))
        kind = r.power_measurement
        assert set(sel["x"]) == {r.accelerators}
        assert mine[f"compute energy ({kind})"] == pytest.approx(r.compute_energy_j / 1e6, 1e-12)
        assert mine[f"interconnect energy ({kind})"] == pytest.approx(
            r.interconnect_energy_j / 1e6, rel=1e-12, abs=1e-12
        )
        assert mine[f"time to train ({kind})"] == pytest.approx(r.time_to_train_min, rel=1e-12)
        assert set(sel["source_path"]) == {r.source_path}
    ac = {
        x: got[("compute energy (AC)", x)] + got[("interconnect energy (AC)", x)] for x in PAPER_DC
    }
    assert ac == pytest.approx({8: 12.128, 64: 20.644, 512: 46.575}, abs=5e-4)
    assert set(df["submitter"]) == {"smc-ac-power", "smc-dc-power"}
    assert data.notes == ["8 accelerators: interconnect energy 0 (nodes: 1; no switch)"]
    check_saved(render_fig6(data), data, tmp_path)
