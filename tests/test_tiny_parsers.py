"""Unit tests of the MLPerf Tiny runner-output parsers on small synthetic texts."""

from __future__ import annotations

import pytest

from mlperf_power_dag.parsers.tiny_results import (
    agrees,
    energy_from_results_json,
    parse_accuracy_text,
    parse_energy_text,
    parse_number,
    parse_performance_text,
    parse_runner_log,
    split_lines,
    throughputs_from_results_json,
)


@pytest.mark.parametrize(
    ("text", "value", "grouped"),
    [
        ("1234.5", 1234.5, False),
        ("1,234.5", 1234.5, True),
        ("12,345,678.25", 12345678.25, True),
        ("1e-3", 0.001, False),
        ("-2.5", -2.5, False),
        (".5", 0.5, False),
        ("1,23", None, False),  # decimal comma: ambiguous, not read
        ("12,34.5", None, False),
        ("n/a", None, False),
        ("nan", None, False),
        ("", None, False),
    ],
)
def test_parse_number(text, value, grouped):
    p = parse_number(text)
    assert p.value == value
    assert p.grouped is grouped


CLASSIC_ENERGY = """\
00100.001 ulp-ml: Energy data for window 2 at time 11.00 for 10.10 sec.:
00100.001 ulp-ml:   Energy       :   101000.000 uJ
00100.001 ulp-ml:   Power        :    10000.000 uW
00100.001 ulp-ml:   Energy/Inf.  :      100.000 uJ/inf.
00100.002 ulp-ml: Energy data for window 4 at time 31.00 for 10.10 sec.:
00100.002 ulp-ml:   Energy       :   103020.000 uJ
00100.002 ulp-ml:   Power        :    10200.000 uW
00100.002 ulp-ml:   Energy/Inf.  :      102.000 uJ/inf.
00100.003 ulp-ml: Energy data for window 6 at time 51.00 for 10.10 sec.:
00100.003 ulp-ml:   Energy       :   102010.000 uJ
00100.003 ulp-ml:   Power        :    10100.000 uW
00100.003 ulp-ml:   Energy/Inf.  :      101.000 uJ/inf.
00100.004 ulp-ml: ---------------------------------------------------------
00100.004 ulp-ml: Median energy cost is 101.000 uJ/inf.
00100.004 ulp-ml: ---------------------------------------------------------
00100.005 ulp-ml: Performance results for window 2:
00100.005 ulp-ml:   # Inferences :          1010
00100.005 ulp-ml:   Runtime      :       10.100 sec.
00100.005 ulp-ml:   Throughput   :      100.000 inf./sec.
00100.005 ulp-ml: Runtime requirements have been met.
00100.006 ulp-ml: Performance results for window 4:
00100.006 ulp-ml:   # Inferences :          1010
00100.006 ulp-ml:   Runtime      :        9.900 sec.
00100.006 ulp-ml:   Throughput   :      102.000 inf./sec.
00100.006 ulp-ml: e-[The run must take at least 10 seconds and 10 iterations to be valid]
00100.007 ulp-ml: Median throughput is 101.000 inf./sec.
00100.007 ulp-ml: Cannot compute accuracy metrics in single-run mode.
"""


def test_classic_energy_text():
    run = parse_energy_text(CLASSIC_ENERGY)
    assert run.fmt == "runner"
    assert [w.index for w in run.windows] == [2, 4, 6]
    assert [w.energy_per_inference_uj for w in run.windows] == [100.0, 102.0, 101.0]
    assert [w.seconds for w in run.windows] == [10.1, 10.1, 10.1]
    assert run.median_uj == 101.0 and run.median_decimals == 3
    assert run.recomputed_median_uj == 101.0
    assert run.energy_per_inference_uj == 101.0
    # median of the logged window powers (10.0, 10.2, 10.1 mW)
    assert run.power_w == pytest.approx(0.0101)
    # the energy run's own throughput printout is kept apart
    assert [w.throughput_ips for w in run.perf_windows] == [100.0, 102.0]
    assert [w.runtime_met for w in run.perf_windows] == [True, False]
    assert run.median_ips == 101.0
    assert run.windows_below_minimum == 1
    assert run.issues == []


