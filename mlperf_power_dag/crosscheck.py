"""Cross-check two InferenceResults tables of the same round, result by result.

Typical use: power recomputed from the raw traces of the submission tree (primary) against
a published table (reference: CMX or summary_results.json). Results are matched one to one
by round, category and the result folder of their ``source_path``,
``<division>/<submitter>/results/<system>/<benchmark>/<scenario>`` (compared
case-insensitively; the CMX ``Location`` and the summary ``Location`` name that very folder).
Only results with a power value on at least one side are compared.

Power metric: ``power_w`` for Offline/Server, ``energy_per_query_j`` for SingleStream/
MultiStream. Performance metric: ``performance`` when both sides state it in the same unit,
else ``samples_per_second``. Relative differences are (primary - reference) / reference.

Disagreement classes (column ``class``), one per compared result:

==========================  ==================================================================
class                       meaning
==========================  ==================================================================
agree                       both power values within the tolerance (default 1%), and the
                            performance values too (or performance is not comparable)
performance_differs         power agrees, performance differs by more than the tolerance
power_differs               both sides have power and they differ by more than the tolerance
                            (and not by a factor 8)
factor_8                    power differs by a factor 8 (within the tolerance): the
                            MultiStream-from-SingleStream samples-per-query rule applied on
                            one side only
no_power_in_primary         the result is in both tables, only the reference has power (e.g.
                            no power trace in the submission tree: "no_trace")
no_power_in_reference       the result is in both tables, only the primary has power
missing_in_reference        a primary power result the reference lacks (e.g. CMX lacks the
                            v2.0 closed-power image classification and object detection)
missing_in_primary          a reference power result the primary lacks (e.g. not in the
                            mirrored tree, or skipped by the tree reader)
category_differs            the result folder is in both tables, but this category only in
                            one (a system of both categories listed under one of them by the
                            other source)
ambiguous_key               several results of one table share a folder key; not matched
==========================  ==================================================================

When problem tables are given, the kinds recorded for each result's ``source_path`` are listed
in ``primary_problems`` / ``reference_problems`` (e.g. ``negative_samples`` or
``missing_trace`` from the tree reader), the documented cause of a disagreement.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

CLASSES = (
    "agree",
    "performance_differs",
    "power_differs",
    "factor_8",
    "no_power_in_primary",
    "no_power_in_reference",
    "missing_in_reference",
    "missing_in_primary",
    "category_differs",
    "ambiguous_key",
)

_FOLDER_RE = re.compile(
    r"(?:^|/)([^/]+)/([^/]+)/results/([^/]+)/([^/]+)/"
    r"(offline|server|singlestream|multistream)(?:/|$)",
    re.IGNORECASE,
)

_ID = ["round", "category", "division", "submitter", "system", "benchmark", "scenario"]
_FOLDER = ("division", "submitter", "system", "benchmark", "scenario")


def result_key(source_path: str, row: dict[str, Any] | None = None) -> str:
    """The case-folded ``<division>/<submitter>/results/<system>/<benchmark>/<scenario>`` of a
    result folder path; from the row's columns when the path has another form."""
    m = _FOLDER_RE.search(str(source_path).replace("\\", "/"))
    if m:
        return _join_key(m.groups())
    if row is not None:
        return _join_key(tuple(row[c] for c in _FOLDER))
    return str(source_path).lower()


def _join_key(folder: tuple) -> str:
    division, submitter, system, benchmark, scenario = folder
    parts = (division, submitter, "results", system, benchmark, scenario)
    return "/".join(str(x) for x in parts).lower()


def _result_keys(df: pd.DataFrame) -> list[str]:
    """`result_key` of every row of a results table."""
    out = []
    for path, *folder in zip(df["source_path"], *(df[c] for c in _FOLDER), strict=True):
        m = _FOLDER_RE.search(str(path).replace("\\", "/"))
        out.append(_join_key(m.groups() if m else tuple(folder)))
    return out


def _problem_kinds(problems: pd.DataFrame) -> pd.Series:
    """Per source path: its distinct problem kinds, sorted, comma-separated."""
    kinds: dict[Any, set] = {}
    for path, kind in zip(problems["source_path"], problems["kind"], strict=True):
        if not pd.isna(path):  # as groupby: rows without a path belong to no group
            kinds.setdefault(path, set()).add(kind)
    return pd.Series({p: ",".join(sorted(k)) for p, k in kinds.items()}, dtype=object)


def _power(df: pd.DataFrame) -> pd.Series:
    ss_ms = df["scenario"].isin(["SingleStream", "MultiStream"])
    return df["energy_per_query_j"].where(ss_ms, df["power_w"]).astype(float)


def _prepare(df: pd.DataFrame, problems: pd.DataFrame | None) -> pd.DataFrame:
    out = df.copy()
    out["key"] = _result_keys(out)
    out["power"] = _power(out)
    if problems is not None and len(problems):
        out["problems"] = out["source_path"].map(_problem_kinds(problems)).fillna("")
    else:
        out["problems"] = ""
    return out


def _rel(a: pd.Series, b: pd.Series) -> pd.Series:
    a, b = a.astype(float), b.astype(float)
    return ((a - b) / b).where(b.notna() & (b != 0))


