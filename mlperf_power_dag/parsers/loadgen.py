"""MLPerf Inference loadgen logs: `mlperf_log_detail.txt` (MLLOG) and `mlperf_log_summary.txt`.

The headline result follows the MLCommons submission checker of each round
(`tools/submission/submission_checker.py`): which log field is the result per scenario and
version (`RESULT_FIELD` / `RESULT_FIELD_NEW` / `RESULT_FIELD_BENCHMARK_OVERWRITE`), and the
rules for results inferred from another scenario (Offline from SingleStream or MultiStream,
MultiStream from SingleStream).
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import KeysView
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlperf_power_dag.benchmark_ids import SCENARIO_BY_KEY as _SCENARIO_BY_KEY
from mlperf_power_dag.rounds.catalog import version_tuple

MLLOG_MARKER = ":::MLLOG"
MS_TO_NS = 1000 * 1000
S_TO_MS = 1000
# The checker's samples per query of a MultiStream result (v2.0 on), also when inferred
# from a SingleStream run.
MULTISTREAM_SAMPLES_PER_QUERY = 8


# Token-counting headlines (the checker's RESULT_FIELD_BENCHMARK_OVERWRITE), by version,
# benchmark family and scenario. GPT-J logs only carry "inferred" token rates (samples/s x a
# tokens-per-sample constant of the harness).
_TOKEN_HEADLINE = {
    (4, 0): {"llama2-70b": {"Offline": "result_tokens_per_second"}},
    (4, 1): {
        "llama2-70b": {
            "Offline": "result_tokens_per_second",
            "Server": "result_completed_tokens_per_second",
        },
        "gptj": {
            "Offline": "result_inferred_tokens_per_second",
            "Server": "result_inferred_completed_tokens_per_second",
        },
        "mixtral-8x7b": {
            "Offline": "result_tokens_per_second",
            "Server": "result_completed_tokens_per_second",
        },
    },
}
TOKEN_FAMILIES = ("gptj", "llama2-70b", "mixtral-8x7b")
# Token and sample rates of one run, for tokens per sample: (tokens/s keys, samples/s key).
_TOKEN_RATES = {
    "Offline": (
        ("result_tokens_per_second", "result_inferred_tokens_per_second"),
        "result_samples_per_second",
    ),
    "Server": (
        ("result_completed_tokens_per_second", "result_inferred_completed_tokens_per_second"),
        "result_completed_samples_per_sec",
    ),
}
# The same fields as printed in mlperf_log_summary.txt.
_SUMMARY_NAMES = {
    "result_samples_per_second": "Samples per second",
    "result_scheduled_samples_per_sec": "Scheduled samples per second",
    "result_completed_samples_per_sec": "Completed samples per second",
    "result_90.00_percentile_latency_ns": "90th percentile latency (ns)",
    "early_stopping_latency_ss": "Early stopping 90th percentile estimate",
    "early_stopping_latency_ms": "Early stopping 99th percentile estimate",
    "effective_samples_per_query": "Samples per query",
    "result_qps_without_loadgen_overhead": "QPS w/o loadgen overhead",
    "result_qps_with_loadgen_overhead": "QPS w/ loadgen overhead",
    "result_99.00_percentile_latency_ns": "99.00 percentile latency (ns)",
    "result_tokens_per_second": "Tokens per second",
    "result_completed_tokens_per_second": "Completed tokens per second",
    "result_inferred_tokens_per_second": "Tokens per second (inferred)",
    "result_inferred_completed_tokens_per_second": "Completed tokens per second (inferred)",
}


@functools.lru_cache(maxsize=1024)
def canonical_scenario(name: str) -> str | None:
    """`offline`, `Multi Stream`, `SingleStream` ... -> the checker's scenario name, or None."""
    return _SCENARIO_BY_KEY.get(re.sub(r"\s+", "", name).lower())


# ---------------------------------------------------------------------------------------
# mlperf_log_detail.txt


