"""MLPerf Inference system descriptions (`<division>/<submitter>/systems/<system>.json`)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlperf_power_dag.benchmark_ids import CATEGORIES
from mlperf_power_dag.parsers.guards import INT64_MAX, MAX_INT_DIGITS, ParseError, brief, load_json

AVAILABILITIES = ("available", "preview", "rdi")
_AVAILABILITY_ALIASES = {
    "research, development, or internal": "rdi",
    "research, development or internal": "rdi",
    "research": "rdi",
}
# Values that mean "not given" in a system description.
_NULLS = {"", "n/a", "na", "none", "null", "-", "tbd", "unknown"}


class SystemJsonError(ParseError):
    """A system description that is not a readable JSON object."""


@dataclass
class SystemInfo:
    """The fields of one system description the results table needs."""

    system_name: str | None = None
    submitter: str | None = None
    categories: tuple[str, ...] = ()  # () when the system type is missing or unreadable
    system_type: str | None = None  # as written
    accelerator: str | None = None
    accelerators_per_node: int | None = None
    nodes: int | None = None
    host_processor: str | None = None
    availability: str | None = None
    issues: list[tuple[str, str]] = field(default_factory=list)  # (kind, message)

    @property
    def accelerators(self) -> int | None:
        """Accelerators in the whole system: per node x nodes (None if either is unknown)."""
        if self.accelerators_per_node is None or self.nodes is None:
            return None
        return self.accelerators_per_node * self.nodes


def parse_categories(system_type: Any) -> tuple[str, ...]:
    """`"datacenter,edge"`, `"Edge, Datacenter"`, `"data center"` -> ('datacenter', 'edge').

    Returns () if any part is not a known category.
    """
    if not isinstance(system_type, str):
        return ()
    parts = [re.sub(r"[\s_-]+", "", p).lower() for p in re.split(r"[,/;&+]|\band\b", system_type)]
    parts = [p for p in parts if p]
    if not parts or any(p not in CATEGORIES for p in parts):
        return ()
    return tuple(c for c in CATEGORIES if c in parts)


def parse_count(value: Any) -> tuple[int | None, bool]:
    """A count as written (8, "8", 8.0, " 8 ") -> (8, True).

    Anything else ("", "N/A", "(8,4)", None, negative, fractional or beyond int64) ->
    (None, False).
    """
    n: int | None = None
    if isinstance(value, bool) or value is None:
        return None, False
    if isinstance(value, int):
        n = value
    elif isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            n = int(value)
    elif isinstance(value, str):
        s = value.strip()
        m = re.fullmatch(r"(\d+)(\.0*)?", s)
        if m and len(m.group(1)) <= MAX_INT_DIGITS:
            n = int(m.group(1))
    if n is None or not 0 <= n <= INT64_MAX:
        return None, False
    return n, True


def _text(value: Any) -> str | None:
    if value is None:
        return None
    s = str(value).strip()
    return None if s.lower() in _NULLS else s


def parse_system(data: dict[str, Any], name: str = "system json") -> SystemInfo:
    """Read the fields of a system description; odd values become None plus an issue."""
    info = SystemInfo()
    info.system_name = _text(data.get("system_name"))
    info.submitter = _text(data.get("submitter"))
    info.host_processor = _text(data.get("host_processor_model_name"))
    info.accelerator = _text(data.get("accelerator_model_name"))

    raw_type = data.get("system_type")
    info.system_type = raw_type if isinstance(raw_type, str) else None
    info.categories = parse_categories(raw_type)
    if raw_type is None:
        info.issues.append(("missing_system_type", f"{name} has no system_type"))
    elif not info.categories:
        info.issues.append(("odd_system_type", f"{name} has system_type {brief(raw_type)}"))

    for key, attr in (("accelerators_per_node", "accelerators_per_node"),
                      ("number_of_nodes", "nodes")):  # fmt: skip
        raw = data.get(key)
        value, ok = parse_count(raw)
        if attr == "nodes" and value == 0:
            value, ok = None, False
        setattr(info, attr, value)
        if not ok:
            what = "missing" if key not in data else brief(raw)
            info.issues.append(("odd_system_field", f"{name}: {key} is {what}"))
    total = info.accelerators
    if total is not None and total > INT64_MAX:
        info.issues.append(
            ("odd_system_field", f"{name}: accelerators_per_node x number_of_nodes is too large")
        )
        info.accelerators_per_node = None

    status = _text(data.get("status"))
    if status is None:
        info.issues.append(("odd_system_field", f"{name}: status is missing"))
    else:
        s = status.lower()
        s = _AVAILABILITY_ALIASES.get(s, s)
        info.availability = s
        if s not in AVAILABILITIES:
            info.issues.append(("odd_availability", f"{name}: status {brief(status)}"))
    return info


def read_system(path: Path | str, data: bytes | None = None) -> SystemInfo:
    """Read a system JSON file (or `data`, its bytes, read already); SystemJsonError (a
    ValueError) if it is not a readable JSON object. OSError if the file cannot be read."""
    p = Path(path)
    text = (p.read_bytes() if data is None else data).decode("utf-8-sig", errors="replace")
    try:
        obj = load_json(text, SystemJsonError)
    except SystemJsonError as exc:
        raise SystemJsonError(f"{p.name} is {exc}") from None
    if not isinstance(obj, dict):
        raise SystemJsonError(f"{p.name} holds a {type(obj).__name__}, not an object")
    try:
        return parse_system(obj, p.name)
    except RecursionError:
        raise SystemJsonError(f"{p.name}: values nested too deeply") from None