def compare(
    primary: pd.DataFrame,
    reference: pd.DataFrame,
    tol: float = 0.01,
    primary_problems: pd.DataFrame | None = None,
    reference_problems: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """One row per power result of either table: the matched values, their relative
    differences and a disagreement class (see the module docstring)."""
    p = _prepare(primary, primary_problems)
    r = _prepare(reference, reference_problems)
    p = p[p["power"].notna() | p["key"].isin(r.loc[r["power"].notna(), "key"])]
    r = r[r["power"].notna() | r["key"].isin(p.loc[p["power"].notna(), "key"])]

    mkey = ["round", "category", "key"]
    p_dup = p.duplicated(mkey, keep=False)
    r_dup = r.duplicated(mkey, keep=False)
    cols = [*_ID, "key", "source_path", "power", "performance", "performance_unit",
            "samples_per_second", "problems"]  # fmt: skip
    merged = pd.merge(
        p.loc[~p_dup, cols],
        r.loc[~r_dup, cols],
        on=mkey,
        how="outer",
        suffixes=("_p", "_r"),
        validate="one_to_one",
        indicator=True,
    )
    for c in _ID:
        if c in mkey:
            continue
        merged[c] = merged[f"{c}_p"].combine_first(merged[f"{c}_r"])
    same_unit = merged["performance_unit_p"] == merged["performance_unit_r"]
    perf_p = merged["performance_p"].where(same_unit, merged["samples_per_second_p"])
    perf_r = merged["performance_r"].where(same_unit, merged["samples_per_second_r"])
    out = pd.DataFrame(
        {
            **{c: merged[c] for c in _ID},
            "key": merged["key"],
            "primary_path": merged["source_path_p"],
            "reference_path": merged["source_path_r"],
            "metric": np.where(
                merged["scenario"].isin(["SingleStream", "MultiStream"]),
                "energy_per_query_j",
                "power_w",
            ),
            "primary_power": merged["power_p"].astype(float),
            "reference_power": merged["power_r"].astype(float),
            "power_rel_diff": _rel(merged["power_p"], merged["power_r"]),
            "primary_performance": perf_p.astype(float),
            "reference_performance": perf_r.astype(float),
            "performance_rel_diff": _rel(perf_p, perf_r),
            "primary_problems": merged["problems_p"].fillna(""),
            "reference_problems": merged["problems_r"].fillna(""),
        }
    )
    out["class"] = _classify(out, merged["_merge"], tol)
    # Unmatched only in this category: the folder itself is matched in another one.
    p_keys = set(zip(p.loc[~p_dup, "round"], p.loc[~p_dup, "key"], strict=True))
    r_keys = set(zip(r.loc[~r_dup, "round"], r.loc[~r_dup, "key"], strict=True))
    rk = list(zip(out["round"], out["key"], strict=True))
    other = [
        (c == "missing_in_reference" and k in r_keys) or (c == "missing_in_primary" and k in p_keys)
        for c, k in zip(out["class"], rk, strict=True)
    ]
    out.loc[other, "class"] = "category_differs"

    amb = pd.concat(
        [_ambiguous(p[p_dup], "primary"), _ambiguous(r[r_dup], "reference")], ignore_index=True
    )
    if len(amb):
        out = pd.concat([out, amb.reindex(columns=out.columns)], ignore_index=True)
        out.loc[out["class"].isna(), "class"] = "ambiguous_key"
    return out.sort_values([*_ID, "key"], ignore_index=True)


def _ambiguous(df: pd.DataFrame, side: str) -> pd.DataFrame:
    out = df[[*_ID, "key"]].copy()
    out[f"{side}_path"] = df["source_path"]
    out[f"{side}_power"] = df["power"]
    return out


def _classify(out: pd.DataFrame, merge: pd.Series, tol: float) -> pd.Series:
    has_p, has_r = out["primary_power"].notna(), out["reference_power"].notna()
    both = merge.eq("both").to_numpy()
    power_ok = out["power_rel_diff"].abs() <= tol
    perf_bad = out["performance_rel_diff"].abs() > tol
    ratio = out["primary_power"] / out["reference_power"]
    eight = ((ratio / 8 - 1).abs() <= tol) | ((ratio * 8 - 1).abs() <= tol)
    conditions = [
        merge.eq("left_only").to_numpy(),
        merge.eq("right_only").to_numpy(),
        both & ~has_p.to_numpy(),
        both & ~has_r.to_numpy(),
        (power_ok & ~perf_bad).to_numpy(),
        (power_ok & perf_bad).to_numpy(),
        eight.to_numpy(),
    ]
    choices = [
        "missing_in_reference",
        "missing_in_primary",
        "no_power_in_primary",
        "no_power_in_reference",
        "agree",
        "performance_differs",
        "factor_8",
    ]
    return pd.Series(np.select(conditions, choices, "power_differs"), index=out.index)


def summarize(diff: pd.DataFrame) -> dict[str, Any]:
    """Headline numbers of a `compare` table: results with power on both sides ("matched"),
    how many agree within 1% (and within 0.1%), unmatched counts per side and the count of
    every disagreement class."""
    matched = diff["primary_power"].notna() & diff["reference_power"].notna()
    matched &= diff["class"] != "ambiguous_key"
    rel = diff.loc[matched, "power_rel_diff"].abs()
    perf = diff.loc[matched, "performance_rel_diff"].abs().dropna()
    n = int(matched.sum())
    within = int((rel <= 0.01).sum())
    by_class = diff["class"].value_counts()
    return {
        "results": len(diff),
        "matched": n,
        "within_1pct": within,
        "share_within_1pct": within / n if n else float("nan"),
        "within_0_1pct": int((rel <= 0.001).sum()),
        "max_abs_power_rel_diff": float(rel.max()) if n else float("nan"),
        "performance_compared": len(perf),
        "performance_within_1pct": int((perf <= 0.01).sum()),
        "only_primary": int(by_class.get("missing_in_reference", 0)),
        "only_reference": int(by_class.get("missing_in_primary", 0)),
        "by_class": {c: int(by_class[c]) for c in CLASSES if c in by_class},
    }
