"""Figure 5c (tiny efficiency trends): synthetic exact values and the six real tiny rounds."""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from mlperf_power_dag.figures.common import LONG_COLUMNS, save
from mlperf_power_dag.figures.fig5c import (
    EXTRA,
    Fig5cParams,
    build_fig5c,
    render_fig5c,
    runtime_flagged,
    tiny_efficiency,
)
from mlperf_power_dag.metrics import round_dates
from mlperf_power_dag.readers.tiny import SPARSE_PATTERNS, read_tiny_round
from mlperf_power_dag.schemas import Problems, TinyResults, columns

SHA = "0" * 40
VERSIONS = ["v0.5", "v0.7", "v1.0", "v1.1", "v1.2", "v1.3"]


def tiny_row(
    rnd: str,
    bench: str,
    energy_uj: float | None,
    *,
    system: str = "board",
    submitter: str = "acme",
    division: str = "closed",
    power_w: float | None = 0.01,
    ipj: float | None = None,
    throughput: float | None = 10.0,
) -> dict:
    known = bench in ("ic", "vww", "kws", "ad")
    if ipj is None and energy_uj is not None and energy_uj > 0 and math.isfinite(energy_uj):
        ipj = 1e6 / energy_uj
    return {
        "round": rnd,
        "division": division,
        "submitter": submitter,
        "system": system,
        "system_name": None,
        "processor": None,
        "accelerator": None,
        "benchmark": bench,
        "benchmark_known": known,
        "latency_ms": 1000.0 / throughput if throughput else None,
        "throughput_ips": throughput,
        "energy_per_inference_uj": energy_uj,
        "power_w": power_w,
        "inferences_per_joule": ipj,
        "accuracy": None,
        "source_repo": f"mlcommons/tiny_results_{rnd}",
        "source_path": f"{division}/{submitter}/results/{system}/{bench}",
        "source_commit": SHA,
    }


def frame(rows: list[dict], validate: bool = True) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns(TinyResults))
    return TinyResults.validate(df) if validate else df


def problems(*paths: tuple[str, str], kind: str = "energy_runtime_not_met") -> pd.DataFrame:
    rows = [
        {
            "suite": "tiny",
            "round": rnd,
            "source_path": path,
            "kind": kind,
            "severity": "flagged",
            "message": f"{path}: 5 of 5 energy window(s) below the runtime requirement",
        }
        for rnd, path in paths
    ]
    return Problems.validate(pd.DataFrame(rows, columns=columns(Problems)))


@pytest.fixture
def synthetic() -> pd.DataFrame:
    return frame(
        [
            tiny_row("v0.5", "ic", 1000.0, system="ref"),  # 1000 inf/J
            tiny_row("v0.7", "ic", 250.0, system="fast"),  # 4000 inf/J: new maximum
            tiny_row("v0.7", "ic", 500.0, system="slow"),  # 2000 inf/J
            tiny_row("v1.0", "ic", 800.0, system="later"),  # 1250 inf/J: below the maximum
            tiny_row("v0.7", "kws", 100.0, system="k1"),  # kws starts in v0.7
            tiny_row("v1.0", "kws", 20.0, system="k2"),  # 50000 inf/J
            tiny_row("v1.0", "vww", None, power_w=None),  # performance only
            tiny_row("v1.0", "ic", 10.0, system="open-board", division="open"),
            tiny_row("v1.3", "sww", None, system="sww-board", power_w=0.004),
        ]
    )


