"""PTD traces and the checker's power metric: synthetic edge cases and published values."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mlperf_power_dag.parsers.loadgen import parse_mllog, read_mllog
from mlperf_power_dag.parsers.spl import (
    PowerError,
    checker_power_metric,
    drops_nonpositive,
    parse_trace,
    parse_traces,
    power_metric,
    power_window,
    read_trace,
)

FIX = Path(__file__).parent / "fixtures" / "inference"
# the nine samples strictly inside (10:00:00.000, 10:00:10.000) of spl_window.txt
INSIDE = [100.0, 110.0, 120.0, 130.0, -2.0, 150.0, 160.0, 170.0, 180.0]


def test_parse_trace_formats_and_malformed_lines():
    tr = read_trace(FIX / "spl_window.txt")
    # 16 non-blank lines: 14 samples (12- and 39-field, CRLF), a garbage line, a bad date
    assert (tr.lines, tr.malformed, tr.time.size) == (16, 2, 14)
    assert tr.watts[3:12].tolist() == INSIDE
    assert tr.time[0] == np.datetime64("2023-01-02T09:59:58.000")
    assert tr.time[-1] == np.datetime64("2023-01-02T10:00:11.000")


def test_parse_trace_slow_path_and_empty():
    data = b"Time,01-02-2023 10:00:01.5,Watts,7.25\nTime,02-30-2023 10:00:01.000,Watts,1\n\n"
    tr = parse_trace(data)
    assert tr.time.tolist() == [np.datetime64("2023-01-02T10:00:01.500", "ns").astype(object)]
    assert tr.watts.tolist() == [7.25]
    assert tr.malformed == 1  # 30 February
    bad_times = [b"10:75:01.000", b"24:00:01.000", b"23:59:60.000", b"1x:00:00.000"]
    bad = parse_trace(b"".join(b"Time,01-02-2023 %s,Watts,1\n" % t for t in bad_times))
    assert (bad.lines, bad.malformed) == (4, 4)
    assert parse_trace(b"").time.size == 0
    assert parse_trace(b"\n\n  \n").lines == 0
    junk = parse_trace(b"not,a,trace\nTime,x,Watts,abc\n")
    assert (junk.lines, junk.malformed, junk.time.size) == (2, 2, 0)


def test_number_forms_read_as_float_does():
    forms = [b"94.290000", b"-0.5", b"+7", b".5", b"5.", b"1e3", b"1234567890123456789012.5"]
    data = b"".join(b"Time,01-02-2023 10:00:01.000,Watts,%s,Volts,1\n" % f for f in forms)
    tr = parse_trace(
        data + b"Time,01-02-2023 10:00:01.000,Watts,-\nTime,01-02-2023 10:00:01.000,Watts,1.2.3\n"
    )
    assert tr.watts.tolist() == [float(f) for f in forms]
    assert tr.malformed == 2


def test_batched_parse_equals_one_by_one():
    blobs = [(FIX / n).read_bytes() for n in ("spl_window.txt", "spl_outside.txt")]
    blobs += [b"", b"garbage\n", blobs[0].replace(b"\n", b"\r\n")]
    batch = parse_traces(blobs)
    for one, data in zip(batch, blobs, strict=True):
        single = parse_trace(data)
        assert one.watts.tolist() == single.watts.tolist()
        assert one.time.tolist() == single.time.tolist()
        assert (one.lines, one.malformed) == (single.lines, single.malformed)
    assert [t.time.size for t in batch] == [14, 2, 0, 0, 14]
    assert parse_traces([]) == []


@pytest.mark.parametrize(
    "version, rel",
    [  # 12 fields; 30 fields with CRLF; 39 fields (multi-channel analyzer)
        ("v3.0", "closed/Dell/results/XR4520c_MaxQ_A2x1_TRT_MaxQ/bert-99/Offline"),
        ("v3.0", "closed/Dell/results/XR5610_L4x1_TRT_MaxQ/resnet50/SingleStream"),
        ("v4.1", "closed/NVIDIA/results/H200-SXM-141GBx8_TRT_MaxQ/resnet50/Offline"),
    ],
)
def test_parse_trace_matches_checker_line_loop(version, rel, checkout):
    """The vectorized parser reads the same samples as the checker's line-by-line loop."""
    root = checkout(f"inference_results_{version}", [f"/{rel}/performance/run_1/spl.txt"])
    path = root / rel / "performance" / "run_1" / "spl.txt"
    tr = read_trace(path)
    times, watts = [], []
    for line in path.read_text().splitlines():
        if line.startswith("Time"):
            f = line.split(",")
            times.append(dt.datetime.strptime(f[1], "%m-%d-%Y %H:%M:%S.%f"))
            watts.append(float(f[3]))
    assert len(watts) > 500 and tr.malformed == 0
    assert tr.watts.tolist() == watts
    assert tr.time.astype("datetime64[us]").astype(object).tolist() == times


