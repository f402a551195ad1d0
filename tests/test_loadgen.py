"""Loadgen summary/detail parsing and the checker's headline result per scenario and round."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlperf_power_dag.parsers.loadgen import (
    canonical_scenario,
    loadgen_result,
    parse_mllog,
    parse_summary,
    read_mllog,
    read_summary,
    server_field,
    token_headline_field,
)

FIX = Path(__file__).parent / "fixtures" / "inference"


def test_canonical_scenario():
    assert canonical_scenario("offline") == "Offline"
    assert canonical_scenario("Multi Stream") == "MultiStream"
    assert canonical_scenario("SingleStream\r") == "SingleStream"
    assert canonical_scenario("Interactive") is None


def test_parse_mllog_first_occurrence_and_malformed_lines():
    log = read_mllog(FIX / "detail_offline.txt")
    assert log.malformed == 1  # the truncated JSON line; the stray stdout line is ignored
    assert log.get("power_begin") == "01-02-2023 10:00:00.000"  # not the later duplicate
    assert log.number("result_samples_per_second") == 1000.5
    assert log.number("result_validity") is None  # not a number
    assert log.messages == 10
    empty = parse_mllog("no marker here\n:::MLLOG {}\n")
    assert (empty.values, empty.malformed) == ({}, 1)


def _line(key: str, value: str, error: str = "false", file: str = "/src/loadgen.cc") -> str:
    return (
        f':::MLLOG {{"key": "{key}", "value": {value}, "time_ms": 0.014336, "namespace": '
        f'"mlperf::logging", "event_type": "POINT_IN_TIME", "metadata": {{"is_error": {error}, '
        f'"is_warning": false, "file": "{file}", "line_no": 54, "pid": 550, "tid": 550}}}}'
    )


def _typed(log) -> tuple:
    values = [(k, type(v).__name__, repr(v)) for k, v in log.values.items()]
    return values, log.messages, log.malformed, log.errors


STANDARD = [
    _line("s", '"SingleStream"'),
    _line("empty", '""'),
    _line("i", "10003631887983097364"),
    _line("neg", "-0"),
    _line("f", "0.9"),
    _line("e", "2.92127e+06"),
    _line("t", "true"),
    _line("n", "null"),
    _line("qsl", "[205,730,0,79]"),
    _line("qsl0", "[]"),
    _line("sha", '{"/a.cc":"012a","/b, c":"3f"}'),
    _line("esc", '"a\\nb \\"q\\" \\u00e9"'),
    _line("nested", '{"a": [1, {"b": null}]}'),
    _line("err", '"boom"', error="true"),
    _line("s", '"later value, ignored"'),
    "stray stdout line",
]
ODD = [
    _line("dup", '1, "key": "renamed"'),  # valid JSON: the second "key" wins
    _line("badnum", "01"),
    _line("nan", "NaN"),  # Python's json accepts it
    _line("dot", "1."),
    _line("zeros", "[01,2]"),
    _line("gap", "[1,,2]"),
    _line("lead", "[,1]"),
    _line("trail", "[1,]"),
    _line("bigzero", "[1,02]"),
    _line("tab", '"a\tb"'),  # control character in a string: invalid
    _line("winpath", '"x"', file="C:\\\\src\\\\loadgen.cc"),
    _line("badesc", '"x"', file="C:\\src"),
    _line("trunc", '"x"')[:-2],
    _line("é", '"ü"'),
    ':::MLLOG {"key": "compact","value": 1}',
    ":::MLLOG [1, 2]",
    _line("map", '{"a":"b",}'),
    _line("runs\non", "1"),  # a string running on into the next line: two bad lines
    _line("file", "1", file="/src\nloadgen.cc"),
    _line("value", '"a\nb"'),
    _line("twice", "1") + _line("again", "2"),
    "noise " + _line("late", "1"),
    _line("deep", "[" * 100_000 + "]" * 100_000),  # too deep for the decoder: malformed
]


@pytest.mark.parametrize("odd", [None, *ODD])
@pytest.mark.parametrize("sep", ["\n", "\r\n"])
def test_parse_mllog_fast_path_equals_line_by_line_json(odd, sep):
    from mlperf_power_dag.parsers.loadgen import _parse_json_lines, _parse_loadgen_lines

    lines = STANDARD if odd is None else [*STANDARD[:5], odd, *STANDARD[5:]]
    text = sep.join(lines) + sep
    assert _typed(parse_mllog(text)) == _typed(_parse_json_lines(text))
    if odd is None:
        assert (_parse_loadgen_lines(text) is None) == (sep == "\r\n")  # CR: line by line
        log = parse_mllog(text)
        assert (log.messages, log.malformed, log.errors) == (15, 0, 1)
        assert log.get("qsl") == [205, 730, 0, 79] and log.get("s") == "SingleStream"
        assert log.get("i") == 10003631887983097364 and log.get("esc") == 'a\nb "q" é'


def test_parse_mllog_line_breaks_as_splitlines():
    from mlperf_power_dag.parsers.loadgen import _parse_json_lines

    text = "noise\x0b" + _line("hidden", "1") + "\n" + _line("k", "2") + "\n"
    assert _typed(parse_mllog(text)) == _typed(_parse_json_lines(text))
    assert parse_mllog(text).get("hidden") == 1


def test_parse_summary_nul_spaces_and_crlf():
    old = read_summary(FIX / "summary_v05_multistream.txt")
    assert old.scenario == "MultiStream"  # "Multi Stream"
    assert old.fields["SUT name"] == "HABANA_Runner"  # NUL byte dropped
    assert old.number("Samples per query") == 262 and old.result_is == "VALID"
    crlf = read_summary(FIX / "summary_server_crlf.txt")
    assert crlf.scenario == "Server"
    assert crlf.number("Scheduled samples per second") == 1234.56
    assert crlf.number("Completed samples per second") == 1230.0
    inv = read_summary(FIX / "summary_singlestream_invalid.txt")
    assert inv.result_is == "INVALID"
    assert inv.number("Early stopping 90th percentile estimate") == 474917
    assert parse_summary("").scenario is None


def test_parse_summary_whitespace_lines_are_linear():
    # A whitespace-only line once sent a regex into super-linear backtracking (500 spaces: 17 s).
    text = "Scenario : Offline\n" + " " * 5000 + "\n\t" + " \t" * 2500 + "\n*  : no name\n"
    text += "  * Samples per second :  12.5  \n" + " " * 5000 + ":" + " " * 5000 + "\n"
    summary = parse_summary(text)
    assert summary.fields == {"Scenario": "Offline", "Samples per second": "12.5"}
    assert summary.number("Samples per second") == 12.5


def test_offline_server_fields_by_round():
    off = loadgen_result("Offline", "v3.0", "bert-99", read_mllog(FIX / "detail_offline.txt"), None)
    assert (off.performance, off.performance_unit, off.samples_per_second) == (
        1000.5,
        "samples/s",
        1000.5,
    )
    assert off.valid and off.source == "detail" and not off.notes
    summary = read_summary(FIX / "summary_server_crlf.txt")
    old = loadgen_result("Server", "v3.0", "resnet50", None, summary)
    new = loadgen_result("Server", "v4.1", "resnet50", None, summary)
    assert (old.performance, old.performance_unit) == (1234.56, "queries/s")  # scheduled
    assert (new.performance, new.samples_per_second) == (1230.0, 1230.0)  # completed
    assert server_field("v4.0") == "result_scheduled_samples_per_sec"


def test_singlestream_latency_field_by_round():
    detail = read_mllog(FIX / "detail_singlestream.txt")
    v1 = loadgen_result("SingleStream", "v1.1", "resnet50", detail, None)
    v2 = loadgen_result("SingleStream", "v2.0", "resnet50", detail, None)
    assert (v1.performance, v1.performance_unit) == (2.4, "ms")  # 90th percentile
    assert v2.performance == 2.5  # early-stopping estimate
    assert v2.samples_per_second is None and v2.samples_per_query == 1
    summ = loadgen_result(
        "SingleStream",
        "v2.0",
        "resnet50",
        None,
        read_summary(FIX / "summary_singlestream_invalid.txt"),
    )
    assert (summ.performance, summ.valid, summ.source) == (0.474917, False, "summary")


def test_inferred_results():
    ss = read_mllog(FIX / "detail_singlestream.txt")
    ms = loadgen_result("MultiStream", "v2.1", "resnet50", ss, None)
    assert ms.inferred and ms.performance == 3000000 * 8 / 1e6  # 99th-pct estimate x 8
    assert ms.samples_per_query == 8
    off = loadgen_result("Offline", "v2.1", "resnet50", ss, None)
    assert off.inferred and off.performance == off.samples_per_second == 416.5
    multi = read_mllog(FIX / "detail_multistream_invalid.txt")
    off_ms = loadgen_result("Offline", "v3.0", "resnet50", multi, None)
    assert off_ms.inferred and off_ms.performance == 8 * 1000 / (8000000 / 1e6)
    assert not off_ms.valid


def test_legacy_multistream_and_mismatch():
    old = loadgen_result(
        "MultiStream", "v0.5", "resnet", None, read_summary(FIX / "summary_v05_multistream.txt")
    )
    assert (old.performance, old.performance_unit, old.samples_per_query) == (
        262,
        "samples/query",
        262,
    )
    assert old.legacy_multistream
    odd = loadgen_result("Server", "v3.0", "bert-99", read_mllog(FIX / "detail_offline.txt"), None)
    assert odd.performance is None and odd.notes[0][0] == "scenario_mismatch"
    with pytest.raises(ValueError):
        loadgen_result("Server", "v3.0", "bert-99", None, None)


def test_token_rates_from_the_log():
    d = read_mllog(FIX / "detail_llm_server.txt")
    r41 = loadgen_result("Server", "v4.1", "llama2-70b-99", d, None)
    assert (r41.performance, r41.performance_unit) == (2930.0, "tokens/s")
    assert r41.samples_per_second == 10.0  # completed samples/s (the v4.1 checker's field)
    assert r41.tokens_per_sample == 293.0
    r40 = loadgen_result("Server", "v4.0", "llama2-70b-99", d, None)
    assert (r40.performance, r40.performance_unit, r40.samples_per_second) == (
        10.5,
        "queries/s",
        10.5,
    )
    assert r40.tokens_per_sample == 293.0
    assert token_headline_field("gptj-99.9", "Offline", "v4.1") == (
        "result_inferred_tokens_per_second"
    )
    assert token_headline_field("gptj-99", "Offline", "v3.0") is None
    assert token_headline_field("resnet50", "Offline", "v4.1") is None


def test_real_v41_llm_logs(checkout):
    base = "closed/NVIDIA/results/H200-SXM-141GBx8_TRT_MaxQ"
    runs = [f"{base}/{b}/{s}" for b in ("llama2-70b-99", "gptj-99") for s in ("Offline", "Server")]
    root = checkout("inference_results_v4.1", [f"/{r}/performance/run_1/*.txt" for r in runs])

    def read(rel: str, bench: str, scen: str):
        run = root / rel / "performance" / "run_1"
        det, summ = (
            read_mllog(run / "mlperf_log_detail.txt"),
            read_summary(run / "mlperf_log_summary.txt"),
        )
        return loadgen_result(scen, "v4.1", bench, det, summ)

    off = read(runs[0], "llama2-70b-99", "Offline")
    assert (off.performance, off.performance_unit, off.samples_per_second) == (
        25262.1,
        "tokens/s",
        86.7369,
    )
    assert off.tokens_per_sample == 25262.1 / 86.7369
    srv = read(runs[1], "llama2-70b-99", "Server")
    assert (srv.performance, srv.samples_per_second) == (23113.1, 79.3572)
    gptj = read(runs[3], "gptj-99", "Server")
    assert (gptj.performance, gptj.samples_per_second) == (11700.8, 169.577)
    # GPT-J logs carry loadgen's "inferred" token rate: a constant ~69 tokens per sample
    assert gptj.tokens_per_sample == pytest.approx(69.0, abs=0.01)


def test_real_v20_multistream_inferred_from_singlestream(checkout):
    rel = (
        "open/Krai/results/xavier-power.0-fan.cool-tflite-v2.7.1-ruy/"
        "mobilenet-v2-0.5-96-non-quantized/multistream"
    )
    root = checkout("inference_results_v2.0", [f"/{rel}/performance/run_1/*.txt"])
    run = root / rel / "performance" / "run_1"
    r = loadgen_result(
        "MultiStream", "v2.0", "mobilenet", read_mllog(run / "mlperf_log_detail.txt"), None
    )
    assert r.effective_scenario == "SingleStream" and r.inferred
    assert r.performance == 6077202 * 8 / 1e6  # early_stopping_latency_ms x 8, in ms
