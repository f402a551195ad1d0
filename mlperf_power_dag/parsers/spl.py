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
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from mlperf_power_dag.parsers.files import FileRefused, longest_line_over
from mlperf_power_dag.parsers.loadgen import (
    MULTISTREAM_SAMPLES_PER_QUERY,
    MLLog,
    canonical_scenario,
    parse_mllog,
    read_mllog,
)
from mlperf_power_dag.rounds.catalog import version_tuple

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
TRACE_CHUNK_BYTES = 4 << 20  # traces are parsed in pieces of about this many bytes
_TIME_TAG = np.frombuffer(b"Time", np.uint8)


def _gather(arr: np.ndarray, at: np.ndarray, width: int) -> np.ndarray:
    """Rows of `width` bytes of `arr` starting at each offset (clipped at the end)."""
    idx = at[:, None] + np.arange(width, dtype=at.dtype)
    return arr[np.minimum(idx, arr.size - 1)]


def _fast_times(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 23) bytes `MM-DD-YYYY HH:MM:SS.fff` -> (datetime64[ns], ok mask)."""
    return _fast_time_columns(np.ascontiguousarray(m.T))


def _fast_time_columns(cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_fast_times` of the (23, n) transpose: one row per character position."""
    ok = np.ones(cols.shape[1], bool)
    d = {}
    for j in _TS_DIGITS.tolist():
        digit = cols[j] - np.uint8(ord("0"))  # below '0' wraps high
        ok &= digit < 10
        d[j] = digit.astype(np.int32)
    for j, c in _TS_SEPS.items():
        ok &= cols[j] == c
    mon, day = d[0] * 10 + d[1], d[3] * 10 + d[4]
    year = d[6] * 1000 + d[7] * 100 + d[8] * 10 + d[9]
    hh, mm, ss = d[11] * 10 + d[12], d[14] * 10 + d[15], d[17] * 10 + d[18]
    ms = d[20] * 100 + d[21] * 10 + d[22]
    ok &= (mon >= 1) & (mon <= 12) & (day >= 1) & (hh < 24) & (mm < 60) & (ss < 60)
    months = np.where(ok, (year - 1970) * 12 + mon - 1, 0).astype("datetime64[M]")
    days = months.astype("datetime64[D]") + np.where(ok, day - 1, 0)
    ok &= days.astype("datetime64[M]") == months  # the day exists in that month
    ms_of_day = ((hh * 60 + mm) * 60 + ss).astype(np.int64) * 1000 + ms
    return days.astype("datetime64[ns]") + (ms_of_day * 1_000_000).astype("timedelta64[ns]"), ok


# exact powers of ten (float(10**i) is exact up to 10**22)
_POW10 = np.array([float(10**i) for i in range(23)])
_MAX_DIGITS = 15  # integers below 2**53: digits / 10**k is then the correctly rounded value