def test_window_first_occurrence_and_errors():
    detail = read_mllog(FIX / "detail_offline.txt")
    begin, end = power_window(detail)  # the later duplicate power_begin is ignored
    assert (begin, end) == (
        np.datetime64("2023-01-02T10:00:00", "ns"),
        np.datetime64("2023-01-02T10:00:10", "ns"),
    )
    with pytest.raises(PowerError) as e:
        power_window(parse_mllog(':::MLLOG {"key": "power_begin", "value": "x"}'))
    assert e.value.kind == "missing_power_window"
    bad = ':::MLLOG {"key": "power_begin", "value": "2023-01-02 10:00"}\n'
    bad += ':::MLLOG {"key": "power_end", "value": "01-02-2023 10:00:10.000"}'
    with pytest.raises(PowerError) as e:
        power_window(parse_mllog(bad))
    assert e.value.kind == "bad_power_window"


def test_offline_mean_keeps_or_drops_nonpositive_by_version():
    detail, trace = read_mllog(FIX / "detail_offline.txt"), read_trace(FIX / "spl_window.txt")
    kept = power_metric(detail, trace, "Offline", "v3.0")
    assert (kept.value, kept.unit, kept.samples, kept.nonpositive) == (sum(INSIDE) / 9, "W", 9, 1)
    dropped = power_metric(detail, trace, "Offline", "v4.1")
    assert (dropped.value, dropped.samples, dropped.nonpositive) == (1120 / 8, 8, 1)
    assert not drops_nonpositive("v3.0") and drops_nonpositive("v3.1")
    assert kept.energy_per_query_j is None and kept.duration_s == 10.0


def test_singlestream_energy_per_query_by_version():
    detail, trace = read_mllog(FIX / "detail_singlestream.txt"), read_trace(FIX / "spl_window.txt")
    avg = sum(INSIDE) / 9
    m = power_metric(detail, trace, "SingleStream", "v3.0")  # result_query_count = 4000
    assert (m.value, m.unit) == (avg * 10.0 * 1000 / 4000, "mJ/query")
    assert m.energy_per_query_j == m.value / 1000 and m.samples_per_query == 1
    # v1.x: queries = result_qps_with_loadgen_overhead (400) x window (10 s)
    old = power_metric(detail, trace, "SingleStream", "v1.1")
    assert old.value == avg * 10.0 * 1000 / (400.0 * 10.0)


def test_multistream_inferred_from_singlestream_times_eight():
    detail, trace = read_mllog(FIX / "detail_singlestream.txt"), read_trace(FIX / "spl_window.txt")
    m = power_metric(detail, trace, "MultiStream", "v2.1")
    avg = sum(INSIDE) / 9
    assert m.inferred and m.value == avg * 10.0 * 8 * 1000 / 4000
    assert m.value == 8 * power_metric(detail, trace, "SingleStream", "v2.1").value
    assert m.samples_per_query == 8


def test_legacy_multistream_is_per_sample():
    text = (FIX / "detail_singlestream.txt").read_text().replace('"SingleStream"', '"MultiStream"')
    detail, trace = parse_mllog(text), read_trace(FIX / "spl_window.txt")
    m = power_metric(detail, trace, "MultiStream", "v1.0")
    # generated_query_count (5000) x generated_samples_per_query (1)
    assert (m.value, m.unit) == (sum(INSIDE) / 9 * 10.0 * 1000 / 5000, "mJ/sample")


def test_power_errors_are_typed():
    detail = read_mllog(FIX / "detail_offline.txt")
    with pytest.raises(PowerError) as e:
        power_metric(detail, read_trace(FIX / "spl_outside.txt"), "Offline", "v3.0")
    assert e.value.kind == "no_samples_in_window"
    neg = parse_trace(b"Time,01-02-2023 10:00:05.000,Watts,-2.0\n")
    with pytest.raises(PowerError) as e:
        power_metric(detail, neg, "Offline", "v3.0")
    assert e.value.kind == "nonpositive_power"
    with pytest.raises(PowerError) as e:
        power_metric(detail, neg, "Offline", "v4.1")  # the only sample is dropped
    assert e.value.kind == "no_samples_in_window"
    with pytest.raises(PowerError) as e:  # the Offline log has result_query_count 1 ...
        text = (FIX / "detail_offline.txt").read_text().replace("result_query_count", "x")
        power_metric(parse_mllog(text), read_trace(FIX / "spl_window.txt"), "SingleStream", "v3.0")
    assert e.value.kind == "missing_query_count"


