"""Fuzz the loadgen log and spl.txt parsers and the submission-tree reader.

Each test checks a few fixed bad inputs first (a deeply nested MLLOG line, inf and negative
results, 1e308 W samples, an inf query count), then mutated real samples.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fuzzlib import (
    COMMIT,
    check_round,
    counted,
    fuzz_settings,
    mutated_json,
    mutated_mllog,
    mutated_text,
    pick,
    write_tree,
)
from hypothesis import given
from hypothesis import strategies as st

from mlperf_power_dag.parsers.loadgen import loadgen_result, parse_mllog, parse_summary
from mlperf_power_dag.parsers.spl import PowerError, parse_trace, power_metric
from mlperf_power_dag.readers.inference_tree import read_tree_round

SCENARIOS = {"offline": "Offline", "singlestream": "SingleStream", "multistream": "MultiStream"}
VERSION = "v4.1"
DEEP_LINE = ':::MLLOG {"key": "x", "value": ' + "[" * 100_000 + "]" * 100_000 + "}\n"


def _finite(x: float | None) -> bool:
    return x is None or math.isfinite(x)


def _assert_seeds_pass(seeds: dict[str, Callable[[], object]]) -> None:
    """Run the fixed bad inputs; fail naming every one that still fails, and how."""
    failed = []
    for name, check in seeds.items():
        try:
            check()
        except Exception as e:  # the point: report every failing seed, typed or not
            failed.append(f"{name}: {type(e).__name__} {(str(e).splitlines() or [''])[0][:80]}")
    assert not failed, failed


def _set_summary(summary: str, name: str, value: str) -> str:
    """A loadgen summary with the value of the line `name` replaced by `value`."""
    new, n = re.subn(rf"({re.escape(name)}\s*:\s*)\S+", lambda m: m.group(1) + value, summary)
    assert n, name
    return new


def _check_loadgen(scen: str, detail_text: str, summary_text: str) -> None:
    detail, summary = parse_mllog(detail_text), parse_summary(summary_text)
    lg = loadgen_result(SCENARIOS[scen], VERSION, "resnet50", detail, summary)
    assert _finite(lg.performance) and _finite(lg.samples_per_second), "non-finite result"
    assert lg.samples_per_second is None or lg.samples_per_second >= 0, "negative rate"
    if lg.performance_unit == "ms":
        assert lg.performance is None or lg.performance > 0, "latency <= 0 ms accepted"
    assert lg.tokens_per_sample is None or 0 < lg.tokens_per_sample < math.inf


def test_parse_mllog(budget, fuzz_long, inference_samples):
    """parse_mllog never raises (it documents 'never fatal')."""
    _assert_seeds_pass({"deeply nested line": lambda: parse_mllog(DEEP_LINE)})
    details = [inference_samples[s]["detail"] for s in SCENARIOS]

    @fuzz_settings(budget(100), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        parse_mllog(mutated_mllog(data.draw, pick(data.draw, details)))

    run()


def _fast_summary(text: str, seconds: float = 2.0) -> None:
    start = time.monotonic()
    parse_summary(text)
    took = time.monotonic() - start
    assert took < seconds, f"parse_summary took {took:.1f} s"


def test_parse_summary(budget, fuzz_long, inference_samples):
    """parse_summary never raises and takes well under 2 s."""
    _assert_seeds_pass({"a line of 360 spaces": lambda: _fast_summary(" " * 360 + "x")})
    summaries = [inference_samples[s]["summary"] for s in SCENARIOS]

    @fuzz_settings(budget(100), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        parse_summary(mutated_text(data.draw, pick(data.draw, summaries)))

    run()


def test_loadgen_result(budget, fuzz_long, inference_samples):
    """The headline result is finite, rates are >= 0 and latencies > 0, or None."""
    off, ss = inference_samples["offline"], inference_samples["singlestream"]
    inf_rate = _set_summary(off["summary"], "Samples per second", "inf")
    negative_latency = _set_summary(
        ss["summary"], "Early stopping 90th percentile estimate", "-1e300"
    )
    _assert_seeds_pass(
        {
            "Samples per second: inf": lambda: _check_loadgen("offline", "", inf_rate),
            "latency -1e300 ns": lambda: _check_loadgen("singlestream", "", negative_latency),
        }
    )

    @fuzz_settings(budget(100), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        scen = pick(data.draw, sorted(SCENARIOS))
        s = inference_samples[scen]
        detail = s["detail"]
        summary = s["summary"]
        if data.draw(st.booleans()):
            detail = mutated_mllog(data.draw, detail)
        else:
            detail = "" if data.draw(st.booleans()) else detail
            summary = mutated_text(data.draw, summary)
        _check_loadgen(scen, detail, summary)

    run()


def test_spl_power_metric(budget, fuzz_long, inference_samples):
    """parse_trace never raises; power_metric raises only PowerError and returns finite
    positive numbers."""
    off, ss = inference_samples["offline"], inference_samples["singlestream"]
    huge = "".join(
        re.sub(r"^(Time,[^,]*,Watts,)[^,]*", r"\g<1>1e308", x)
        for x in off["spl"].splitlines(keepends=True)
    )
    inf_queries = re.sub(
        r'("key": "result_query_count", "value": )[^,]*', r"\g<1>1e999", ss["detail"]
    )
    _assert_seeds_pass(
        {
            "samples of 1e308 W": lambda: _check_power("offline", off["detail"], huge),
            "result_query_count 1e999": lambda: _check_power(
                "singlestream", inf_queries, ss["spl"]
            ),
        }
    )

    @fuzz_settings(budget(150), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        scen = pick(data.draw, sorted(SCENARIOS))
        s = inference_samples[scen]
        spl, detail = s["spl"], s["detail"]
        if data.draw(st.integers(0, 3)) == 0:
            detail = mutated_mllog(data.draw, detail)
        else:
            spl = mutated_text(data.draw, spl)
        _check_power(scen, detail, spl)

    run()


def _check_power(scen: str, detail_text: str, spl: str) -> None:
    trace = parse_trace(spl.encode("utf-8", errors="surrogatepass"))
    assert all(math.isfinite(w) for w in trace.watts)
    try:
        m = power_metric(parse_mllog(detail_text), trace, SCENARIOS[scen], VERSION)
    except PowerError:
        return
    assert 0 < m.power_w < math.inf, "mean power not a finite positive number"
    assert m.energy_per_query_j is None or 0 < m.energy_per_query_j < math.inf


def test_tree_reader(budget, fuzz_long, inference_samples):
    """A one-system tree (three scenarios with power) with 1-2 files mutated: the reader
    never raises and every number in its table is finite."""
    base = _tree(inference_samples)
    off = RESULT.format(s="offline")
    bad = dict(base)
    bad[off + "mlperf_log_summary.txt"] = _set_summary(
        base[off + "mlperf_log_summary.txt"], "Samples per second", "inf"
    )
    bad.pop(off + "mlperf_log_detail.txt")
    extreme = dict(base)  # finite inputs whose samples per joule is not: 1e308 / 1e-300
    extreme[off + "mlperf_log_detail.txt"] = re.sub(
        r'("key": "result_samples_per_second", "value": )[^,]*',
        r"\g<1>1e308",
        base[off + "mlperf_log_detail.txt"],
    )
    extreme[off + "spl.txt"] = re.sub(
        r"^(Time,[^,]*,Watts,)[^,]*", r"\g<1>1e-300", base[off + "spl.txt"], flags=re.M
    )
    _assert_seeds_pass(
        {
            "offline summary: Samples per second inf": lambda: _read_tree(bad),
            "samples/s 1e308 at 1e-300 W": lambda: _read_tree(extreme),
        }
    )
    names = sorted(base)

    @fuzz_settings(budget(25), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        tree = dict(base)
        for _ in range(data.draw(st.integers(1, 2))):
            name = pick(data.draw, names)
            if name.endswith(".json"):
                tree[name] = mutated_json(data.draw, json.loads(base[name]))
            elif name.endswith("detail.txt"):
                tree[name] = mutated_mllog(data.draw, base[name])
            else:
                tree[name] = mutated_text(data.draw, base[name])
        _read_tree(tree)

    run()


RESULT = "closed/UntetherAI/results/h13_u3_slim/resnet50/{s}/performance/run_1/"


def _tree(samples: dict[str, dict[str, str]]) -> dict[str, str]:
    tree = {"closed/UntetherAI/systems/h13_u3_slim.json": samples["system"]["json"]}
    for scen in SCENARIOS:
        d = RESULT.format(s=scen)
        tree[d + "mlperf_log_summary.txt"] = samples[scen]["summary"]
        tree[d + "mlperf_log_detail.txt"] = samples[scen]["detail"]
        tree[d + "spl.txt"] = samples[scen]["spl"]
    return tree


def _read_tree(tree: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as d:
        write_tree(Path(d), tree)
        table = read_tree_round(Path(d), VERSION, "mlcommons/inference_results_v4.1", COMMIT)
    check_round(table)