def test_energy_text_with_thousands_separators_and_bad_window():
    text = (
        "ulp-ml: Energy data for window 2 at time 1.00 for 10.00 sec.:\n"
        "ulp-ml:   Energy       :  1,234,500.000 uJ\n"
        "ulp-ml:   Power        :    123,450.000 uW\n"
        "ulp-ml:   Energy/Inf.  :      1,234.500 uJ/inf.\n"
        "ulp-ml: Energy data for window 4 at time 21.00 for 10.00 sec.:\n"
        "ulp-ml:   Energy/Inf.  :      1.234,5 uJ/inf.\n"
        "ulp-ml: something the runner never prints\n"
    )
    run = parse_energy_text(text)
    assert run.windows[0].energy_per_inference_uj == 1234.5
    assert run.windows[0].energy_uj == 1234500.0
    assert run.windows[0].power_w == pytest.approx(0.12345)
    assert run.windows[1].energy_per_inference_uj is None
    assert run.median_uj is None
    assert run.energy_per_inference_uj == 1234.5  # recomputed from the one complete window
    kinds = [i.kind for i in run.issues]
    assert kinds == [
        "unparseable_value",
        "thousands_separator",
        "incomplete_window",
        "unrecognized_line",
    ]
    assert "3 value(s)" in run.issues[1].message


POWER_EDITION = """\
Power Edition Output
Energy data for trial 0
  Elapsed time  : 10.5
  Inferences    : 50
  Power         : 20.0000 mW.
  Total Energy  : 210000.000 uJ
  Energy/Inf    : 4200.000 uJ/inf
Energy data for trial 1
  Elapsed time  : 9.5  <<<< below minimum duration
  Inferences    : 50
  Power         : 21.0000 mW.
  Total Energy  : 199500.000 uJ
  Energy/Inf    : 3990.000 uJ/inf
Energy data for trial 2
  Elapsed time  : 10.7
  Inferences    : 50
  Power         : 19.0000 mW.
  Total Energy  : 203300.000 uJ
  Energy/Inf    : 4066.000 uJ/inf
---------------------------------------------------------
Median energy cost is 4066.0000 uJ/inf.
---------------------------------------------------------
ERROR: Not valid for submission.  All inference times must be at least 10 seconds.
"""


def test_power_edition_energy_text():
    run = parse_energy_text(POWER_EDITION)
    assert run.fmt == "power_edition"
    assert [w.inferences for w in run.windows] == [50, 50, 50]
    assert [w.runtime_met for w in run.windows] == [True, False, True]
    assert run.windows[0].energy_uj == 210000.0
    assert run.median_uj == 4066.0 and run.median_decimals == 4
    assert run.power_w == pytest.approx(0.020)
    assert run.windows_below_minimum == 1
    assert run.runner_errors == [
        "ERROR: Not valid for submission.  All inference times must be at least 10 seconds."
    ]
    assert run.streaming is None
    assert run.issues == []


def test_streaming_energy_text_keeps_the_summary():
    text = (
        "Power Edition Output\nEnergy data for trial 0\n  Elapsed time  : 1200.5\n"
        "  Inferences    : 1\n  Power         : 12.5000 mW.\n"
        "  Total Energy  : 15006250.000 uJ\n  Energy/Inf    : 15006250.000 uJ/inf\n"
        "Median energy cost is 15006250.0000 uJ/inf.\n"
        "Accuracy: 40 True positives, 10 False negatives, 3 False positives\n"
        "Average duty cycle: 0.5\nAverage period: 0.032 s\nEstimated throughput: 62.5 inf./sec.\n"
    )
    run = parse_energy_text(text)
    assert run.streaming is not None
    assert run.streaming.true_positives == 40
    assert run.streaming.false_negatives == 10
    assert run.streaming.false_positives == 3
    assert run.streaming.estimated_throughput_ips == 62.5
    assert run.power_w == pytest.approx(0.0125)
    assert run.windows[0].seconds == 1200.5
    assert run.issues == []


def test_v13_performance_text_and_missing_median():
    text = (
        "Performance results for window 1\n    # Inferences : 70\n    Runtime: 11.5 sec.\n"
        "    Throughput: 6.08695652173913 inf./sec.\n    Runtime requirements have been met.\n"
        "Performance results for window 2\n    # Inferences : 70\n    Runtime: 11.6 sec.\n"
        "    Throughput: 6.0344827586206895 inf./sec.\n    Runtime requirements have been met.\n"
    )
    run = parse_performance_text(text)
    assert run.fmt == "power_edition"
    assert run.median_ips is None
    assert run.recomputed_median_ips == pytest.approx((6.08695652173913 + 6.0344827586206895) / 2)
    assert run.throughput_ips == run.recomputed_median_ips
    assert run.issues == []


def test_streaming_performance_text():
    text = (
        "Accuracy: 44 True positives, 6 False negatives, 4 False positives\n"
        "Average duty cycle: 0.25\nAverage period: 0.032 s\nEstimated throughput: 125.0 inf./sec.\n"
    )
    run = parse_performance_text(text)
    assert run.fmt == "streaming"
    assert run.windows == []
    assert run.throughput_ips == 125.0


