"""Code versions: short hashes of the source that computes each kind of asset.

A tidy table is rebuilt when the source commit of its round or the code that reads rounds
changes; a metric or figure when its inputs or the code that computes it change.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent

# What a tidy round table depends on besides the round's files.
TIDY_SOURCES = (
    "parsers",
    "readers",
    "tables.py",
    "schemas.py",
    "rounds/sources.py",
    "suites",
    "rounds/catalog.py",
    "benchmark_ids.py",
    "dataset.py",
)
# What metrics, cross-checks and figures depend on besides their input tables.
DOWNSTREAM_SOURCES = (
    "metrics.py",
    "figures",
    "report.py",
    "crosscheck.py",
    "tiny_crosscheck.py",
    "schemas.py",
    "rounds/catalog.py",
    "rounds/registry.py",
    "rounds/table.py",
    "benchmark_ids.py",
    "dataset.py",
    "report.py",
    "defs",
)


@cache
def source_hash(*relpaths: str) -> str:
    """12-hex-digit hash of the Python files at these package-relative paths."""
    h = hashlib.sha256()
    for rel in relpaths:
        path = PACKAGE / rel
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for f in files:
            h.update(str(f.relative_to(PACKAGE)).encode())
            h.update(b"\0")
            h.update(f.read_bytes())
    return h.hexdigest()[:12]


def tidy_code_version() -> str:
    return source_hash(*TIDY_SOURCES)


def downstream_code_version() -> str:
    return source_hash(*DOWNSTREAM_SOURCES)
