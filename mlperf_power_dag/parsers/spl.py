"""PTD power traces (`spl.txt`) and the power metric of the MLCommons submission checker.

A trace line reads `Time,<MM-DD-YYYY HH:MM:SS.fff>,Watts,<W>,Volts,...`; field 3 is the
total power even on multi-channel analyzers (per-channel values follow `Mark`). The checker
(`get_power_metric` / `check_power_dir` in `tools/submission/submission_checker.py`):

- window: `power_begin` < sample time < `power_end`, both from the run's detail log
  (first occurrence; format `%m-%d-%Y %H:%M:%S.%f`); timezone offsets are taken as zero
  (they only applied to v1.0 and cancel between client and server there);
- samples <= 0 W (analyzer errors): kept in the mean up to v3.0, dropped from v3.1 on;
- Offline/Server: the mean power in W;
- SingleStream/MultiStream: energy per query in mJ = mean W x window s x 1000 / queries,
  with queries = `result_query_count` from v2.0 on; before, SingleStream used
  `result_qps_with_loadgen_overhead` x window s and MultiStream `generated_query_count` x
  `generated_samples_per_query` (legacy MultiStream: energy per *sample*);
- a MultiStream result inferred from a SingleStream run (v2.0 on) is multiplied by 8.

Before v3.0 the checker printed SingleStream/MultiStream energy in joules; MLCommons'
published tables (CMX) carry those rounds in millijoules too, which is what this returns.
The mean is a sequential left-to-right sum, as Python's `sum()` in the checker.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlperf_power_dag.catalog import version_tuple
from mlperf_power_dag.parsers.loadgen import (
    MULTISTREAM_SAMPLES_PER_QUERY,
    MLLog,
    canonical_scenario,
    parse_mllog,
    read_mllog,
)

TIME_FORMAT = "%m-%d-%Y %H:%M:%S.%f"


class PowerError(ValueError):
    """A power metric that cannot be computed; `kind` names the reason for the problem log."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass
class Trace:
    """Samples of one `spl.txt`: timestamps (datetime64[ns]) and total watts."""

    time: np.ndarray
    watts: np.ndarray
    lines: int  # non-blank lines
    malformed: int  # non-blank lines that are not a `Time,<ts>,Watts,<W>` sample


_TS_LEN = 23  # MM-DD-YYYY HH:MM:SS.fff
_TS_DIGITS = np.array([0, 1, 3, 4, 6, 7, 8, 9, 11, 12, 14, 15, 17, 18, 20, 21, 22])
_TS_SEPS = {2: ord("-"), 5: ord("-"), 10: ord(" "), 13: ord(":"), 16: ord(":"), 19: ord(".")}
_W_WIDTH = 32  # widest watts field parsed on the fast path
_TIME_TAG = np.frombuffer(b"Time", np.uint8)


