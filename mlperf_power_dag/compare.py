"""Where an unpublished result lands among the published ones, by energy efficiency.

Pure pandas over InferenceResults frames. For each local result with a usable efficiency
(samples per joule), among the valid published results with power of the same benchmark,
scenario, category and division, in the latest round that has any and over all rounds: its
rank, its percentile, the best published result it beats and the one just above it, and the
efficiency ratio to each.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from mlperf_power_dag import metrics

GROUP = ["benchmark", "scenario", "category", "division"]
LATEST, ALL = "latest", "all"
_OTHER = ["round", "submitter", "system", "source_path", "efficiency"]
COLUMNS = [
    "local",
    *GROUP,
    "submitter",
    "system",
    "source_path",
    "efficiency",
    "scope",
    "scope_rounds",
    "published",
    "rank",
    "percentile",
    *(f"beats_{c}" for c in _OTHER),
    "beats_ratio",
    *(f"trails_{c}" for c in _OTHER),
    "trails_ratio",
]


def usable_results(results: pd.DataFrame) -> pd.DataFrame:
    """Valid rows with power and a finite, positive efficiency, in column `efficiency`."""
    if results.empty:
        return results.assign(efficiency=pd.Series(dtype=float))
    rows = results.loc[results["valid"].astype(bool) & metrics.has_power(results)]
    rows = rows.assign(efficiency=metrics.efficiency(rows))
    return rows.loc[metrics.usable(rows["efficiency"])]


def _latest(rows: pd.DataFrame, order: Sequence[str]) -> str | None:
    rank = {v: i for i, v in enumerate(order)}
    present = [v for v in rows["round"].astype(str).unique() if v in rank]
    return max(present, key=rank.__getitem__) if present else None


def _place(value: float, pool: pd.DataFrame) -> dict[str, object]:
    eff = pool["efficiency"].to_numpy(dtype=float)
    above, below = pool.loc[eff > value], pool.loc[eff < value]
    out: dict[str, object] = {
        "published": len(pool),
        "rank": int((eff > value).sum()) + 1,
        "percentile": 100.0 * float((eff < value).sum()) / len(pool) if len(pool) else np.nan,
    }
    # The best result it beats, and the weakest of those it trails (the one just above it).
    for side, rows, pick in (("beats", below, "idxmax"), ("trails", above, "idxmin")):
        if rows.empty:
            out.update({f"{side}_{c}": None for c in _OTHER})
            out[f"{side}_ratio"] = np.nan
            continue
        hit = rows.loc[getattr(rows["efficiency"], pick)()]
        out.update({f"{side}_{c}": hit[c] for c in _OTHER})
        ratio = value / hit["efficiency"] if side == "beats" else hit["efficiency"] / value
        out[f"{side}_ratio"] = float(ratio)
    return out


def compare_local(
    local: pd.DataFrame, published: pd.DataFrame, order: Sequence[str], name: str
) -> pd.DataFrame:
    """One row per local result and scope (`latest`, `all`) with its place among `published`.

    `order` lists the published rounds oldest first (it decides which round is the latest);
    `name` is the local submission's name. Local results without a usable efficiency are left
    out; a group with no published result gets rank 1 and no percentile.
    """
    mine = usable_results(local)
    pool = usable_results(published)
    groups = {k: g for k, g in pool.groupby(GROUP, sort=False)} if len(pool) else {}
    rows: list[dict[str, object]] = []
    for r in mine.itertuples(index=False):
        key = tuple(getattr(r, c) for c in GROUP)
        same = groups.get(key, pool.iloc[0:0])
        latest = _latest(same, order)
        scopes = (
            (LATEST, latest, same.loc[same["round"] == latest] if latest else same),
            (ALL, ",".join(v for v in order if v in set(same["round"])), same),
        )
        for scope, rounds, subset in scopes:
            base = {
                "local": name,
                **dict(zip(GROUP, key, strict=True)),
                "submitter": r.submitter,
                "system": r.system,
                "source_path": r.source_path,
                "efficiency": float(r.efficiency),
                "scope": scope,
                "scope_rounds": rounds or "",
            }
            rows.append(base | _place(float(r.efficiency), subset))
    return pd.DataFrame(rows, columns=COLUMNS)