def test_checker_power_metric_accepts_text_or_path():
    text = (FIX / "detail_singlestream.txt").read_text()
    a = checker_power_metric(text, FIX / "spl_window.txt", "singlestream", "v3.0")
    b = checker_power_metric(
        FIX / "detail_singlestream.txt", FIX / "spl_window.txt", "SingleStream", "v3.0"
    )  # noqa: E501
    assert a == b == (sum(INSIDE) / 9 * 10.0 * 1000 / 4000, "mJ")
    with pytest.raises(PowerError):
        checker_power_metric(text, FIX / "spl_window.txt", "Interactive", "v3.0")


# --- published values -------------------------------------------------------------------


def _cmx_power(mirror_root: Path, version: str) -> dict[str, tuple[float, str]]:
    """Published power values of a round in MLCommons' CMX results, by Location."""
    git = str(mirror_root / "mlcommons" / "cm4mlperf-results.git")
    ls = ["git", "-C", git, "ls-tree", "-r", "--name-only", "main", "experiment/"]
    names = subprocess.run(ls, check=True, capture_output=True, text=True).stdout.split()
    out = {}
    for n in names:
        if f"--{version}--" in n and "-power--" in n and n.endswith("cm-result.json"):
            show = ["git", "-C", git, "show", f"main:{n}"]
            for r in json.loads(subprocess.run(show, check=True, capture_output=True).stdout):
                if r.get("Result_Power") is not None:
                    out[r["Location"]] = (r["Result_Power"], r["Result_Power_Units"])
                elif r.get("Units") in ("Watts", "millijoules"):
                    out[r["Location"]] = (r["Result"], r["Units"])
    return out


PUBLISHED = {
    "v2.0": [
        # five samples <= 0 W in the window each: the v2.0 checker kept them in the mean
        "closed/NVIDIA/results/Xavier_NX_TRT_MaxQ/3d-unet-99/Offline",
        "closed/NVIDIA/results/Xavier_NX_TRT_MaxQ/3d-unet-99/SingleStream",
    ],
    "v2.1": [
        "closed/Dell/results/XR12_A2x1_TRT_MaxQ/resnet50/SingleStream",
        "open/Qualcomm/results/r282_z93_q8e_prev-qaic-v1.8.0.73-aic100/retinanet/server",
        "open/Qualcomm/results/r282_z93_q5e_prev-qaic-v1.8.0.73-aic100/retinanet/multistream",
    ],
    "v3.0": [
        "closed/Dell/results/XR4520c_MaxQ_A2x1_TRT_MaxQ/bert-99/Offline",
        "closed/Dell/results/XR4520c_MaxQ_A2x1_TRT_MaxQ/bert-99/SingleStream",
        "closed/Dell/results/XR4520c_MaxQ_A2x1_TRT_MaxQ/resnet50/MultiStream",
        # MultiStream inferred from a SingleStream run (x8) and Offline from SingleStream
        "open/cTuning/results/nvidia_orin-tflite_cpp-cpu-tflite-vmaster-default_config/"
        "mobilenet-v3-precision_uint8-small-224/multistream",
        "open/cTuning/results/nvidia_orin-tflite_cpp-cpu-tflite-vmaster-default_config/"
        "mobilenet-v3-precision_uint8-small-224/offline",
    ],
}


@pytest.mark.parametrize("version", sorted(PUBLISHED))
def test_checker_metric_equals_published_cmx(version, checkout, mirror_root):
    locs = PUBLISHED[version]
    pats = [f"/{loc}/performance/run_1/{f}" for loc in locs for f in ("spl.txt", "*detail.txt")]
    root = checkout(f"inference_results_{version}", pats)
    published = _cmx_power(mirror_root, version)
    units = {"Watts": "W", "millijoules": "mJ"}
    for loc in locs:
        run = root / loc / "performance" / "run_1"
        value, unit = checker_power_metric(
            run / "mlperf_log_detail.txt", run / "spl.txt", loc.rsplit("/", 1)[1], version
        )
        assert (value, unit) == (published[loc][0], units[published[loc][1]]), loc


def test_nonpositive_samples_change_the_mean(checkout):
    loc = PUBLISHED["v2.0"][0]
    root = checkout("inference_results_v2.0", [f"/{loc}/performance/run_1/*"])
    run = root / loc / "performance" / "run_1"
    detail, trace = read_mllog(run / "mlperf_log_detail.txt"), read_trace(run / "spl.txt")
    kept = power_metric(detail, trace, "Offline", "v2.0")
    dropped = power_metric(detail, trace, "Offline", "v4.1")
    assert kept.nonpositive == 5 and dropped.samples == kept.samples - 5
    assert 0 < (dropped.value - kept.value) / kept.value < 0.01