def test_running_max_normalization_and_provenance(synthetic):
    data = build_fig5c(synthetic)
    df = data.frame
    assert list(df.columns) == [*LONG_COLUMNS, *EXTRA]
    ic = df[df["benchmark"] == "ic"]
    assert ic["x"].tolist() == ["v0.5", "v0.7", "v1.0"]
    assert ic["y"].tolist() == [1.0, 4.0, 4.0]
    assert ic["value"].tolist() == [1000.0, 4000.0, 4000.0]
    assert ic["round_best"].tolist() == [1000.0, 4000.0, 1250.0]
    # the v1.0 point is held by the v0.7 result; its round's own best is another system
    assert ic["round"].tolist() == ["v0.5", "v0.7", "v0.7"]
    assert ic["system"].tolist() == ["ref", "fast", "fast"]
    assert ic["round_best_system"].tolist() == ["ref", "fast", "later"]
    assert ic["energy_per_inference_uj"].tolist() == [1000.0, 250.0, 250.0]
    assert ic["source_path"].iloc[2] == "closed/acme/results/fast/ic"
    assert ic["source_repo"].iloc[2] == "mlcommons/tiny_results_v0.7"
    assert set(ic["scenario"]) == {"SingleStream"} and set(ic["division"]) == {"closed"}
    assert ic["series"].iloc[0] == "ResNet (image classification)"
    assert ic["x_date"].tolist() == [round_dates("tiny")[v].date().isoformat() for v in ic["x"]]
    # kws has no v0.5 result: normalized to its first round with energy (v0.7)
    kws = df[df["benchmark"] == "kws"]
    assert kws["x"].tolist() == ["v0.7", "v1.0"]
    assert kws["y"].tolist() == [1.0, 5.0]
    assert df["runtime_flagged"].isna().all()  # no problems table: unknown
    # benchmarks in the parameters' order, no vww/ad points
    assert df["benchmark"].drop_duplicates().tolist() == ["ic", "kws"]
    assert data.meta["benchmarks"] == ["ic", "kws"]
    notes = "\n".join(data.notes)
    assert "1 results of other divisions left out" in notes
    assert "1 sww results not plotted (v1.3 streaming wake word" in notes
    assert "1 results without an energy run (performance/accuracy only) not considered" in notes
    assert "no usable results for: vww, ad" in notes
    assert "ic v0.5 (1000 inferences/J, acme ref); kws v0.7 (10000 inferences/J" in notes
    assert "excluded" not in notes  # nothing with an energy run was unusable


def test_bad_values_are_excluded_and_counted():
    rows = [
        tiny_row("v0.5", "ad", 100.0, system="ok"),
        tiny_row("v0.7", "ad", 0.0, system="zero"),  # 1e6 / 0 = inf
        tiny_row("v0.7", "ad", -5.0, system="negative"),
        tiny_row("v0.7", "ad", math.inf, system="infinite"),  # 1e6 / inf = 0
        tiny_row("v0.7", "ad", math.nan, system="nan", power_w=0.01),  # energy run, no value
        tiny_row("v0.7", "ad", 50.0, system="good"),
        tiny_row("v1.0", "ad", None, system="ipj-only", ipj=40000.0),  # the table's value
        tiny_row("v1.0", "foo", 1.0, system="unknown-bench"),
    ]
    data = build_fig5c(frame(rows, validate=False), Fig5cParams(benchmarks=("ad",)))
    df = data.frame
    assert df["y"].tolist() == [1.0, 2.0, 4.0]
    assert df["system"].tolist() == ["ok", "good", "ipj-only"]
    notes = "\n".join(data.notes)
    assert "4 results excluded: inferences_per_joule NaN, infinite or not positive" in notes
    assert "1 foo results not plotted (not one of the plotted benchmarks" in notes


def test_efficiency_is_the_inverse_of_the_median_energy():
    df = frame(
        [
            tiny_row("v1.2", "ic", 400.0, ipj=1.0),  # energy wins over a stale column
            tiny_row("v1.2", "kws", None, ipj=123.0),
        ]
    )
    assert tiny_efficiency(df).tolist() == [2500.0, 123.0]


def test_runtime_flags_kept_by_default_dropped_on_request():
    rows = [
        tiny_row("v0.5", "ic", 1000.0, system="ref"),
        tiny_row("v0.7", "ic", 500.0, system="next"),  # 2000 inf/J
        tiny_row("v1.0", "ic", 100.0, system="best"),  # 10000 inf/J
    ]
    tiny = frame(rows)
    probs = problems(
        ("v0.5", "closed/acme/results/ref/ic/energy/results.txt"),
        # not these results: another round, a model folder below the benchmark, a perf run
        ("v0.7", "closed/acme/results/ref/ic/energy/results.txt"),
        ("v1.0", "closed/acme/results/best/ic/model/energy/results.txt"),
    )
    probs = pd.concat(
        [
            probs,
            problems(
                ("v0.7", "closed/acme/results/next/ic/performance/results.txt"),
                kind="performance_runtime_not_met",
            ),
        ],
        ignore_index=True,
    )
    assert runtime_flagged(tiny, probs).tolist() == [True, False, False]
    assert runtime_flagged(tiny, None).tolist() == [None, None, None]

    kept = build_fig5c(tiny, problems=probs)
    assert kept.frame["y"].tolist() == [1.0, 2.0, 10.0]
    assert kept.frame["runtime_flagged"].tolist() == [True, False, False]
    assert any(
        n.startswith("1 plotted points rest on energy runs that missed the 10 s runtime")
        and "ic v0.5 acme ref" in n
        for n in kept.notes
    )

    dropped = build_fig5c(tiny, Fig5cParams(include_flagged_runtime=False), problems=probs)
    assert dropped.frame["x"].tolist() == ["v0.7", "v1.0"]
    assert dropped.frame["y"].tolist() == [1.0, 5.0]
    assert any(
        "1 energy runs that missed the runtime requirement left out" in n for n in dropped.notes
    )

    unknown = build_fig5c(tiny, Fig5cParams(include_flagged_runtime=False))
    assert unknown.frame["y"].tolist() == [1.0, 2.0, 10.0]
    assert any("needs the tiny problems table" in n for n in unknown.notes)