def test_repeated_lines_are_dropped_and_counted():
    line = "00001.000 ulp-mlperf: Median throughput is 3.500 inf./sec."
    lines, repeats = split_lines("\n".join([line] * 5))
    assert lines == ["Median throughput is 3.500 inf./sec."]
    assert repeats == 4
    run = parse_performance_text("\n".join([line] * 5))
    assert run.median_ips == 3.5
    assert [i.kind for i in run.issues] == ["repeated_lines"]


@pytest.mark.parametrize(
    ("text", "top1", "auc"),
    [
        ("00001.0 ulp-mlperf: Top-1: 87.0%\n00001.1 ulp-mlperf: AUC: 0.98\n", 87.0, 0.98),
        ("0726.005 ulp-mlperf: Top 1% = 86.5\n0726.005 ulp-mlperf: AUC = 0.912\n", 86.5, 0.912),
    ],
)
def test_accuracy_text(text, top1, auc):
    acc = parse_accuracy_text(text)
    assert (acc.top1_pct, acc.auc) == (top1, auc)
    assert acc.issues == []


RUNNER_LOG = """\
00001.000 parser: m-bmark-run-name[ML Performance 1.0.1]-code[ulp-mlperf]
00001.100 dut: m-lap-us-5
00002.000 dut: m-infer-start-100
00002.000 dut: m-lap-us-1000000
got feature interrupt
m-lap-us-21000000
00022.000 dut: m-infer-done
00023.000 dut: m-infer-start-100
00023.000 dut: m-lap-us-30000000
00031.000 dut: m-lap-us-38000000
00031.000 dut: m-infer-done
00032.000 dut: m-infer-start-100
00032.000 dut: m-lap-us-40000000
00044.500 dut: m-lap-us-52500000
00044.500 dut: m-infer-done
"""


def test_runner_log_windows_and_median():
    run = parse_runner_log(RUNNER_LOG)
    assert run.fmt == "runner_log"
    # 100 inferences in 20 s, 8 s (too short) and 12.5 s
    assert [w.throughput_ips for w in run.windows] == [5.0, 12.5, 8.0]
    assert [w.runtime_met for w in run.windows] == [True, False, True]
    assert run.throughput_ips == 8.0
    assert run.windows_below_minimum == 1
    assert run.issues == []


def test_runner_log_of_an_energy_session_is_refused():
    run = parse_runner_log("parser: m-bmark-run-name[ML Energy 1.0.1]-code[ulp-ml]\n")
    assert run.throughput_ips is None
    assert [i.kind for i in run.issues] == ["not_performance_log"]


def test_energy_from_results_json_mirrors_the_runner():
    # 1 kHz samples of 1e-6 J: 2000 samples between the last two events = 2 s, 2000 uJ
    trial = {
        "infer": {"iterations": 20},
        "power": {"samples": [1e-6] * 3000, "timestamps": [["00", 100], ["01", 500], ["02", 2500]]},
    }
    other = {
        "infer": {"iterations": 10},
        "power": {"samples": [2e-6] * 1500, "timestamps": [["03", 200], ["04", 1200]]},
    }
    je = energy_from_results_json([trial, other])
    assert je.trials_uj == pytest.approx([100.0, 200.0])
    assert je.trial_seconds == pytest.approx([2.0, 1.0])
    assert je.median_uj == pytest.approx(150.0)
    assert je.issues == []


def test_energy_from_results_json_bad_trials():
    broken = [
        {"infer": {"iterations": 5}, "power": {"samples": [1.0], "timestamps": [["00", 0]]}},
        {"infer": {}, "power": {"samples": [], "timestamps": []}},
        {
            "infer": {"iterations": 5},
            "power": {"samples": [1.0] * 9, "timestamps": [["00", 1], ["02", 5]]},
        },
    ]
    broken.append(
        {
            "infer": {"iterations": 5},
            "power": {"samples": [1.0, None, "x"], "timestamps": [["00", 0], ["01", 3]]},
        }
    )
    je = energy_from_results_json(broken)
    assert je.trials_uj == []
    assert [i.kind for i in je.issues] == ["bad_json"] * 4
    assert "non-numeric" in je.issues[3].message
    assert energy_from_results_json({"not": "a list"}).issues[0].kind == "bad_json"


def test_throughputs_from_results_json():
    vals, issues = throughputs_from_results_json(
        [
            {"infer": {"throughput": 2.5}},
            {"infer": {"throughput": 3.5}},
            {"error": "error 2"},
            {"infer": "garbage"},
            "not a window",
        ]
    )
    assert vals == [2.5, 3.5]
    assert [i.kind for i in issues] == ["runner_error", "bad_json", "bad_json"]


def test_agrees_uses_the_printed_precision():
    assert agrees(160.42321, 160.4232, 4)
    assert not agrees(160.4242, 160.4232, 4)
    assert agrees(160.4230, 160.4232, 3)