def _gather(arr: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """Rows of `width` bytes of `arr` starting at each offset (clipped at the end)."""
    idx = at[:, None] + np.arange(width, dtype=at.dtype)
    return arr[np.minimum(idx, arr.size - 1)]


def _fast_times(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 23) bytes `MM-DD-YYYY HH:MM:SS.fff` -> (datetime64[ns], ok mask)."""
    ok = ((m[:, _TS_DIGITS] - ord("0")) < 10).all(axis=1)  # uint8: below '0' wraps high
    for j, c in _TS_SEPS.items():
        ok &= m[:, j] == c
    d = m.astype(np.int64) - ord("0")
    two = lambda j: d[:, j] * 10 + d[:, j + 1]  # noqa: E731
    mon, day, hh, mm, ss = two(0), two(3), two(11), two(14), two(17)
    year = two(6) * 100 + two(8)
    ms = d[:, 20] * 100 + d[:, 21] * 10 + d[:, 22]
    ok &= (mon >= 1) & (mon <= 12) & (day >= 1) & (hh < 24) & (mm < 60) & (ss < 60)
    sec = (hh * 60 + mm) * 60 + ss
    months = np.where(ok, (year - 1970) * 12 + mon - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(ok, day - 1, 0)
    ok &= days.astype("datetime64[M]") == months  # the day exists in that month
    ns = (sec * 1000 + ms) * 1_000_000
    return days.astype("datetime64[ns]") + ns.astype("timedelta64[ns]"), ok


def parse_trace(data: bytes) -> Trace:
    """Parse the bytes of a PTD `spl.txt`, vectorized over lines with numpy.

    Lines are `Time,<ts>,<tag>,<W>[,...]` (any line ending); the sample time is field 1 and
    the power field 3, as the checker splits them. Blank lines are skipped; other lines that
    do not parse are counted in `malformed`. Timestamps with other than 3 decimals take a
    slower per-line path.
    """
    arr = np.frombuffer(data, np.uint8)
    empty = Trace(np.array([], "datetime64[ns]"), np.array([], float), 0, 0)
    if arr.size == 0:
        return empty
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl + 1))
    ends = np.concatenate((nl, [arr.size]))
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    ends = ends - (arr[np.maximum(ends - 1, 0)] == 13)  # drop CR of CRLF
    nonblank = (ends > starts) & ~_all_space(arr, starts, ends)
    starts, ends = starts[nonblank], ends[nonblank]
    lines = int(starts.size)
    if lines == 0:
        return empty
    commas = np.flatnonzero(arr == 44)
    k = np.searchsorted(commas, starts)

    def pos(j: int) -> np.ndarray:  # the j-th comma of each line (clipped)
        return commas[np.minimum(k + j, commas.size - 1)] if commas.size else starts

    def has(j: int) -> np.ndarray:  # whether the line has a j-th comma
        return (k + j < commas.size) & (pos(j) < ends)

    ok = has(0) & has(1) & has(2)
    c0, c1, c2 = pos(0), pos(1), pos(2)
    c3 = np.where(has(3), pos(3), ends)
    ok &= (c0 - starts == 4) & (_gather(arr, starts, 4) == _TIME_TAG).all(axis=1)

    ts_len = c1 - c0 - 1
    fast = ok & (ts_len == _TS_LEN)
    time = np.full(lines, np.datetime64("NaT"), "datetime64[ns]")
    t_fast, t_ok = _fast_times(_gather(arr, c0[fast] + 1, _TS_LEN))
    time[fast] = np.where(t_ok, t_fast, np.datetime64("NaT"))
    slow = ok & ~fast
    if slow.any():
        txt = [
            data[a + 1 : b].decode("ascii", "replace")
            for a, b in zip(c0[slow], c1[slow], strict=True)
        ]
        time[slow] = pd.to_datetime(
            pd.Series(txt).str.strip(), format=TIME_FORMAT, errors="coerce"
        ).to_numpy("datetime64[ns]")

    w_len = c3 - c2 - 1
    w_ok = ok & (w_len > 0) & (w_len <= _W_WIDTH)
    width = int(w_len[w_ok].max()) if w_ok.any() else 1
    m = _gather(arr, c2[w_ok] + 1, width)
    m[np.arange(width)[None, :] >= w_len[w_ok][:, None]] = 0
    raw = np.ascontiguousarray(m).view(f"S{width}").ravel()
    watts = np.full(lines, np.nan)
    try:
        watts[w_ok] = raw.astype(float)
    except ValueError:
        watts[w_ok] = pd.to_numeric(
            pd.Series([b.decode("ascii", "replace") for b in raw]), errors="coerce"
        ).to_numpy(float)
    good = ~np.isnat(time) & np.isfinite(watts)
    return Trace(time=time[good], watts=watts[good], lines=lines, malformed=int(lines - good.sum()))


def _all_space(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines made only of spaces/tabs/CR (checked on the first byte, then exactly)."""
    first = arr[np.minimum(starts, arr.size - 1)]
    cand = np.flatnonzero(np.isin(first, (9, 13, 32)))
    out = np.zeros(starts.size, bool)
    for i in cand:  # rare: only lines starting with whitespace
        out[i] = not bytes(arr[starts[i] : ends[i]]).strip()
    return out


def read_trace(path: Path | str) -> Trace:
    return parse_trace(Path(path).read_bytes())


def drops_nonpositive(version: str) -> bool:
    """Whether the checker of `version` leaves samples <= 0 W out of the mean (v3.1 on)."""
    return version_tuple(version) >= (3, 1)


@dataclass
class PowerMetric:
    """The checker's power metric of one result, with what went into it."""

    value: float  # W (Offline/Server) or mJ per query (per sample for legacy MultiStream)
    unit: str  # "W", "mJ/query" or "mJ/sample"
    power_w: float  # mean power in the window
    energy_per_query_j: float | None  # SingleStream/MultiStream
    samples_per_query: int | None
    samples: int  # samples in the window used for the mean
    nonpositive: int  # samples <= 0 W in the window (dropped or kept, see drops_nonpositive)
    duration_s: float
    inferred: bool  # MultiStream from a SingleStream run


def power_window(detail: MLLog) -> tuple[np.datetime64, np.datetime64]:
    """`power_begin`, `power_end` of a detail log; PowerError if missing or unparseable."""
    begin, end = detail.get("power_begin"), detail.get("power_end")
    if begin is None or end is None:
        raise PowerError("missing_power_window", "detail log has no power_begin/power_end")
    try:
        b = np.datetime64(dt.datetime.strptime(str(begin).strip(), TIME_FORMAT), "ns")
        e = np.datetime64(dt.datetime.strptime(str(end).strip(), TIME_FORMAT), "ns")
    except (ValueError, TypeError) as exc:
        raise PowerError("bad_power_window", f"unparseable power window: {exc}") from exc
    if not e > b:
        raise PowerError("bad_power_window", f"power_end {end} is not after power_begin {begin}")
    return b, e


def _queries(detail: MLLog, scenario: str, version: str, duration_s: float) -> float:
    if version_tuple(version) >= (2, 0):
        n = detail.number("result_query_count")
        return float(int(n)) if n is not None else float("nan")
    if scenario == "MultiStream":
        q = detail.number("generated_query_count")
        spq = detail.number("generated_samples_per_query")
        return q * spq if q is not None and spq is not None else float("nan")
    qps = detail.number("result_qps_with_loadgen_overhead")
    return qps * duration_s if qps is not None else float("nan")


def power_metric(detail: MLLog, trace: Trace, scenario: str, version: str) -> PowerMetric:
    """The checker's power metric for a result folder of `scenario` (canonical name).

    Raises PowerError (with a `kind`) when there is no window, no sample in it, a mean
    <= 0 W, or no query count.
    """
    begin, end = power_window(detail)
    # (power_end - power_begin).total_seconds(): integer microseconds / 10**6
    duration_s = int((end - begin) // np.timedelta64(1, "us")) / 10**6
    inside = (trace.time > begin) & (trace.time < end)
    w = trace.watts[inside]
    nonpositive = int((w <= 0).sum())
    if drops_nonpositive(version):
        w = w[w > 0]
    if w.size == 0:
        raise PowerError(
            "no_samples_in_window",
            f"no power samples between {begin} and {end} ({trace.time.size} samples in trace)",
        )
    avg = float(np.cumsum(w)[-1]) / w.size  # sequential sum, as the checker's sum()
    if not avg > 0:
        raise PowerError("nonpositive_power", f"mean power in the window is {avg} W")
    run = canonical_scenario(str(detail.get("effective_scenario", scenario))) or scenario
    legacy_ms = scenario == "MultiStream" and version_tuple(version) < (2, 0)
    if scenario in ("Offline", "Server"):
        return PowerMetric(avg, "W", avg, None, None, int(w.size), nonpositive, duration_s, False)
    if scenario not in ("SingleStream", "MultiStream"):
        raise PowerError("unknown_scenario", f"no power rule for scenario {scenario!r}")
    n = _queries(detail, scenario, version, duration_s)
    if not n > 0:
        raise PowerError("missing_query_count", "detail log has no usable query count")
    inferred = scenario == "MultiStream" and run == "SingleStream" and not legacy_ms
    if inferred:
        spq = MULTISTREAM_SAMPLES_PER_QUERY
        value = avg * duration_s * spq * 1000 / n
    else:
        value = avg * duration_s * 1000 / n
        spq = 1 if scenario == "SingleStream" else MULTISTREAM_SAMPLES_PER_QUERY
    if legacy_ms:
        s = detail.number("generated_samples_per_query")
        spq = int(s) if s else None
        per_query = value * spq / 1000 if spq else None
        return PowerMetric(
            value, "mJ/sample", avg, per_query, spq, int(w.size), nonpositive, duration_s, False
        )
    return PowerMetric(
        value, "mJ/query", avg, value / 1000, spq, int(w.size), nonpositive, duration_s, inferred
    )


def checker_power_metric(
    detail_text_or_path: str | Path, spl_path: str | Path, scenario: str, version: str
) -> tuple[float, str]:
    """The checker's power metric as published: (W, "W") or (mJ per query, "mJ").

    `detail_text_or_path`: the detail log's text (containing `:::MLLOG` lines) or its path.
    `scenario`: the result's (folder) scenario in any spelling. Legacy (pre-v2.0)
    MultiStream returns mJ per sample. Raises PowerError if it cannot be computed.
    """
    if isinstance(detail_text_or_path, str) and ":::MLLOG" in detail_text_or_path:
        detail = parse_mllog(detail_text_or_path)
    else:
        detail = read_mllog(detail_text_or_path)
    sc = canonical_scenario(scenario)
    if sc is None:
        raise PowerError("unknown_scenario", f"unknown scenario {scenario!r}")
    m = power_metric(detail, read_trace(spl_path), sc, version)
    return m.value, {"W": "W", "mJ/query": "mJ"}.get(m.unit, m.unit)