def test_last_round_and_list_parameters(synthetic):
    data = build_fig5c(synthetic, Fig5cParams(benchmarks=["kws", "ic"], last_round="v0.7"))
    assert data.frame["benchmark"].tolist() == ["kws", "ic", "ic"]
    assert data.frame["x"].tolist() == ["v0.7", "v0.5", "v0.7"]
    assert any(n.startswith("4 results after v0.7 left out (v1.0 3, v1.3 1)") for n in data.notes)
    with pytest.raises(ValueError, match="last_round 'v9.9' is not a tiny round"):
        build_fig5c(synthetic, Fig5cParams(last_round="v9.9"))


def test_any_division_and_repeated_results(synthetic):
    data = build_fig5c(synthetic, Fig5cParams(division=None))
    ic = data.frame[data.frame["benchmark"] == "ic"]
    assert ic["y"].tolist() == [1.0, 4.0, 100.0]
    assert ic["division"].iloc[-1] == "open"
    repeat = frame(
        [
            tiny_row("v1.0", "kws", 30.0, submitter="syn", system="s"),
            tiny_row("v1.1", "kws", 30.0, submitter="syn", system="s"),
        ]
    )
    notes = build_fig5c(repeat).notes
    assert any(n.startswith("1 energy results republished unchanged") for n in notes)


def texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes for t in ax.texts]


@pytest.mark.parametrize("empty", [None, "empty", "no energy"])
def test_no_tiny_data(empty, tmp_path):
    if empty is None:
        tiny = None
    elif empty == "empty":
        tiny = frame([])
    else:
        tiny = frame([tiny_row("v1.0", "ic", None, power_w=None)])
    data = build_fig5c(tiny)
    assert data.frame.empty and list(data.frame.columns) == [*LONG_COLUMNS, *EXTRA]
    if empty == "no energy":
        assert "no usable results for: ic, vww, kws, ad" in data.notes
    else:
        assert data.notes == ["no tiny results given"]
    fig = render_fig5c(data)
    assert texts(fig) == ["no tiny data"]
    paths = save(fig, data, tmp_path, "fig5c")
    assert pd.read_csv(paths["csv"]).empty


def test_render_log_axis_version_ticks_and_paper_styles(synthetic, tmp_path):
    data = build_fig5c(synthetic)
    fig = render_fig5c(data)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["v0.5", "v0.7", "v1.0"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["ResNet (image classification)", "DS-CNN (keyword spotting)"]
    styles = {ln.get_label(): (ln.get_marker(), ln.get_color()) for ln in ax.get_lines()}
    assert styles["ResNet (image classification)"] == ("s", "C1")
    assert styles["DS-CNN (keyword spotting)"] == ("D", "C2")
    top = [c for c in ax.child_axes]
    assert top and [t.get_text() for t in top[0].get_xticklabels()] == ["06/21", "04/22", "11/22"]
    paths = save(fig, data, tmp_path, "fig5c")
    csv = pd.read_csv(paths["csv"])
    assert len(csv) == len(data.frame) and paths["png"].stat().st_size > 0
    plt.close("all")


# ------------------------------------------------------------------------ real data


def _head(root: Path) -> str:
    out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True)
    return out.stdout.decode().strip()


