"""Cross-check: matching and classes on small tables, and the fidelity of the real sources."""

from __future__ import annotations

import pandas as pd
import pytest

from mlperf_power_dag.crosscheck import CLASSES, compare, result_key, summarize
from mlperf_power_dag.readers.inference_cmx import SPARSE_PATTERNS as CMX_PATTERNS
from mlperf_power_dag.readers.inference_cmx import read_cmx_round
from mlperf_power_dag.readers.inference_summary import SUMMARY_PATTERNS, read_summary_round
from mlperf_power_dag.readers.inference_tree import SPARSE_PATTERNS as TREE_PATTERNS
from mlperf_power_dag.readers.inference_tree import read_tree_round
from mlperf_power_dag.schemas import InferenceResults
from mlperf_power_dag.tables import ProblemLog, finish

COMMIT = "2" * 40
REPO41 = "mlcommons/inference_results_v4.1"


def _row(system: str, scenario: str = "Offline", source: str = "tree", **kw) -> dict:
    sc_dir = kw.pop("scenario_dir", scenario)
    row = {
        "round": "v9.0",
        "category": "datacenter",
        "division": "closed",
        "submitter": "Acme",
        "system": system,
        "benchmark": "resnet50",
        "benchmark_known": True,
        "scenario": scenario,
        "valid": True,
        "performance": 100.0,
        "performance_unit": "samples/s" if scenario == "Offline" else "ms",
        "source": source,
        "source_repo": "a/b",
        "source_path": f"closed/Acme/results/{system}/resnet50/{sc_dir}",
        "source_commit": COMMIT,
    }
    if scenario in ("Offline", "Server"):
        row["power_w"] = 1000.0
    else:
        row["energy_per_query_j"] = 2.0
    row.update(kw)
    return row


def test_result_key():
    assert result_key("closed/Acme/results/Box_1/resnet50/Offline") == (
        "closed/acme/results/box_1/resnet50/offline"
    )
    assert result_key("./closed/Acme/results/box/bert-99/server/performance/run_1") == (
        "closed/acme/results/box/bert-99/server"
    )
    row = {"division": "open", "submitter": "A", "system": "S", "benchmark": "b",
           "scenario": "Offline"}  # fmt: skip
    assert result_key("elsewhere.json", row) == "open/a/results/s/b/offline"


def test_classes_on_small_tables():
    primary = finish(
        [
            _row("same"),
            _row("close", power_w=1005.0),  # +0.5%
            _row("perf", performance=103.0),
            _row("off", power_w=1100.0),
            _row("ms8", "MultiStream", energy_per_query_j=16.0),
            _row("notrace", power_w=None),
            _row("onlyp"),
            _row("nopower_r"),
            _row("case", scenario_dir="offline"),  # folder spelled in lower case
            _row("nopower_both", power_w=None),
            _row("twocat"),
            _row("twocat", category="edge"),  # the reference lists it as datacenter only
        ],
        InferenceResults,
    )
    reference = finish(
        [
            _row("same", source="cmx"),
            _row("close", source="cmx"),
            _row("perf", source="cmx"),
            _row("off", source="cmx"),
            _row("ms8", "MultiStream", source="cmx"),
            _row("notrace", source="cmx"),
            _row("onlyr", source="cmx"),
            _row("nopower_r", source="cmx", power_w=None),
            _row("case", source="cmx"),
            _row("nopower_both", source="cmx", power_w=None),
            _row("twocat", source="cmx"),
        ],
        InferenceResults,
    )
    log = ProblemLog("inference", "v9.0")
    log.flag("closed/Acme/results/notrace/resnet50/Offline", "missing_trace", "no spl.txt")
    diff = compare(primary, reference, primary_problems=log.frame())
    got = dict(zip(diff.system + "/" + diff.category, diff["class"], strict=True))
    assert got == {
        "same/datacenter": "agree",
        "close/datacenter": "agree",
        "perf/datacenter": "performance_differs",
        "off/datacenter": "power_differs",
        "ms8/datacenter": "factor_8",
        "notrace/datacenter": "no_power_in_primary",
        "onlyp/datacenter": "missing_in_reference",
        "onlyr/datacenter": "missing_in_primary",
        "nopower_r/datacenter": "no_power_in_reference",
        "case/datacenter": "agree",
        "twocat/datacenter": "agree",
        "twocat/edge": "category_differs",
    }
    assert set(got.values()) <= set(CLASSES)
    close = diff[diff.system == "close"].iloc[0]
    assert close.power_rel_diff == pytest.approx(0.005)
    assert close.metric == "power_w"
    assert diff[diff.system == "ms8"].iloc[0].metric == "energy_per_query_j"
    assert diff[diff.system == "notrace"].iloc[0].primary_problems == "missing_trace"
    s = summarize(diff)
    # matched: same, close, perf, off, ms8, case, twocat; within 1%: all but off and ms8.
    assert s["matched"] == 7 and s["within_1pct"] == 5 and s["within_0_1pct"] == 4
    assert s["share_within_1pct"] == pytest.approx(5 / 7)
    assert (s["performance_compared"], s["performance_within_1pct"]) == (7, 6)
    assert (s["only_primary"], s["only_reference"]) == (1, 1)
    assert s["by_class"]["agree"] == 4 and s["by_class"]["category_differs"] == 1
    assert sum(s["by_class"].values()) == len(diff) == 12


