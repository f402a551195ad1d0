"""Rounds the pipeline knows: the catalog plus rounds found later by discovery."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, replace
from pathlib import Path

from mlperf_power_dag import catalog, settings
from mlperf_power_dag.catalog import Round


def discovered_path() -> Path:
    return settings.home() / "rounds.json"


def discovered(suite: str | None = None) -> list[Round]:
    """Rounds recorded by discovery (not in the code's catalog)."""
    path = discovered_path()
    if not path.exists():
        return []
    out = []
    for d in json.loads(path.read_text()):
        date = dt.date.fromisoformat(d["date"]) if d.get("date") else None
        r = Round(**{**d, "date": date})
        if suite is None or r.suite == suite:
            out.append(r)
    return out


def record(found: list[Round]) -> None:
    """Add discovered rounds to the registry file (replacing same suite+version)."""
    keep = {(r.suite, r.version): r for r in discovered()}
    for r in found:
        keep[(r.suite, r.version)] = r
    rows = []
    for r in sorted(keep.values(), key=lambda r: (r.suite, r.sort_key)):
        d = asdict(r)
        d["date"] = r.date.isoformat() if r.date else None
        rows.append(d)
    path = discovered_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=1))


def all_rounds(suite: str) -> list[Round]:
    """Catalog and discovered rounds of a suite, oldest first."""
    by_v = {r.version: r for r in discovered(suite)}
    by_v.update({r.version: r for r in catalog.rounds(suite)})
    return sorted(by_v.values(), key=lambda r: r.sort_key)


def round_for(suite: str, version: str) -> Round:
    """The round behind a partition key; a key nobody described gets the naming convention."""
    for r in all_rounds(suite):
        if r.version == version:
            return r
    catalog.version_tuple(version)  # raises on a malformed key
    return replace(Round(suite, version, None), repo=f"{suite}_results_{version}")


def round_date(suite: str, version: str) -> dt.date | None:
    return round_for(suite, version).date
