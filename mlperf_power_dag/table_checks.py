"""Checks every round table must pass: unique result keys, provenance on every row, no rows
lost without a reason, a bounded share of skipped results. Pure functions over frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pandera.pandas as pa

PROVENANCE = ("source_repo", "source_path", "source_commit")
MAX_SKIPPED_SHARE = 0.5  # more skipped than kept results means the reader no longer fits


@dataclass(frozen=True)
class Check:
    """One check's outcome: name, passed, what it saw."""

    name: str
    passed: bool
    description: str
    metadata: dict[str, Any] = field(default_factory=dict)


def unique_keys(results: pd.DataFrame, model: type[pa.DataFrameModel]) -> Check:
    """No two rows share the model's unique key."""
    keys = list(model.Config.unique or [])  # type: ignore[attr-defined]
    dupes = int(results.duplicated(keys).sum()) if keys and len(results) else 0
    return Check(
        "unique_result_keys",
        dupes == 0,
        f"one row per ({', '.join(keys)})",
        {"duplicated_rows": dupes},
    )


def provenance(results: pd.DataFrame) -> Check:
    """Every row names the repository, path and commit it came from."""
    missing = {c: int(results[c].isna().sum() + (results[c] == "").sum()) for c in PROVENANCE}
    return Check(
        "provenance_complete",
        sum(missing.values()) == 0,
        "source_repo, source_path and source_commit on every row",
        {f"missing_{c}": n for c, n in missing.items()},
    )


def skipped_share(results: pd.DataFrame, problems: pd.DataFrame) -> Check:
    """Skipped results stay a minority of the round."""
    skipped = int((problems["severity"] == "skipped").sum()) if len(problems) else 0
    total = len(results) + skipped
    share = skipped / total if total else 0.0
    return Check(
        "skipped_share",
        share <= MAX_SKIPPED_SHARE,
        f"at most {MAX_SKIPPED_SHARE:.0%} of the round's results skipped",
        {"skipped": skipped, "kept": len(results), "share": round(share, 4)},
    )


def row_count(rows: int, previous: dict[str, Any] | None, info: dict[str, Any]) -> Check:
    """Not fewer rows than the last build of the same round, unless its commit or the reader
    code changed (`previous`: that build's metadata, None if there was none)."""
    meta: dict[str, Any] = {"rows": rows}
    if not previous or previous.get("rows") is None:
        return Check("row_count_kept", True, "no rows lost between builds", meta)
    before = int(previous["rows"])
    meta["previous_rows"] = before
    changed = [k for k in ("source_commit", "code_version") if previous.get(k) != info.get(k)]
    if changed:
        meta["reason"] = f"{' and '.join(changed)} changed"
    passed = rows >= before or bool(changed)
    return Check("row_count_kept", passed, "no rows lost between builds", meta)


def keys_and_sources(frame: pd.DataFrame, keys: Sequence[str], sources: Sequence[str]) -> Check:
    """No two rows share `keys`, and every row has its `sources` (an empty table passes)."""
    if frame.empty:
        return Check("keys_and_provenance", True, "empty table", {"rows": 0})
    absent = [c for c in [*keys, *sources] if c not in frame.columns]
    if absent:
        return Check("keys_and_provenance", False, "columns missing", {"missing": absent})
    dupes = int(frame.duplicated(list(keys)).sum())
    missing = {c: int(frame[c].isna().sum() + (frame[c] == "").sum()) for c in sources}
    return Check(
        "keys_and_provenance",
        dupes == 0 and sum(missing.values()) == 0,
        f"one row per ({', '.join(keys)}); {', '.join(sources)} on every row",
        {
            "rows": len(frame),
            "duplicated_rows": dupes,
            **{f"missing_{c}": n for c, n in missing.items()},
        },
    )


def problems_of_round(problems: pd.DataFrame, suite: str, version: str) -> Check:
    """Every problem names its suite and round (those of the partition) and a path."""
    wrong = int(((problems["suite"] != suite) | (problems["round"] != version)).sum())
    no_path = int((problems["source_path"].isna() | (problems["source_path"] == "")).sum())
    return Check(
        "problems_of_round",
        wrong == 0 and no_path == 0,
        "every problem names this suite and round, and a path",
        {"rows": len(problems), "other_round_or_suite": wrong, "without_path": no_path},
    )