class _Deferred:
    """The JSON text of a value already known to be valid; decoded when first read."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


class MLLog:
    """The messages of a loadgen detail log, first occurrence of each key."""

    def __init__(
        self,
        values: dict[str, Any] | None = None,
        messages: int = 0,
        malformed: int = 0,
        errors: int = 0,
    ):
        self._values: dict[str, Any] = {} if values is None else values
        self.messages = messages
        self.malformed = malformed  # lines starting with the marker whose JSON does not parse
        self.errors = errors  # messages the loadgen marked as errors

    @property
    def values(self) -> dict[str, Any]:
        """The first value of every key, in the order the keys first appear."""
        for key, value in self._values.items():
            if isinstance(value, _Deferred):
                self._values[key] = json.loads(value.text)
        return self._values

    def __contains__(self, key: str) -> bool:
        return key in self._values

    def keys(self) -> KeysView[str]:
        """The keys with a message, in order (without decoding any value)."""
        return self._values.keys()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MLLog):
            return NotImplemented
        mine = (self.values, self.messages, self.malformed, self.errors)
        return mine == (other.values, other.messages, other.malformed, other.errors)

    def __repr__(self) -> str:
        return (
            f"MLLog({len(self._values)} keys, messages={self.messages}, "
            f"malformed={self.malformed}, errors={self.errors})"
        )

    def get(self, key: str, default: Any = None) -> Any:
        value = self._values.get(key, default)
        if isinstance(value, _Deferred):
            value = self._values[key] = json.loads(value.text)
        return value

    def number(self, key: str) -> float | None:
        """A numeric value, or None if absent or not a number."""
        return _as_float(self.get(key))


# A message line exactly as loadgen prints it. In a text of printable ASCII and newlines, a
# line of this shape whose key and tail (from `, "time_ms"`) have no backslash and end on the
# line is a JSON object with these members, hence valid, as soon as its value is valid JSON
# on its own: a string without backslash, a number or a literal (checked by the pattern),
# else decoded or checked apart.
_INT = r"-?(?:0|[1-9][0-9]*)"
_NUM = _INT + r"(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_LOADGEN_LINE = re.compile(
    r':::MLLOG *\{"key": "([^"]*)", "value": '
    r'(?:("[^"]*")|(' + _NUM + r')|(true|false|null)|([\[{"].*))'
    r'(, "time_ms": ' + _NUM + r', "namespace": "[^"]*", "event_type": "[^"]*", '
    r'"metadata": \{"is_error": (true|false), "is_warning": (?:true|false), '
    r'"file": "[^"]*", "line_no": ' + _INT + r', "pid": ' + _INT + r', "tid": ' + _INT
    + r"\}\}) *$",
    re.MULTILINE,
)  # fmt: skip
_LITERALS = {"true": True, "false": False, "null": None}


def _is_int_list(text: str) -> bool:
    """Whether `text` is a JSON array of non-negative integers written without spaces."""
    if text[:1] != "[" or text[-1:] != "]" or not text.isascii():
        return False
    if len(text) == 2:
        return True
    a = np.frombuffer(text.encode("ascii"), np.uint8)[1:-1]
    digit = a - np.uint8(ord("0")) < 10  # below '0' wraps high
    comma = a == ord(",")
    if not (digit | comma).all() or comma[0] or comma[-1] or (comma[1:] & comma[:-1]).any():
        return False
    first = np.concatenate(([True], comma[:-1]))  # the first character of each number
    return not (first[:-1] & (a[:-1] == ord("0")) & digit[1:]).any()  # no leading zero


def _is_string_map(text: str) -> bool:
    """Whether `text` (without control characters) is a JSON object of strings to strings
    written without spaces or escapes (`loadgen_file_sha1`)."""
    if text[:1] != "{" or text[-1:] != "}" or "\\" in text:
        return False
    parts = text[1:-1].split('"')  # '', key, ':', value, ',', key, ':', value, ''
    return (
        len(parts) % 4 == 1
        and not parts[0]
        and not parts[-1]
        and set(parts[2:-1:4]) <= {":"}
        and set(parts[4:-1:4]) <= {","}
    )


def parse_mllog(text: str) -> MLLog:
    """Parse the `:::MLLOG {json}` lines of a loadgen detail log.

    Like the checker's `MLPerfLog`, the first message of a key wins. Lines that start with
    the marker but are not valid JSON are counted in `malformed` and skipped; other lines are
    ignored. Large arrays of integers and objects of strings (`loaded_qsl_set`,
    `loadgen_file_sha1`) are checked here and decoded only when read.
    """
    log = _parse_loadgen_lines(text)
    return log if log is not None else _parse_json_lines(text)


def _parse_loadgen_lines(text: str) -> MLLog | None:
    """`parse_mllog` of a log whose message lines are all as loadgen prints them, else None."""
    if not text.isascii():
        return None
    raw = np.frombuffer(text.encode("ascii"), np.uint8)
    if ((raw < 32) & (raw != 10)).any():
        return None  # tabs, CR, other line breaks: lines as `str.splitlines` cuts them
    marked = text.count("\n" + MLLOG_MARKER) + text.startswith(MLLOG_MARKER)
    if text.count(MLLOG_MARKER) != marked:
        return None  # a marker inside a line
    found = _LOADGEN_LINE.findall(text)  # each starts a marked line
    if len(found) != marked:
        return None
    log = MLLog(messages=len(found))
    values = log._values
    value: Any
    for key, string, number, literal, other, tail, is_error in found:
        if "\\" in tail or "\\" in key or "\n" in tail or "\n" in key or "\n" in string:
            return None  # escapes, or a string running on past its line
        if "\\" in string:
            other = string  # escapes: decoded below
        if is_error == "true":
            log.errors += 1
        if other:
            if _is_int_list(other) or _is_string_map(other):
                value = _Deferred(other)
            else:
                try:
                    value = json.loads(other)
                except (ValueError, RecursionError):
                    return None  # e.g. a repeated member, deep nesting: decode the lines whole
        elif key in values:
            continue
        elif string:
            value = string[1:-1]
        elif number:
            is_float = "." in number or "e" in number or "E" in number
            value = float(number) if is_float else int(number)
        else:
            value = _LITERALS[literal]
        if key not in values:
            values[key] = value
    return log


def _parse_json_lines(text: str) -> MLLog:
    """`parse_mllog` decoding every message line as JSON."""
    log = MLLog()
    values = log._values
    n = len(MLLOG_MARKER)
    for line in text.splitlines():
        if not line.startswith(MLLOG_MARKER):
            continue
        try:
            msg = json.loads(line[n:])
            key = msg["key"]
        except (ValueError, KeyError, TypeError, RecursionError):
            log.malformed += 1
            continue
        log.messages += 1
        meta = msg.get("metadata")
        if isinstance(meta, dict) and meta.get("is_error") is True:
            log.errors += 1
        if isinstance(key, str) and key not in values:
            values[key] = msg.get("value")
    return log


def read_mllog(path: Path | str) -> MLLog:
    """Read and parse a detail log (undecodable bytes replaced, never fatal)."""
    return parse_mllog(Path(path).read_bytes().decode("utf-8", errors="replace"))


# ---------------------------------------------------------------------------------------
# mlperf_log_summary.txt


_NAME_VALUE = re.compile(r"^([^:\n]*):(.*)$", re.MULTILINE)
_OTHER_LINE_BREAK = re.compile(r"[\r\v\f\x1c\x1d\x1e]")  # where str.splitlines also cuts


@dataclass
class Summary:
    """The `name : value` lines of a loadgen summary, first occurrence of each name."""

    fields: dict[str, str] = field(default_factory=dict)

    @property
    def scenario(self) -> str | None:
        """The scenario the run used (`Scenario : Single Stream` -> `SingleStream`)."""
        raw = self.fields.get("Scenario")
        return canonical_scenario(raw) if raw else None

    @property
    def result_is(self) -> str | None:
        """`VALID` / `INVALID` as printed, or None if the line is missing."""
        raw = self.fields.get("Result is")
        return raw.split()[0].upper() if raw else None

    def number(self, name: str) -> float | None:
        return _as_float(self.fields.get(name))


def parse_summary(text: str) -> Summary:
    """Parse a loadgen summary (NUL bytes and CR line ends tolerated).

    A line `[*] name : value` gives the field `name` (up to the first colon, stripped) the
    value after it (stripped); lines without a colon or with an empty name are ignored.
    Linear in the length of each line, whatever it holds.
    """
    fields: dict[str, str] = {}
    text = text.replace("\x00", "")
    if text.isascii() and not _OTHER_LINE_BREAK.search(text):
        pairs = _NAME_VALUE.findall(text)  # the lines with a colon, cut at the first
    else:
        pairs = [(n, v) for n, c, v in (x.partition(":") for x in text.splitlines()) if c]
    for name, value in pairs:
        name = name.lstrip()
        if name[:1] == "*":  # loadgen's `* name : value` bullets
            name = name[1:]
        name = name.strip()
        if name and name not in fields:
            fields[name] = value.strip()
    return Summary(fields)


def read_summary(path: Path | str) -> Summary:
    return parse_summary(Path(path).read_bytes().decode("utf-8", errors="replace"))


# ---------------------------------------------------------------------------------------
# The checker's headline result


@dataclass
class LoadgenResult:
    """Performance of one result as the checker of its round computes it."""

    scenario: str  # the result's scenario (its folder)
    effective_scenario: str | None  # the scenario loadgen ran
    valid: bool
    performance: float | None
    performance_unit: str | None
    samples_per_second: float | None  # Offline/Server only
    tokens_per_sample: float | None
    samples_per_query: int | None  # SingleStream 1, MultiStream 8 (legacy: from the log)
    inferred: bool
    legacy_multistream: bool
    source: str  # "detail" or "summary"
    notes: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)


def uses_legacy_multistream(version: str) -> bool:
    """v0.5-v1.1 MultiStream reported samples per query, not a latency."""
    return version_tuple(version) < (2, 0)


def uses_early_stopping(version: str) -> bool:
    return version_tuple(version) >= (2, 0)


def server_field(version: str) -> str:
    """The Server throughput the checker reports: scheduled before v4.1, completed after."""
    if version_tuple(version) >= (4, 1):
        return "result_completed_samples_per_sec"
    return "result_scheduled_samples_per_sec"


def token_family(benchmark: str) -> str | None:
    """`gptj`, `llama2-70b` or `mixtral-8x7b` for a token-counting benchmark, else None."""
    for prefix in TOKEN_FAMILIES:
        if benchmark.startswith(prefix):
            return prefix
    return None


def token_headline_field(benchmark: str, scenario: str, version: str) -> str | None:
    """The tokens/s field the checker of `version` reports for this result, if any."""
    fam = token_family(benchmark)
    if fam is None:
        return None
    table = _TOKEN_HEADLINE.get(version_tuple(version)[:2])
    if table is None and version_tuple(version) > max(_TOKEN_HEADLINE):
        table = _TOKEN_HEADLINE[max(_TOKEN_HEADLINE)]
    return (table or {}).get(fam, {}).get(scenario)


class _Fields:
    """Read a detail-log key, or its summary counterpart when there is no detail log."""

    def __init__(self, detail: MLLog | None, summary: Summary | None):
        self.detail, self.summary = detail, summary

    def get(self, key: str) -> float | None:
        if self.detail is not None:
            return self.detail.number(key)
        if self.summary is not None and key in _SUMMARY_NAMES:
            return self.summary.number(_SUMMARY_NAMES[key])
        return None

    def mean_query_latency_ns(self) -> float | None:
        if self.detail is not None:
            return self.detail.number("result_mean_query_latency_ns")
        # in a MultiStream summary the per-query section comes first
        return self.summary.number("Mean latency (ns)") if self.summary else None


def _ns_to_ms(ns: float | None, factor: float = 1.0) -> float | None:
    return None if ns is None else ns * factor / MS_TO_NS


def loadgen_result(
    scenario: str,
    version: str,
    benchmark: str,
    detail: MLLog | None,
    summary: Summary | None,
) -> LoadgenResult:
    """The headline result of one result folder by the checker rules of `version`.

    `scenario` is the canonical scenario of the result folder. The detail log is used when
    it has the run's scenario (the checker reads it from v1.0 on); otherwise the summary.
    Latencies are in ms. `samples_per_second` is the Offline/Server throughput in samples
    (the checker's Server field: scheduled before v4.1, completed from v4.1), never tokens.
    """
    if detail is None and summary is None:
        raise ValueError("need a detail log or a summary")
    notes: list[tuple[str, str]] = []
    if detail is not None and "effective_scenario" in detail:
        f = _Fields(detail, None)
        eff = canonical_scenario(str(detail.get("effective_scenario")))
        validity = detail.get("result_validity")
        if validity is None and summary is not None:
            valid = summary.result_is == "VALID"
        else:
            valid = validity == "VALID"
        source = "detail"
    else:
        if summary is None:
            raise ValueError("detail log has no effective_scenario and there is no summary")
        if detail is not None:
            notes.append(("detail_without_scenario", "detail log has no effective_scenario"))
        f = _Fields(None, summary)
        eff = summary.scenario
        valid = summary.result_is == "VALID"
        source = "summary"
    run = eff or scenario  # the scenario loadgen ran (assume the folder's if not logged)
    legacy = uses_legacy_multistream(version)

    perf = sps = tps = None
    unit: str | None = None
    spq: int | None = None
    inferred = False
    if scenario == "Offline" and run == "Offline":
        sps = f.get("result_samples_per_second")
        perf, unit = sps, "samples/s"
    elif scenario == "Offline" and run == "SingleStream":
        inferred = True
        sps = f.get("result_qps_without_loadgen_overhead")
        perf, unit = sps, "samples/s"
    elif scenario == "Offline" and run == "MultiStream" and not legacy:
        inferred = True
        n, mean_ns = f.get("effective_samples_per_query"), f.mean_query_latency_ns()
        if n and mean_ns:
            sps = n * S_TO_MS / (mean_ns / MS_TO_NS)
        perf, unit = sps, "samples/s"
    elif scenario == "Server" and run == "Server":
        sps = f.get(server_field(version))
        perf, unit = sps, "queries/s"
    elif scenario == "SingleStream" and run == "SingleStream":
        spq = 1
        key = "early_stopping_latency_ss" if uses_early_stopping(version) else None
        perf, unit = _ns_to_ms(f.get(key or "result_90.00_percentile_latency_ns")), "ms"
    elif scenario == "MultiStream" and run == "MultiStream" and legacy:
        perf, unit = f.get("effective_samples_per_query"), "samples/query"
        spq = int(perf) if perf and math.isfinite(perf) else None
    elif scenario == "MultiStream" and run == "MultiStream":
        spq = MULTISTREAM_SAMPLES_PER_QUERY
        perf, unit = _ns_to_ms(f.get("early_stopping_latency_ms")), "ms"
    elif scenario == "MultiStream" and run == "SingleStream" and not legacy:
        inferred = True
        spq = MULTISTREAM_SAMPLES_PER_QUERY
        ms = f.get("early_stopping_latency_ms")
        perf, unit = _ns_to_ms(ms, MULTISTREAM_SAMPLES_PER_QUERY), "ms"
    else:
        notes.append(("scenario_mismatch", f"{scenario} folder holds a {run} run (no rule)"))

    if scenario in _TOKEN_RATES and run == scenario:
        tok_keys, sample_key = _TOKEN_RATES[scenario]
        samples = f.get(sample_key)
        tokens = next((t for t in map(f.get, tok_keys) if t is not None), None)
        if tokens and samples:
            tps = tokens / samples
        head = token_headline_field(benchmark, scenario, version)
        if head is not None and f.get(head) is not None:
            perf, unit = f.get(head), "tokens/s"

    if perf is not None and not (
        isinstance(perf, (int, float)) and math.isfinite(perf) and perf > 0
    ):
        notes.append(("bad_value", f"{scenario} result {perf!r} {unit} is not a positive number"))
        perf = None
    if sps is not None and not (math.isfinite(sps) and sps > 0):
        notes.append(("bad_value", f"samples per second {sps!r} is not a positive number"))
        sps = None
    if tps is not None and not (math.isfinite(tps) and tps > 0):
        notes.append(("bad_value", f"tokens per sample {tps!r} is not a positive number"))
        tps = None
    if perf is None and not notes:
        notes.append(("missing_result_field", f"no {scenario} result in the {source} log"))

    return LoadgenResult(
        scenario=scenario,
        effective_scenario=eff,
        valid=bool(valid),
        performance=perf,
        performance_unit=unit if perf is not None else None,
        samples_per_second=sps,
        tokens_per_sample=tps,
        samples_per_query=spq,
        inferred=inferred,
        legacy_multistream=legacy and scenario == "MultiStream",
        source=source,
        notes=notes,
    )


def _as_float(value: Any) -> float | None:
    """A finite number from a log value, else None (inf and nan count as missing)."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, (int, float)):
            out = float(value)
        elif isinstance(value, str):
            out = float(value.split()[0]) if value.strip() else None
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return out if out is not None and math.isfinite(out) else None
