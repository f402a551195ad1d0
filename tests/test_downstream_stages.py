"""How the downstream stage of `mlperf-power build` is split into runs that may go in parallel."""

from __future__ import annotations

from mlperf_power_dag.asset_inputs import FIGURE_SUITES, REPORT_KEY, downstream_tables
from mlperf_power_dag.cli import downstream_stages

ALL = list(downstream_tables())


def _lane_of(stage: list[list[str]], key: str) -> int:
    return next(i for i, group in enumerate(stage) if key in group)


def test_one_lane_is_one_run_of_everything():
    assert downstream_stages(ALL, 1) == [[ALL]]
    assert downstream_stages([], 1) == []


def test_two_lanes_keep_each_table_with_what_reads_it_rounds_first_and_the_report_last():
    stages = downstream_stages(ALL, 2)
    assert len(stages) == 3
    first, lanes, last = stages
    assert first == [["rounds"]]  # read by the metric tables, several figures and the report
    assert last == [[REPORT_KEY]]
    assert len(lanes) == 2
    assert sorted(k for lane in lanes for k in lane) == sorted(
        k for k in ALL if k not in (REPORT_KEY, "rounds")
    )
    for table, readers in {
        "inference_best_efficiency": ("fig5a", "fig5b"),
        "inference_accuracy_pairs": ("fig8", "fig9"),
        "inference_software_gains": ("fig10",),
        "inference_reference_results": ("inference_crosscheck",),
        "tiny_reference_results": ("tiny_crosscheck",),
    }.items():
        assert {_lane_of(lanes, r) for r in readers} == {_lane_of(lanes, table)}, table
    figures = [sum(k in FIGURE_SUITES for k in lane) for lane in lanes]
    assert sorted(figures) == [5, 6]  # 11 figures, spread evenly


def test_a_table_many_assets_read_is_built_first_with_what_it_reads():
    inputs = {
        "base": ("pre",),
        **{f"fig{i}": ("base",) for i in (1, 2, 6, 7)},
        "fig5a": ("metric",),
        "metric": ("base",),
    }
    todo = ["pre", "base", "metric", "fig1", "fig2", "fig5a", "fig6", "fig7", REPORT_KEY]
    first, lanes, last = downstream_stages(todo, 2, inputs)
    assert first == [["pre", "base"]]
    assert sorted(k for lane in lanes for k in lane) == ["fig1", "fig2", "fig5a", "fig6", "fig7",
                                                         "metric"]  # fmt: skip
    assert _lane_of(lanes, "fig5a") == _lane_of(lanes, "metric")
    assert last == [[REPORT_KEY]]


def test_a_single_figure_is_one_group():
    assert downstream_stages(["fig5a"], 2) == [[["fig5a"]]]
    assert downstream_stages(["inference_best_efficiency", "fig5a"], 2) == [
        [["inference_best_efficiency", "fig5a"]]
    ]