def test_ambiguous_keys_are_not_joined():
    # Two primary results whose folders differ only in case: never joined to one reference row.
    a = _row("box")
    b = _row("BOX", power_w=500.0)
    primary = pd.concat([finish([a], InferenceResults), finish([b], InferenceResults)])
    reference = finish([_row("box", source="cmx")], InferenceResults)
    diff = compare(primary, reference)
    assert sorted(diff["class"]) == ["ambiguous_key", "ambiguous_key", "missing_in_primary"]
    assert summarize(diff)["matched"] == 0


def test_summary_v41_against_cmx_v41(checkout):
    """The two published tables of v4.1 agree on all 31 power results."""
    root = checkout("inference_results_v4.1", list(SUMMARY_PATTERNS), ref="refs/pull/2/head")
    summary = read_summary_round(root / "summary_results.json", "v4.1", "x/y", COMMIT)
    cmx = read_cmx_round(checkout("cm4mlperf-results", list(CMX_PATTERNS)), "v4.1", "x/y", COMMIT)
    s = summarize(compare(summary.results, cmx.results))
    assert (s["matched"], s["within_0_1pct"], s["performance_within_1pct"]) == (31, 31, 31)
    assert s["by_class"] == {"agree": 31}


# --- fidelity: power recomputed from the raw traces vs the published tables ------------------

# Per round: (matched, classes). Unmatched results are coverage gaps of the published tables:
# v2.0 CMX lacks the closed-power image classification / object detection results and six
# bert results of two systems (152); v2.1 CMX lacks one Fujitsu system (12) and lists a
# datacenter+edge Dell system under datacenter only (16); two v3.0 CMX power results have
# no trace in the submission tree.
CMX_FIDELITY = {
    "v2.0": (2110, {"agree": 2110, "missing_in_reference": 152}),
    "v2.1": (2463, {"agree": 2463, "missing_in_reference": 12, "category_differs": 16}),
    "v3.0": (2447, {"agree": 2447, "no_power_in_primary": 2}),
}


@pytest.fixture(scope="module")
def cmx_root(checkout):
    return checkout("cm4mlperf-results", list(CMX_PATTERNS))


def _tree(checkout, version):
    root = checkout(f"inference_results_{version}", list(TREE_PATTERNS))
    return read_tree_round(root, version, f"mlcommons/inference_results_{version}", COMMIT)


@pytest.mark.parametrize("version", sorted(CMX_FIDELITY))
def test_tree_against_cmx(checkout, cmx_root, version):
    tree = _tree(checkout, version)
    cmx = read_cmx_round(cmx_root, version, "mlcommons/cm4mlperf-results", COMMIT)
    diff = compare(tree.results, cmx.results, primary_problems=tree.problems)
    s = summarize(diff)
    matched, classes = CMX_FIDELITY[version]
    assert s["matched"] == matched
    assert s["share_within_1pct"] >= 0.98
    assert s["within_0_1pct"] == s["within_1pct"] == matched  # every published value
    assert s["performance_within_1pct"] == s["performance_compared"] == matched
    assert s["by_class"] == classes
    no_trace = diff[diff["class"] == "no_power_in_primary"]
    assert no_trace.reference_power.notna().all() and no_trace.primary_power.isna().all()


def test_tree_against_summary_v41(checkout):
    tree = _tree(checkout, "v4.1")
    root = checkout("inference_results_v4.1", list(SUMMARY_PATTERNS), ref="refs/pull/2/head")
    summary = read_summary_round(root / "summary_results.json", "v4.1", REPO41, COMMIT)
    diff = compare(tree.results, summary.results)
    s = summarize(diff)
    assert (s["matched"], s["within_0_1pct"], s["performance_within_1pct"]) == (31, 31, 31)
    assert s["by_class"] == {"agree": 31}
    assert set(diff.metric) == {"power_w", "energy_per_query_j"}