def test_v41_power_results_equal_summary_results(checkout, mirror_root):
    """All 31 v4.1 power results against the published summary_results.json."""
    from mlperf_power_dag.readers.inference_tree import SPARSE_PATTERNS

    root = checkout("inference_results_v4.1", SPARSE_PATTERNS)
    git = str(mirror_root / "mlcommons" / "inference_results_v4.1.git")
    show = ["git", "-C", git, "show", "refs/pull/2/head:summary_results.json"]
    rows = json.loads(subprocess.run(show, check=True, capture_output=True).stdout)
    power_rows = [r for r in rows if "Power_Result" in r]
    assert len(power_rows) == 31
    units = {"Watts": "W", "millijoules": "mJ"}
    for r in power_rows:
        run = root / r["Location"] / "performance" / "run_1"
        value, unit = checker_power_metric(
            run / "mlperf_log_detail.txt", run / "spl.txt", r["Scenario"], "v4.1"
        )
        assert unit == units[r["Power_Units"]]
        assert value == pytest.approx(r["Power_Result"], rel=1e-9), r["Location"]


def _lines_of_every_form() -> bytes:
    stamps = [b"01-02-2023 10:00:01.000", b"02-30-2023 10:00:01.000", b"01-02-2023 10:00:01.5"]
    stamps += [b"01,02-2023 10:00:01.000", b" 01-02-2023 10:00:01.000", b"12-31-2023 23:59:59.999"]
    watts = [b"5.371000", b"-2", b"+7", b".5", b"5.", b"1e3", b"", b"abc", b"1.2.3", b" 5"]
    watts += [b"123456789012345678901234567890123", b"12345678901234567", b"99999999999999.9"]
    tails = [b"", b",Volts,230.1,Amps,0.05", b",", b",Mark,x\r"]
    out = [b"", b"  ", b"garbage,line"]
    for i, (s, w) in enumerate((s, w) for s in stamps for w in watts):
        for tag in (b"Watts", b"W"):
            out.append(b"Time,%s,%s,%s%s" % (s, tag, w, tails[i % len(tails)]))
    return b"\n".join(out) + b"\n"


def test_fast_lines_read_as_the_general_parser_does():
    from mlperf_power_dag.parsers.spl import _fast_lines, _parse_any_lines, _parse_lines

    data = _lines_of_every_form() + bytes(128)
    arr = np.frombuffer(data, np.uint8)
    ends = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], ends[:-1] + 1))
    ends = ends - (arr[ends - 1] == 13)
    fast_t, fast_w = _parse_lines(data, arr, starts, ends)
    any_t, any_w = _parse_any_lines(data, arr, starts, ends)
    assert np.array_equal(fast_t.view("i8"), any_t.view("i8"))  # NaT included
    assert np.array_equal(fast_w, any_w, equal_nan=True)
    fast = _fast_lines(arr, starts, ends)[0]
    assert np.isfinite(fast_w).sum() > 50 and 0 < fast.sum() < fast.size  # both paths taken


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_trace_read_in_chunks_equals_whole(chunk):
    import io

    from mlperf_power_dag.parsers.spl import parse_trace_stream

    data = _lines_of_every_form() + (FIX / "spl_window.txt").read_bytes() + b"Time,01-02-2023"
    whole = parse_trace(data)
    part = parse_trace_stream(io.BytesIO(data), chunk_bytes=chunk)
    assert (part.lines, part.malformed) == (whole.lines, whole.malformed)
    assert np.array_equal(part.time, whole.time) and np.array_equal(part.watts, whole.watts)
    assert parse_trace_stream(io.BytesIO(b""), chunk_bytes=chunk).lines == 0


@pytest.mark.parametrize(
    "text",
    [
        "01-02-2023 10:00:00.000",
        "12-31-1999 23:59:59.999",
        "02-29-2024 00:00:00.001",
        "02-29-2023 00:00:00.001",  # no such day
        "13-01-2023 00:00:00.000",
        "00-01-2023 00:00:00.000",
        "01-02-2023 24:00:00.000",
        "01-02-2023 10:60:00.000",
        "01-02-2023 10:00:60.000",
        "01-02-2023 10:00:61.000",
        "1-02-2023 10:00:00.000",
        "01-02-2023 10:00:00.5",
        "01-02-2023 10:00:00",
        "01-02-0000 10:00:00.000",
        "01-0\u0662-2023 10:00:00.000",
    ],
)
def test_window_time_reads_as_strptime(text):
    from mlperf_power_dag.parsers.spl import TIME_FORMAT, _window_time

    try:
        want = dt.datetime.strptime(text, TIME_FORMAT)
    except ValueError as e:
        with pytest.raises(ValueError, match=re.escape(str(e))):
            _window_time(text)
    else:
        assert _window_time(text) == want
