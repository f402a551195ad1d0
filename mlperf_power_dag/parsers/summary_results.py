"""Parse the MLCommons results-site table ``summary_results.json`` of an inference round.

The file is a JSON list with one object per published result, e.g. (v4.1)::

    {"ID": "v4.1-0001", "Submitter": "AMD", "Category": "closed", "Suite": "datacenter",
     "System": "...", "Platform": "1xMI300X_2xEPYC-9374F", "Model": "llama2-70b-99",
     "UsedModel": "llama2-70b-99", "Scenario": "Offline",
     "Accuracy": "ROUGE1: 44.5321  ROUGE2: 22.1191  ROUGEL: 28.7225  TOKENS_PER_SAMPLE: 293.7",
     "Nodes": 1, "a#": 1.0, "Location": "closed/AMD/results/1xMI300X_2xEPYC-9374F/...",
     "Performance_Result": 3062.72, "Performance_Units": "Tokens/s",
     "Power_Result": ..., "Power_Units": "Watts" | "millijoules"}

``Category`` is the division, ``Suite`` the category (``"datacenter,edge"`` for both).
In v4.1 a power result carries ``Power_Result`` in the same object as its performance; a
power value may also come as its own object (``Performance_Units`` ``Watts`` /
``millijoules``, or ``Power_Result`` without ``Performance_Result``), see `row_parts`.
"""

from __future__ import annotations

import math
import re
from typing import Any

from mlperf_power_dag.benchmark_ids import CATEGORIES
from mlperf_power_dag.parsers.cmx import json_objects, number, text
from mlperf_power_dag.parsers.guards import ParseError

POWER_UNITS = {"watts": "watts", "w": "watts", "millijoules": "millijoules", "mj": "millijoules"}
PERFORMANCE_UNITS = {
    "samples/s": "samples/s",
    "queries/s": "queries/s",
    "tokens/s": "tokens/s",
    "latency (ms)": "ms",
}


class SummaryFormatError(ParseError):
    """A summary_results.json that is not a JSON list of objects."""


def load_summary(data: bytes) -> list[dict[str, Any]]:
    """The result objects of a summary_results.json; SummaryFormatError on another shape."""
    return json_objects(data, SummaryFormatError, "entries")


# Accuracy fields are a few dozen characters; longer text is read only this far (the metric
# pattern is quadratic in the length of a word).
MAX_ACCURACY_CHARS = 2000
_METRIC_RE = re.compile(
    r"([A-Za-z][A-Za-z0-9_.]*)\s*:\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
)


def parse_accuracy(value: Any) -> dict[str, float]:
    """``"ROUGE1: 44.5  TOKENS_PER_SAMPLE: 293.7"`` -> {"ROUGE1": 44.5, "TOKENS_PER_SAMPLE": 293.7}.

    A bare number gives {}; names are kept as written; values that are not finite are left
    out. Only the first `MAX_ACCURACY_CHARS` characters are read.
    """
    s = text(value)
    if s is None:
        return {}
    out = {}
    for k, v in _METRIC_RE.findall(s[:MAX_ACCURACY_CHARS]):
        x = float(v)
        if math.isfinite(x):
            out[k] = x
    return out


def tokens_per_sample(accuracy: Any) -> float | None:
    """The measured ``TOKENS_PER_SAMPLE`` of a result's accuracy field, if it states one (> 0)."""
    metrics = {k.upper(): v for k, v in parse_accuracy(accuracy).items()}
    tps = metrics.get("TOKENS_PER_SAMPLE")
    return tps if tps is not None and tps > 0 else None


def categories(suite: Any) -> tuple[list[str], list[str]]:
    """``"datacenter,edge"`` -> (["datacenter", "edge"], []); the second list: unknown parts."""
    parts = [p.strip().lower() for p in (text(suite) or "").split(",") if p.strip()]
    known = [p for p in parts if p in CATEGORIES]
    return sorted(set(known)), [p for p in parts if p not in CATEGORIES]


def row_parts(row: dict[str, Any]) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(performance, power) halves of one result object; either may be None.

    performance: {"value", "unit"}; power: {"value", "unit"} with unit ``watts`` /
    ``millijoules`` (or the unknown unit lower-cased, None if unstated).
    """
    perf_value = number(row.get("Performance_Result"))
    perf_unit = (text(row.get("Performance_Units")) or "").lower()
    perf: dict[str, Any] | None = None
    power: dict[str, Any] | None = None
    if perf_value is not None and perf_unit in POWER_UNITS:
        # A power value written as the object's performance: the separate power row form.
        power = {"value": perf_value, "unit": POWER_UNITS[perf_unit]}
    elif perf_value is not None:
        perf = {"value": perf_value, "unit": PERFORMANCE_UNITS.get(perf_unit, perf_unit or None)}
    power_value = number(row.get("Power_Result"))
    if power_value is not None:
        unit = (text(row.get("Power_Units")) or "").lower()
        power = {"value": power_value, "unit": POWER_UNITS.get(unit, unit or None)}
    return perf, power