def _fast_decimals(m: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Plain decimals (`-12.340000`) in zero-padded (n, w) bytes -> (float64, ok mask).

    The digits as an exact integer divided by an exact power of ten is the correctly
    rounded double, i.e. the same value as Python's float() of the text. Rows with other
    forms (exponents, spaces, >15 digits) are not ok and take the slow path.
    """
    return _fast_decimal_columns(np.ascontiguousarray(m.T), lens)


def _fast_decimal_columns(cols: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`_fast_decimals` of the (w, n) transpose: one row per character position."""
    w, n = cols.shape
    val = np.zeros(n, np.int64)  # the digits read as one integer
    ndig = np.zeros(n, np.int64)
    frac = np.zeros(n, np.int64)  # digits after the dot
    dots = np.zeros(n, np.int64)
    seen_dot = np.zeros(n, bool)
    ok = np.ones(n, bool)
    for j in range(w):
        c = cols[j]
        digit = c - np.uint8(ord("0"))  # below '0' wraps high
        inside = lens > j
        is_digit = (digit < 10) & inside
        is_dot = c == ord(".")
        allowed = is_digit | is_dot | ~inside
        if j == 0:
            allowed |= (c == ord("-")) | (c == ord("+"))
        ok &= allowed
        val = np.where(is_digit, val * 10 + digit, val)  # wraps past 18 digits: not ok
        ndig += is_digit
        frac += is_digit & seen_dot
        dots += is_dot
        seen_dot |= is_dot
    ok &= (dots <= 1) & (ndig > 0) & (ndig <= _MAX_DIGITS)
    out = val / _POW10[np.minimum(frac, _POW10.size - 1)]
    return np.where(cols[0] == ord("-"), -out, out) if w else out, ok


def parse_traces(blobs: Sequence[bytes]) -> list[Trace]:
    """Parse several `spl.txt` files at once (one vectorized pass over their lines).

    Lines are `Time,<ts>,<tag>,<W>[,...]` (any line ending); the sample time is field 1 and
    the power field 3, as the checker splits them. Blank lines are skipped; other lines that
    do not parse are counted in `malformed`. Lines other than `Time,<MM-DD-YYYY
    HH:MM:SS.fff>,Watts,<plain decimal>,...` take a slower path.
    """
    parts: list[bytes] = []
    for b in blobs:
        parts += (b, b"\n")
    parts.append(bytes(_WINDOW))  # fixed-width windows never run past the end
    data = b"".join(parts)
    del parts
    file_start = np.cumsum([0] + [len(b) + 1 for b in blobs])[:-1]
    arr = np.frombuffer(data, np.uint8)
    nl = np.flatnonzero(arr == 10)
    starts = np.concatenate(([0], nl[:-1] + 1)) if nl.size else nl
    ends = nl
    keep = ends > starts
    starts, ends = starts[keep], ends[keep]
    ends = ends - (arr[np.maximum(ends - 1, 0)] == 13)  # drop CR of CRLF
    nonblank = (ends > starts) & ~_all_space(arr, starts, ends)
    starts, ends = starts[nonblank], ends[nonblank]
    time, watts = _parse_lines(data, arr, starts, ends)
    good = ~np.isnat(time) & np.isfinite(watts)
    owner = np.searchsorted(file_start, starts, side="right") - 1
    lines = np.bincount(owner, minlength=len(blobs))
    bounds = np.searchsorted(owner, np.arange(len(blobs) + 1))
    out = []
    for i in range(len(blobs)):
        a, b = bounds[i], bounds[i + 1]
        g = good[a:b]
        out.append(Trace(time[a:b][g], watts[a:b][g], int(lines[i]), int(lines[i] - g.sum())))
    return out


def parse_trace(data: bytes) -> Trace:
    """Parse the bytes of one PTD `spl.txt` (see `parse_traces`)."""
    return parse_traces([data])[0]


def parse_trace_stream(
    f: BinaryIO, chunk_bytes: int = TRACE_CHUNK_BYTES, max_line: int | None = None
) -> Trace:
    """Parse a `spl.txt` read from a binary file a chunk of whole lines at a time.

    The same trace as `parse_trace` of all its bytes; holds about one chunk at a time.
    `FileRefused` (`line_too_long`) if a line is longer than `max_line` bytes.
    """
    pieces: list[Trace] = []
    rest = b""
    while True:
        block = f.read(chunk_bytes)
        if not block:
            break
        cut = block.rfind(b"\n") + 1
        if cut == 0:
            rest += block
            _check_line_cap(rest, max_line, whole=False)
            continue
        piece = rest + block[:cut]
        _check_line_cap(piece, max_line)
        pieces.append(parse_trace(piece))
        del piece
        rest = block[cut:]
    _check_line_cap(rest, max_line)
    if rest or not pieces:
        pieces.append(parse_trace(rest))
    if len(pieces) == 1:
        return pieces[0]
    return Trace(
        np.concatenate([p.time for p in pieces]),
        np.concatenate([p.watts for p in pieces]),
        sum(p.lines for p in pieces),
        sum(p.malformed for p in pieces),
    )


def _check_line_cap(data: bytes, max_line: int | None, whole: bool = True) -> None:
    """`FileRefused` if `data` (whole lines, or with `whole=False` part of one line) holds a
    line longer than `max_line` bytes."""
    if max_line is None:
        return
    if longest_line_over(data, max_line) if whole else len(data) > max_line:
        raise FileRefused("line_too_long", f"a line longer than the spl cap of {max_line:,} bytes")


_HEAD = b"Time,MM-DD-YYYY HH:MM:SS.fff,Watts,"
_HEAD_LEN = len(_HEAD)
_WINDOW = _HEAD_LEN + _W_WIDTH + 1  # the head, the widest fast watts field and its end


def _parse_lines(
    data: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sample time and watts of each line (NaT / NaN where the line does not parse).

    `arr` (the bytes of `data`) must be followed by `_WINDOW` bytes past the last line.
    """
    lines = starts.size
    time = np.full(lines, np.datetime64("NaT"), "datetime64[ns]")
    watts = np.full(lines, np.nan)
    if lines == 0:
        return time, watts
    fast, t_fast, w_fast = _fast_lines(arr, starts, ends)
    time[fast], watts[fast] = t_fast, w_fast
    slow = np.flatnonzero(~fast)
    if slow.size == lines:
        return _parse_any_lines(data, arr, starts, ends)
    if slow.size:  # the other lines, copied together (each line parses on its own)
        a, b = starts[slow].tolist(), ends[slow].tolist()
        sub = b"\n".join([data[i:j] for i, j in zip(a, b, strict=True)]) + b"\n"
        sub_ends = np.cumsum(ends[slow] - starts[slow] + 1) - 1
        sub_starts = sub_ends - (ends[slow] - starts[slow])
        sub_arr = np.frombuffer(sub, np.uint8)
        time[slow], watts[slow] = _parse_any_lines(sub, sub_arr, sub_starts, sub_ends)
    return time, watts


def _fast_lines(
    arr: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lines of the common form `Time,<ts>,Watts,<plain decimal>[,...]`: which, time, watts.

    For these lines the result is the one `_parse_any_lines` gives, read at fixed offsets.
    """
    idx = np.flatnonzero(ends - starts > _HEAD_LEN)
    # one row per character position of the lines' first _WINDOW bytes
    cols = np.ascontiguousarray(sliding_window_view(arr, _WINDOW)[starts[idx]].T)
    ok = np.ones(idx.size, bool)
    for j, c in enumerate(_HEAD):
        if j < 5 or j >= 28:  # `Time,` and `,Watts,`
            ok &= cols[j] == c
    t, t_ok = _fast_time_columns(cols[5:28])
    ok &= t_ok
    after = ends[idx] - starts[idx] - _HEAD_LEN  # bytes of the line after the head
    lens = after.copy()  # up to the first comma in the field's window, else the line end
    found = np.zeros(idx.size, bool)
    for j in range(_WINDOW - _HEAD_LEN):
        hit = (cols[_HEAD_LEN + j] == 44) & (after > j) & ~found
        lens[hit] = j
        found |= hit
    ok &= (lens > 0) & (lens <= _W_WIDTH)
    width = int(lens[ok].max()) if ok.any() else 1
    field = np.where(np.arange(width)[:, None] < lens, cols[_HEAD_LEN : _HEAD_LEN + width], 0)
    w, w_ok = _fast_decimal_columns(field.astype(np.uint8), lens)
    ok &= w_ok
    fast = np.zeros(starts.size, bool)
    fast[idx[ok]] = True
    return fast, t[ok], w[ok]


def _parse_any_lines(
    data: bytes, arr: np.ndarray, starts: np.ndarray, ends: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sample time and watts of each line, whatever its form (NaT / NaN if it does not parse)."""
    lines = starts.size
    time = np.full(lines, np.datetime64("NaT"), "datetime64[ns]")
    watts = np.full(lines, np.nan)
    if lines == 0:
        return time, watts
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

    fast = ok & (c1 - c0 - 1 == _TS_LEN)
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
    if not w_ok.any():
        return time, watts
    lens = w_len[w_ok]
    width = int(lens.max())
    m = _gather(arr, c2[w_ok] + 1, width)
    m[np.arange(width)[None, :] >= lens[:, None]] = 0
    fast_w, fw_ok = _fast_decimals(m, lens)
    idx = np.flatnonzero(w_ok)
    watts[idx[fw_ok]] = fast_w[fw_ok]
    if not fw_ok.all():  # other number forms: the text as float() reads it, else NaN
        raw = np.ascontiguousarray(m[~fw_ok]).view(f"S{width}").ravel()
        txt = pd.Series([b.decode("ascii", "replace").strip() for b in raw])
        watts[idx[~fw_ok]] = pd.to_numeric(txt, errors="coerce").to_numpy(float)
    return time, watts


def _all_space(arr: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Lines made only of spaces/tabs/CR (checked on the first byte, then exactly)."""
    first = arr[np.minimum(starts, arr.size - 1)]
    cand = np.flatnonzero(np.isin(first, (9, 13, 32)))
    out = np.zeros(starts.size, bool)
    for i in cand:  # rare: only lines starting with whitespace
        out[i] = not bytes(arr[starts[i] : ends[i]]).strip()
    return out


def read_trace(path: Path | str) -> Trace:
    """Read and parse one `spl.txt` (see `parse_traces`), a chunk at a time."""
    with open(path, "rb") as f:
        return parse_trace_stream(f)


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


_WINDOW_TIME = re.compile(r"(\d\d)-(\d\d)-(\d{4}) (\d\d):(\d\d):(\d\d)\.(\d{3})", re.ASCII)


def _window_time(text: str) -> dt.datetime:
    """`datetime.strptime(text, TIME_FORMAT)` (the common form read directly)."""
    m = _WINDOW_TIME.fullmatch(text)
    if m is not None:
        month, day, year, hh, mm, ss, ms = map(int, m.groups())
        try:
            return dt.datetime(year, month, day, hh, mm, ss, ms * 1000)
        except ValueError:
            pass  # strptime says why
    return dt.datetime.strptime(text, TIME_FORMAT)


def power_window(detail: MLLog) -> tuple[np.datetime64, np.datetime64]:
    """`power_begin`, `power_end` of a detail log; PowerError if missing or unparseable."""
    begin, end = detail.get("power_begin"), detail.get("power_end")
    if begin is None or end is None:
        raise PowerError("missing_power_window", "detail log has no power_begin/power_end")
    try:
        b = np.datetime64(_window_time(str(begin).strip()), "ns")
        e = np.datetime64(_window_time(str(end).strip()), "ns")
    except (ValueError, TypeError) as exc:
        raise PowerError("bad_power_window", f"unparseable power window: {exc}") from exc
    if not e > b:
        raise PowerError("bad_power_window", f"power_end {end} is not after power_begin {begin}")
    return b, e


def _queries(detail: MLLog, scenario: str, version: str, duration_s: float) -> float:
    if version_tuple(version) >= (2, 0):
        n = detail.number("result_query_count")
        if n is None or not math.isfinite(n):
            return float("nan")
        return float(int(n))
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
    with np.errstate(over="ignore"):  # a sum past 1e308 is inf, refused just below
        avg = float(np.cumsum(w)[-1]) / w.size  # sequential sum, as the checker's sum()
    if not math.isfinite(avg):
        raise PowerError("nonfinite_power", f"mean power in the window is {avg} W")
    if not avg > 0:
        raise PowerError("nonpositive_power", f"mean power in the window is {avg} W")
    run = canonical_scenario(str(detail.get("effective_scenario", scenario))) or scenario
    legacy_ms = scenario == "MultiStream" and version_tuple(version) < (2, 0)
    if scenario in ("Offline", "Server"):
        return PowerMetric(avg, "W", avg, None, None, int(w.size), nonpositive, duration_s, False)
    if scenario not in ("SingleStream", "MultiStream"):
        raise PowerError("unknown_scenario", f"no power rule for scenario {scenario!r}")
    n = _queries(detail, scenario, version, duration_s)
    if not (math.isfinite(n) and n > 0):
        raise PowerError("missing_query_count", "detail log has no usable query count")
    inferred = scenario == "MultiStream" and run == "SingleStream" and not legacy_ms
    if inferred:
        spq = MULTISTREAM_SAMPLES_PER_QUERY
        value = avg * duration_s * spq * 1000 / n
    else:
        value = avg * duration_s * 1000 / n
        spq = 1 if scenario == "SingleStream" else MULTISTREAM_SAMPLES_PER_QUERY
    if not (math.isfinite(value) and value > 0):
        raise PowerError("nonfinite_power", f"energy per query {value} mJ is not a finite number")
    if legacy_ms:
        s = detail.number("generated_samples_per_query")
        spq = int(s) if s and math.isfinite(s) else None
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
