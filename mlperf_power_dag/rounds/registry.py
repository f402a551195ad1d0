"""Rounds the pipeline knows: the catalog plus rounds found later by discovery."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from dataclasses import asdict, fields, replace
from pathlib import Path

from mlperf_power_dag import settings
from mlperf_power_dag.rounds import catalog
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.rounds.download import check_name

log = logging.getLogger("mlperf-power")

_VERSION = re.compile(r"^v\d{1,4}(\.\d{1,4}){1,3}$")
_REF = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$")
_FIELDS = {f.name for f in fields(Round)}
_CACHE: dict[Path, tuple[tuple[int, int], list[Round]]] = {}


class RoundsFileError(ValueError):
    """An entry of rounds.json that cannot describe a round."""


def check_version(version: str) -> str:
    """A round version such as `v4.1`."""
    if not isinstance(version, str) or not _VERSION.match(version):
        raise ValueError(f"invalid round version {version!r}: expected e.g. v4.1")
    return version


def validate(entry: object) -> Round:
    """A rounds.json entry as a Round; RoundsFileError says what is wrong with it."""
    if not isinstance(entry, dict):
        raise RoundsFileError(f"not an object: {type(entry).__name__}")
    unknown = set(entry) - _FIELDS
    if unknown:
        raise RoundsFileError(f"unknown field(s) {sorted(unknown)}")
    try:
        if entry.get("suite") not in catalog.SUITES:
            raise ValueError(f"unknown suite {entry.get('suite')!r}")
        check_version(entry.get("version"))  # type: ignore[arg-type]
        check_name("owner", entry.get("owner", "mlcommons"))
        if entry.get("repo"):
            check_name("repository", entry["repo"])
        ref = entry.get("ref", "main")
        if not isinstance(ref, str) or not _REF.match(ref) or ".." in ref:
            raise ValueError(f"invalid ref {ref!r}")
        if entry.get("source", catalog.TREE) not in (catalog.TREE, catalog.CMX, catalog.SUMMARY):
            raise ValueError(f"unknown source kind {entry.get('source')!r}")
        if not isinstance(entry.get("has_power", True), bool):
            raise ValueError("has_power must be true or false")
        date = dt.date.fromisoformat(entry["date"]) if entry.get("date") else None
    except (ValueError, TypeError) as e:
        raise RoundsFileError(str(e)) from e
    return Round(**{**entry, "date": date})


def discovered_path(home: Path | None = None) -> Path:
    """`rounds.json` in `home` (default `$MLPERF_POWER_HOME`)."""
    return (home or settings.home()) / "rounds.json"


def _load(path: Path) -> list[Round]:
    """Every valid entry of rounds.json; each bad entry is skipped with a warning naming it."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        log.warning("%s: not readable as JSON (%s); ignoring discovered rounds", path, e)
        return []
    if not isinstance(data, list):
        log.warning("%s: expected a list of rounds; ignoring discovered rounds", path)
        return []
    out = []
    for i, entry in enumerate(data):
        try:
            out.append(validate(entry))
        except RoundsFileError as e:
            log.warning("%s: entry %d skipped: %s", path, i, e)
    return out


def discovered(suite: str | None = None, home: Path | None = None) -> list[Round]:
    """Rounds recorded by discovery (not in the code's catalog)."""
    path = discovered_path(home)
    try:
        st = path.stat()
    except OSError:
        return []
    key = (st.st_mtime_ns, st.st_size)
    cached = _CACHE.get(path)
    if cached is None or cached[0] != key:
        cached = (key, _load(path))
        _CACHE[path] = cached
    return [r for r in cached[1] if suite is None or r.suite == suite]


def record(found: list[Round], home: Path | None = None) -> None:
    """Add discovered rounds to the registry file (replacing same suite+version)."""
    keep = {(r.suite, r.version): r for r in discovered(home=home)}
    for r in found:
        validate({**asdict(r), "date": r.date.isoformat() if r.date else None})
        keep[(r.suite, r.version)] = r
    rows = []
    for r in sorted(keep.values(), key=lambda r: (r.suite, r.sort_key)):
        d = asdict(r)
        d["date"] = r.date.isoformat() if r.date else None
        rows.append(d)
    path = discovered_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps(rows, indent=1))
    os.replace(tmp, path)


def all_rounds(suite: str, home: Path | None = None) -> list[Round]:
    """Catalog and discovered rounds of a suite, oldest first."""
    by_v = {r.version: r for r in discovered(suite, home)}
    by_v.update({r.version: r for r in catalog.CATALOG.get(suite, [])})
    return sorted(by_v.values(), key=lambda r: r.sort_key)


def round_for(suite: str, version: str, home: Path | None = None) -> Round:
    """The round behind a partition key; a key nobody described gets the naming convention."""
    for r in all_rounds(suite, home):
        if r.version == version:
            return r
    check_version(version)  # raises on a malformed key
    return replace(Round(suite, version, None), repo=f"{suite}_results_{version}")


def round_date(suite: str, version: str, home: Path | None = None) -> dt.date | None:
    return round_for(suite, version, home).date