@pytest.fixture(scope="module")
def real(checkout) -> tuple[pd.DataFrame, pd.DataFrame]:
    """TinyResults and Problems of tiny v0.5-v1.3 read from the mirror."""
    results, probs = [], []
    for v in VERSIONS:
        root = checkout(f"tiny_results_{v}", SPARSE_PATTERNS)
        table = read_tiny_round(root, v, f"mlcommons/tiny_results_{v}", _head(root))
        results.append(table.results)
        probs.append(table.problems)
    return pd.concat(results, ignore_index=True), pd.concat(probs, ignore_index=True)


def _expected(tiny: pd.DataFrame) -> dict[tuple[str, str], tuple[float, float, float]]:
    """(benchmark, round) -> (round best, best so far, normalized), computed by hand."""
    rows = tiny[(tiny["division"] == "closed") & tiny["energy_per_inference_uj"].notna()]
    out = {}
    for bench in ("ic", "vww", "kws", "ad"):
        best_so_far, base = -np.inf, None
        for v in VERSIONS:
            e = rows.loc[(rows["benchmark"] == bench) & (rows["round"] == v)]
            if e.empty:
                continue
            round_best = 1e6 / e["energy_per_inference_uj"].min()
            best_so_far = max(best_so_far, round_best)
            base = base if base is not None else best_so_far
            out[(bench, v)] = (round_best, best_so_far, best_so_far / base)
    return out


def test_real_tiny_rounds(real):
    tiny, probs = real
    data = build_fig5c(tiny, problems=probs)
    df = data.frame
    got = {(r.benchmark, r.x): (r.round_best, r.value, r.y) for r in df.itertuples()}
    expected = _expected(tiny)
    assert set(got) == set(expected) and len(df) == 24  # 4 benchmarks x 6 rounds
    for k, vals in expected.items():
        assert got[k] == pytest.approx(vals, rel=1e-12), k

    one = df.set_index(["benchmark", "x"])
    # v1.2 image classification: the round's best is syntiant's (republished) 101.833 uJ,
    # the best so far GreenWaves GAP9 v1.0 at 27.711 uJ; the v0.5 reference took 29207.010 uJ.
    ic12 = one.loc[("ic", "v1.2")]
    assert ic12["round_best"] == pytest.approx(1e6 / 101.833)
    assert ic12["round_best_submitter"] == "syntiant"
    assert ic12["value"] == pytest.approx(1e6 / 27.711)
    assert (ic12["round"], ic12["system"]) == ("v1.0", "gap9_650_240")
    assert ic12["y"] == pytest.approx(29207.010 / 27.711)  # 1053.99
    assert one.loc[("kws", "v0.7"), "y"] == pytest.approx(7373.704 / 35.286)  # syntiant 208.97
    assert one.loc[("vww", "v1.3"), "y"] == pytest.approx(24312.648 / 40.801)  # 595.88
    assert one.loc[("ad", "v1.3"), "y"] == pytest.approx(416.312 / 5.252)  # 79.27
    assert one.loc[("ad", "v1.3"), "round_best_system"] == "NUCLEO_U385RG_Q"
    assert (df.loc[df["x"] == "v0.5", "y"] == 1.0).all()

    notes = "\n".join(data.notes)
    assert "9 sww results not plotted (v1.3 streaming wake word" in notes
    assert "2 plotted points rest on energy runs that missed the 10 s runtime" in notes
    assert "ic v0.5 reference Nucleo-L4R5ZI; ad v0.5 reference Nucleo-L4R5ZI" in notes
    assert "18 energy results republished unchanged from an earlier round (syntiant" in notes
    assert "excluded" not in notes
    flagged = df.loc[df["runtime_flagged"] == True, ["benchmark", "x"]]  # noqa: E712
    assert sorted(map(tuple, flagged.to_numpy())) == [("ad", "v0.5"), ("ic", "v0.5")]

    strict = build_fig5c(tiny, Fig5cParams(include_flagged_runtime=False), problems=probs)
    first = strict.frame.groupby("benchmark").head(1).set_index("benchmark")["x"].to_dict()
    assert first == {"ic": "v0.7", "vww": "v0.5", "kws": "v0.5", "ad": "v0.7"}
    assert any(n.startswith("8 energy runs that missed the runtime") for n in strict.notes)

    paper = build_fig5c(tiny, Fig5cParams(last_round="v1.2"))
    assert sorted(set(paper.frame["x"])) == VERSIONS[:5] and len(paper.frame) == 20
