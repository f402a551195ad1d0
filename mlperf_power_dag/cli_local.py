"""`mlperf-power add-local | remove-local | compare`: local submission trees beside the
published results."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import pandas as pd

from mlperf_power_dag import local, settings
from mlperf_power_dag.local import LocalError, LocalSubmission
from mlperf_power_dag.rounds import catalog, registry

log = logging.getLogger("mlperf-power")

_VERSION_LIKE = r"^v\d"


def default_rules(suite: str) -> str:
    """The newest catalog or discovered round of `suite` read from a submission tree."""
    trees = [r.version for r in registry.all_rounds(suite) if r.source == catalog.TREE]
    if not trees:
        raise LocalError(f"no {suite} round is read from a submission tree")
    return trees[-1]


def register(path: Path, name: str, suite: str, rules: str | None) -> LocalSubmission:
    """Check and record a local submission (re-adding the same name and folder is allowed)."""
    local.check_name(name)
    if pd.Series([name]).str.match(_VERSION_LIKE).iloc[0] or name in {
        r.version for s in catalog.SUITES for r in registry.all_rounds(s)
    }:
        raise LocalError(f"name {name!r} looks like a published round; choose another")
    root = local.check_tree(path, suite)
    if rules is not None:
        if rules not in {r.version for r in registry.all_rounds(suite)}:
            raise LocalError(f"--rules {rules}: not a known {suite} round")
    home = settings.home()
    subs = local.load(home)
    old = subs.get(name)
    if old is not None and (old.path != str(root) or old.suite != suite):
        raise LocalError(
            f"name {name!r} is taken by {old.suite} tree {old.path}; "
            f"mlperf-power remove-local {name} first"
        )
    sub = LocalSubmission(name, suite, str(root), rules or default_rules(suite))
    subs[name] = sub
    local.save(home, subs)
    return sub


def forget(name: str) -> LocalSubmission:
    """Remove a local submission from the registry and its tables and figures from the home."""
    home = settings.home()
    subs = local.load(home)
    sub = subs.pop(name, None)
    if sub is None:
        raise LocalError(f"no local submission named {name!r}")
    base = settings.local_dir()
    for table in (f"{sub.suite}_results", f"{sub.suite}_problems"):
        shutil.rmtree(base / table / f"round={sub.key}", ignore_errors=True)
    for f in (base / "figures").glob(f"compare-{name}.*"):
        f.unlink()
    local.save(home, subs)
    return sub


def comparison_table(name: str) -> pd.DataFrame:
    """The comparison rows of one local submission, as last materialized."""
    path = settings.local_dir() / "local_comparison.parquet"
    if not path.exists():
        return pd.DataFrame()
    frame = pd.read_parquet(path)
    return frame.loc[frame["local"] == name] if len(frame) else frame


def format_comparison(frame: pd.DataFrame) -> str:
    """The comparison as a printed table: one line per result and scope."""
    if frame.empty:
        return "no local result with power to compare"

    def neighbour(side: str, r: pd.Series) -> str:
        if r[f"{side}_system"] is None or pd.isna(r[f"{side}_ratio"]):
            return "-"
        return f"{r[f'{side}_system']} ({r[f'{side}_round']}) x{r[f'{side}_ratio']:.3f}"

    rows = [
        {
            "benchmark": r["benchmark"],
            "scenario": r["scenario"],
            "category": r["category"],
            "division": r["division"],
            "samples/J": f"{r['efficiency']:.4g}",
            "scope": r["scope"] if r["scope"] == "all" else f"latest {r['scope_rounds']}",
            "rank": f"{int(r['rank'])}/{int(r['published']) + 1}",
            "percentile": "-" if pd.isna(r["percentile"]) else f"{r['percentile']:.0f}",
            "beats": neighbour("beats", r),
            "trails": neighbour("trails", r),
        }
        for _, r in frame.iterrows()
    ]
    return pd.DataFrame(rows).to_string(index=False)
