"""What is already built: the checks that let a warm build skip unchanged work.

A round is unchanged when its tables are in the dataset, built from the commit its remote ref
points to now, by the same reader code and schema. A metric, check or figure is unchanged when
the fingerprint of its inputs (the dataset files of the tables it reads, the downstream code and
its config) equals the one recorded at its last materialization and no cross-round table it
reads is rebuilt; the rounds table's fingerprint covers the discovered rounds and the commits
of the rounds built.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandera.pandas as pa
from upath import UPath

from mlperf_power_dag import dataset, versions

FINGERPRINT_KEY = "mlperf/input_fingerprint"


@dataclass(frozen=True)
class RoundState:
    """Whether one round's tables can be kept, and why (for the log)."""

    unchanged: bool
    reason: str


def round_state(
    base: UPath,
    tables: Mapping[str, type[pa.DataFrameModel]],
    version: str,
    head: str | None,
) -> RoundState:
    """Compare the dataset files of one round (`tables`: its per-round tables) with the commit
    its remote ref points to now (`head`; None when the ref could not be resolved)."""
    if head is None:
        return RoundState(False, "remote ref not resolved")
    code = versions.tidy_code_version()
    for table, model in tables.items():
        info = dataset.partition_info(base, table, version)
        if info is None:
            return RoundState(False, f"{table} not in the dataset")
        if info.get("source_commit") != head:
            old = str(info.get("source_commit") or "?")[:12]
            return RoundState(False, f"new commit {head[:12]} (was {old})")
        if info.get("code_version") != code:
            return RoundState(False, f"reader code changed ({info.get('code_version')} -> {code})")
        if info.get("schema_version") != dataset.schema_version(model):
            return RoundState(False, f"{table} schema changed")
    return RoundState(True, f"commit {head[:12]}, reader code {code}")


def downstream_fingerprint(
    base: UPath,
    tables: Iterable[str],
    rounds_text: str = "",
    config: Mapping[str, Any] | None = None,
    footer_keys: Iterable[str] | None = None,
) -> str:
    """Hash of what a cross-round asset is computed from: the dataset files (footers) of the
    per-round `tables` it reads (only the `footer_keys` of each footer, when given), the
    discovered rounds (`rounds_text`), the downstream code and its config."""
    keep = None if footer_keys is None else set(footer_keys)
    h = hashlib.sha256()
    h.update(versions.downstream_code_version().encode())
    h.update(rounds_text.encode())
    h.update(json.dumps(dict(config or {}), sort_keys=True, default=str).encode())
    for table in sorted(set(tables)):
        h.update(b"\0" + table.encode())
        for key in dataset.list_partitions(base, table):
            info = dataset.partition_info(base, table, key) or {}
            if keep is not None:
                info = {k: v for k, v in info.items() if k in keep}
            h.update(json.dumps({"round": key, **info}, sort_keys=True, default=str).encode())
    return h.hexdigest()[:16]


def built_commits(base: UPath, tables: Mapping[str, str]) -> dict[tuple[str, str], str]:
    """(suite, round) -> the source commit of the round's file in the dataset, for `tables`
    (suite -> its results table); rounds without a file are left out."""
    out: dict[tuple[str, str], str] = {}
    for suite, table in tables.items():
        for key in dataset.list_partitions(base, table):
            commit = (dataset.partition_info(base, table, key) or {}).get("source_commit")
            if commit:
                out[(suite, key)] = str(commit)
    return out
