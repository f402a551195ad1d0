"""Parse MLCommons CMX results (mlcommons/cm4mlperf-results): folder names and cm-result.json rows.

Layout: ``experiment/mlperf-inference--<round>--<category>--<division>[-power]--<task>--
<scenario>/<timestamp>/cm-result.json``; each file is a JSON list of result rows. A row is one
of three kinds (`row_kind`):

- ``combined``: ``Result`` (performance) and ``Result_Power`` (+ ``Result_Power_Units``) in one
  row (v2.0-v3.1);
- ``performance``: ``Result`` only;
- ``power``: ``Result`` null, ``Result_Power`` set and ``Units`` ``Watts`` or ``millijoules``
  (v4.0 on: the power half of a result, beside its performance row).

Every row names its result by ``Location``, ``<division>/<submitter>/results/<system>/
<benchmark>/<scenario>`` inside the round's submission repository.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from mlperf_power_dag.benchmark_ids import SCENARIO_BY_KEY
from mlperf_power_dag.parsers.guards import ParseError, int64, load_json

COMBINED, PERFORMANCE, POWER = "combined", "performance", "power"


# Division folder parts -> the division as written in Location / the submission tree.
_DIVISIONS = {"closed": "closed", "open": "open", "closed-network": "network", "network": "network"}

_FOLDER_RE = re.compile(
    r"^mlperf-inference--(?P<round>v\d+\.\d+)--(?P<category>[a-z,]+)--"
    r"(?P<division>[a-z-]+?)(?P<power>-power)?--(?P<task>[a-z0-9-]+)--(?P<scenario>[a-z]+)$"
)

# Performance units as written in CMX rows -> the unit names of the results table.
PERFORMANCE_UNITS = {
    "samples/s": "samples/s",
    "queries/s": "queries/s",
    "tokens/s": "tokens/s",
    "latency (ms)": "ms",
}
POWER_UNITS = ("watts", "millijoules")


class CmxFormatError(ParseError):
    """A cm-result.json file that is not a JSON list of objects."""


@dataclass(frozen=True)
class ExperimentFolder:
    """What a CMX experiment folder name says about the results inside it."""

    round: str  # "v4.0"
    category: str  # "datacenter" or "edge"
    division: str  # "closed", "open" or "network"
    power: bool  # a "-power" folder
    task: str  # "image-classification", ...
    scenario: str  # canonical loadgen scenario


def parse_experiment_folder(name: str) -> ExperimentFolder | None:
    """`mlperf-inference--v4.0--edge--closed-power--object-detection--offline` -> its parts.

    None for names of another form (tiny, the cross-round ``all`` folders, unknown divisions
    or scenarios).
    """
    m = _FOLDER_RE.match(name)
    if not m:
        return None
    division = _DIVISIONS.get(m["division"])
    scenario = SCENARIO_BY_KEY.get(m["scenario"])
    if division is None or scenario is None or m["category"] not in ("datacenter", "edge"):
        return None
    return ExperimentFolder(
        round=m["round"],
        category=m["category"],
        division=division,
        power=m["power"] is not None,
        task=m["task"],
        scenario=scenario,
    )


def json_objects(data: bytes, error: type[ValueError], items: str = "rows") -> list[dict[str, Any]]:
    """A JSON document that must be a list of objects; `error` (naming `items`) otherwise."""
    rows = load_json(data, error)
    if not isinstance(rows, list):
        raise error(f"expected a JSON list of {items}, got {type(rows).__name__}")
    bad = [i for i, r in enumerate(rows) if not isinstance(r, dict)]
    if bad:
        raise error(f"{items} {bad[:5]} are not JSON objects")
    return rows


def load_rows(data: bytes) -> list[dict[str, Any]]:
    """The rows of one cm-result.json file; CmxFormatError if it is not a list of objects."""
    return json_objects(data, CmxFormatError, "rows")


def number(value: Any) -> float | None:
    """A finite number from a JSON value (numbers or numeric strings), else None."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        if isinstance(value, (int, float)):
            x = float(value)
        elif isinstance(value, str):
            x = float(value.strip().replace(",", ""))
        else:
            return None
    except (ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


def integer(value: Any) -> int | None:
    """A whole number within int64 from a JSON value (``8``, ``8.0``, ``"8"``), else None."""
    x = number(value)
    if x is None or x != int(x):
        return None
    return int64(int(x))


def text(value: Any) -> str | None:
    """A stripped non-empty string, else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        s = str(value).strip()
    except (RecursionError, ValueError):  # a list nested too deeply for str()
        return None
    return s or None


def row_kind(row: dict[str, Any]) -> str | None:
    """`combined`, `performance` or `power` (see the module docstring); None: no result at all."""
    perf = number(row.get("Result"))
    power = number(row.get("Result_Power"))
    units = (text(row.get("Units")) or "").lower()
    if perf is not None and power is not None:
        return COMBINED
    if perf is not None:
        return PERFORMANCE
    if power is not None and (units in POWER_UNITS or text(row.get("Result_Power_Units"))):
        return POWER
    return None


def power_unit(row: dict[str, Any]) -> str | None:
    """Unit of ``Result_Power`` in lower case (``watts`` / ``millijoules``), None if unstated."""
    unit = text(row.get("Result_Power_Units"))
    if unit is None and number(row.get("Result")) is None:
        unit = text(row.get("Units")) or text(row.get("Result_Units"))
    return unit.lower() if unit else None


def performance_unit(row: dict[str, Any]) -> str | None:
    """Unit of ``Result`` as named in the results table (samples/s, queries/s, tokens/s, ms).

    None when the row states none; an unknown unit is returned lower-cased as written.
    """
    unit = text(row.get("Units")) or text(row.get("Result_Units"))
    if unit is None:
        return None
    return PERFORMANCE_UNITS.get(unit.lower(), unit.lower())


_LOCATION_RE = re.compile(
    r"(?:^|/)(?P<division>[^/]+)/(?P<submitter>[^/]+)/results/(?P<system>[^/]+)/"
    r"(?P<benchmark>[^/]+)/(?P<scenario>[^/]+)/?$"
)


@dataclass(frozen=True)
class Location:
    """Parts of a result folder path: <division>/<submitter>/results/<system>/<bench>/<scen>."""

    division: str
    submitter: str
    system: str
    benchmark: str
    scenario: str


def parse_location(path: str) -> Location | None:
    """Split a result folder path (a CMX/summary ``Location``); None if it has another form."""
    m = _LOCATION_RE.search(path.strip())
    if not m:
        return None
    return Location(**m.groupdict())
