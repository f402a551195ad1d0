"""Efficiency metrics over the tidy inference results: best per round, trends and pairs.

Pure pandas. Every function keeps the provenance of the results it reports (round,
submitter, system, benchmark, scenario, division, source path) and counts, never hides, the
values it cannot use (NaN, inf or non-positive efficiencies).
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from mlperf_power_dag.benchmark_ids import CATEGORIES, DIVISIONS
from mlperf_power_dag.rounds.catalog import version_tuple
from mlperf_power_dag.rounds.table import catalog_table

# Columns that identify the result a number came from.
PROVENANCE = [
    "round",
    "category",
    "division",
    "submitter",
    "system",
    "system_name",
    "benchmark",
    "scenario",
    "source_path",
]

# Benchmarks whose task changed under the same id: (first round of the current task, id
# given to results of earlier rounds). 3D U-Net moved from BraTS 2019 brain tumours to
# KiTS19 kidney tumours in v2.0 (whole CT volumes: ~10x fewer samples/s); the two are not
# comparable.
REVISIONS: dict[str, tuple[str, str]] = {
    "3d-unet-99": ("v2.0", "3d-unet-99-brats19"),
    "3d-unet-99.9": ("v2.0", "3d-unet-99.9-brats19"),
}

# What makes two results "the same hardware" (besides benchmark, scenario, category, division).
HARDWARE_KEY = ["submitter", "accelerator", "accelerators", "host_processor"]


@dataclass
class Metric:
    """A metric table plus how many input values were unusable, and why.

    Unpacks as ``frame, excluded = metric``.
    """

    frame: pd.DataFrame
    excluded: int = 0
    notes: list[str] = field(default_factory=list)

    def __iter__(self) -> Iterator:
        return iter((self.frame, self.excluded))


UNDATED_GAP = pd.Timedelta(days=182)  # axis position of a round with no known date


def round_order(
    suite: str = "inference",
    rounds: pd.DataFrame | None = None,
    present: Iterable[str] = (),
) -> list[str]:
    """Versions of a suite, oldest first: those of the rounds table `rounds` (columns of
    `rounds.table.COLUMNS`; default: the catalog) and those `present` in the data."""
    table = catalog_table() if rounds is None else rounds
    known = table.loc[table["suite"] == suite, "version"].astype(str)
    return sorted({*known, *(str(v) for v in present)}, key=version_tuple)


def round_dates(
    suite: str = "inference",
    rounds: pd.DataFrame | None = None,
    present: Iterable[str] = (),
) -> dict[str, pd.Timestamp]:
    """Publication date of each round of a suite (`rounds` and `present` as in `round_order`);
    a round without a known date is placed half a year after the round before it (its tick
    still says its version)."""
    table = catalog_table() if rounds is None else rounds
    mine = table.loc[table["suite"] == suite]
    known = dict(zip(mine["version"].astype(str), mine["date"], strict=True))
    out: dict[str, pd.Timestamp] = {}
    last: pd.Timestamp | None = None
    for version in round_order(suite, table, present):
        date = known.get(version)
        if date is not None and not pd.isna(date):
            last = pd.Timestamp(date)
        elif last is not None:
            last = last + UNDATED_GAP
        else:
            continue
        out[version] = last
    return out


def round_rank(versions: Iterable[str]) -> list[int]:
    """Sort key of versions: their position in version order."""
    versions = list(versions)
    rank = round_rank_map(versions)
    return [rank[v] for v in versions]


def round_rank_map(versions: Iterable[str]) -> dict[str, int]:
    """Sort key (as in `round_rank`) of each distinct version, keyed by version."""
    distinct = list(dict.fromkeys(versions))
    order = {v: i for i, v in enumerate(sorted(distinct, key=version_tuple))}
    return {v: order[v] for v in distinct}


def sort_rounds(df: pd.DataFrame, column: str = "round") -> pd.DataFrame:
    """Rows sorted by the version order of a round column (stable)."""
    if df.empty:
        return df
    versions = df[column].astype(str)
    key = versions.map(round_rank_map(versions.unique()))
    return df.assign(_rk=key).sort_values("_rk", kind="stable").drop(columns="_rk")


def select(
    results: pd.DataFrame,
    *,
    category: str | None = "datacenter",
    division: str | None = "closed",
    scenario: str | None = "Offline",
    benchmarks: Sequence[str] | None = None,
    valid_only: bool = True,
) -> pd.DataFrame:
    """Rows of InferenceResults in one category/division/scenario; None means any.

    Results of a benchmark before its task changed get their earlier id (see REVISIONS).
    """
    mask = pd.Series(True, index=results.index)
    if valid_only:
        mask &= results["valid"].astype(bool)
    if category is not None:
        mask &= results["category"] == category
    if division is not None:
        mask &= results["division"] == division
    if scenario is not None:
        mask &= results["scenario"] == scenario
    rows = split_revisions(results.loc[mask])  # renames row by row: only the rows kept
    if benchmarks is not None:
        rows = rows.loc[rows["benchmark"].isin(list(benchmarks))]
    return rows.copy()


def split_revisions(results: pd.DataFrame) -> pd.DataFrame:
    """Rename benchmarks of rounds before their task changed to their earlier id."""
    if results.empty:
        return results
    out = None
    rank: dict[str, int] | None = None
    for bench, (since, old_id) in REVISIONS.items():
        hit = results["benchmark"] == bench
        if not hit.any():
            continue
        if rank is None:  # ranks of the distinct rounds only
            sinces = [s for s, _ in REVISIONS.values()]
            rank = round_rank_map([*results["round"].unique(), *sinces])
        early = results["round"].map(rank) < rank[since]
        if (hit & early).any():
            out = results.copy() if out is None else out
            out.loc[hit & early, "benchmark"] = old_id
    return results if out is None else out


def efficiency(results: pd.DataFrame) -> pd.Series:
    """Samples per joule of each row: the reported value, else samples/s divided by watts."""
    spj = pd.to_numeric(results["samples_per_joule"], errors="coerce").astype(float)
    sps = pd.to_numeric(results["samples_per_second"], errors="coerce").astype(float)
    pw = pd.to_numeric(results["power_w"], errors="coerce").astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = sps / pw
    return spj.where(spj.notna(), derived)


def has_power(results: pd.DataFrame) -> pd.Series:
    """True for results measured with power (a power or an efficiency value is present)."""
    return results["power_w"].notna() | results["samples_per_joule"].notna()


def usable(values: pd.Series) -> pd.Series:
    """True where a value is finite and strictly positive."""
    v = pd.to_numeric(values, errors="coerce").astype(float)
    return pd.Series(np.isfinite(v.to_numpy()) & (v.to_numpy() > 0), index=values.index)


def clean(df: pd.DataFrame, column: str) -> Metric:
    """Drop rows whose `column` is NaN, inf or non-positive; report how many were dropped."""
    ok = usable(df[column]) if len(df) else pd.Series(dtype=bool)
    return Metric(df.loc[ok].copy() if len(df) else df.copy(), int((~ok).sum()) if len(df) else 0)


def best_per_group(
    frame: pd.DataFrame,
    value: str,
    by: Sequence[str] = ("benchmark", "round"),
) -> Metric:
    """The row with the largest usable `value` per group, ties broken by submitter and system.

    Works on any table with the `by` columns (inference, tiny, training). The result keeps
    every input column and adds `value` as column ``value``.
    """
    cleaned = clean(frame, value)
    df = cleaned.frame.assign(value=pd.to_numeric(cleaned.frame[value]).astype(float))
    tie = [c for c in ("submitter", "system") if c in df.columns]
    df = df.sort_values(["value", *tie], ascending=[False] + [True] * len(tie), kind="stable")
    best = df.drop_duplicates(list(by), keep="first").reset_index(drop=True)
    return Metric(best, cleaned.excluded)


def best_per_round(
    results: pd.DataFrame,
    metric: str = "efficiency",
    *,
    category: str | None = "datacenter",
    division: str | None = "closed",
    scenario: str = "Offline",
    benchmarks: Sequence[str] | None = None,
) -> Metric:
    """Best result per benchmark and round of InferenceResults, with the result that set it.

    `metric` is "efficiency" (samples/J of the results with power, see `efficiency`) or a
    numeric column such as "samples_per_second" (all results). Only valid results count.
    Rows whose metric is NaN, inf or non-positive are excluded and counted.
    """
    rows = select(
        results, category=category, division=division, scenario=scenario, benchmarks=benchmarks
    )
    if metric == "efficiency":
        rows = rows.loc[has_power(rows)]
        rows = rows.assign(efficiency=efficiency(rows))
    best = best_per_group(rows, metric)
    return Metric(sort_rounds(best.frame).reset_index(drop=True), best.excluded)


def running_max(
    best: pd.DataFrame,
    value: str = "value",
    by: str = "benchmark",
) -> pd.DataFrame:
    """Best-so-far over rounds per group, carrying the provenance of the result that set it.

    Input: one row per (group, round), e.g. `best_per_round(...).frame`. Output: one row
    per input row; ``x_round`` is the round plotted, ``round_best`` that round's own best,
    ``value`` the running maximum, and every other column (round, submitter, system, ...)
    describes the result that holds the maximum.
    """
    if best.empty:
        return best.assign(x_round=pd.Series(dtype=str), round_best=pd.Series(dtype=float))
    columns = list(best.columns)
    columns += [c for c in ("x_round", "round_best") if c not in columns]
    at_value, at_round = best.columns.get_loc(value), best.columns.get_loc("round")
    at_x, at_best = columns.index("x_round"), columns.index("round_best")
    pad = [None] * (len(columns) - len(best.columns))
    out: list[tuple] = []
    for _, grp in sort_rounds(best).groupby(by, sort=True):
        holder: list | None = None
        # the rows' values as objects, as iterrows gives them: the frame below infers the
        # column types from them exactly as it does from a list of row Series
        for row in grp.to_numpy():
            if holder is None or row[at_value] > holder[at_value]:
                holder = [*row, *pad]
            rec = list(holder)
            rec[at_x] = row[at_round]
            rec[at_best] = row[at_value]
            out.append(tuple(rec))
    if not out:
        return pd.DataFrame(out)
    return pd.DataFrame(out, columns=columns)


def normalize_to_first(
    frame: pd.DataFrame,
    value: str = "value",
    by: str = "benchmark",
    round_col: str = "x_round",
) -> pd.DataFrame:
    """Adds ``normalized``: `value` divided by the group's value in its first round."""
    if frame.empty:
        return frame.assign(normalized=pd.Series(dtype=float))
    df = sort_rounds(frame, round_col)
    first = df.groupby(by, sort=False)[value].transform("first")
    return df.assign(normalized=df[value] / first)


def available_systems(
    results: pd.DataFrame,
    version: str,
    *,
    category: str | None = None,
    division: str | None = None,
) -> list[str]:
    """Sorted system ids of a round (optionally one category/division), valid results only."""
    rows = select(results, category=category, division=division, scenario=None)
    return _systems_of(rows, version)


def _systems_of(rows: pd.DataFrame, version: str) -> list[str]:
    return sorted(rows.loc[rows["round"] == version, "system"].unique())


def check_systems(
    results: pd.DataFrame,
    systems: Mapping[str, str],
    *,
    category: str | None = None,
    division: str | None = None,
) -> list[str]:
    """Check chosen (round -> system id) against the results; return the rounds not loaded.

    A round with no rows at all in `results` (not read yet) is returned, not an error. A
    round that is there but lacks the system in the category/division raises ValueError
    naming the round's available systems.
    """
    loaded = set(results["round"].unique())
    absent = []
    rows: pd.DataFrame | None = None  # selected once, for every round checked
    for version, system in systems.items():
        if version not in loaded:
            absent.append(version)
            continue
        if rows is None:
            rows = select(results, category=category, division=division, scenario=None)
        avail = _systems_of(rows, version)
        if system in avail:
            continue
        scope = ", ".join(x for x in (category, division) if x) or "any category"
        if not avail:
            raise ValueError(
                f"system {system!r} not found: round {version} has no valid {scope} results"
            )
        close = difflib.get_close_matches(system, avail, n=3, cutoff=0.5)
        hint = f" Closest: {', '.join(close)}." if close else ""
        raise ValueError(
            f"system {system!r} not found in round {version} ({scope}).{hint} "
            f"Available systems of {version}: {', '.join(avail)}"
        )
    return absent


def same_system_pairs(
    results: pd.DataFrame,
    a: str = "bert-99",
    b: str = "bert-99.9",
    *,
    category: str | None = "datacenter",
    division: str | None = "closed",
    scenario: str = "Offline",
) -> Metric:
    """Results of benchmark `a` and `b` on the same system in the same round, one to one.

    Columns: round, category, division, submitter, system, system_name, scenario,
    efficiency_a, efficiency_b, source_path_a, source_path_b, ratio (b / a), pct_change
    ((b - a) / a, %) and pct_drop (-pct_change). Pairs where either efficiency is unusable
    are excluded and counted.
    """
    rows = select(results, category=category, division=division, scenario=scenario)
    rows = rows.loc[has_power(rows)]
    rows = rows.assign(efficiency=efficiency(rows))
    key = ["round", "category", "division", "submitter", "system", "scenario"]
    left = rows.loc[rows["benchmark"] == a, [*key, "system_name", "efficiency", "source_path"]]
    right = rows.loc[rows["benchmark"] == b, [*key, "efficiency", "source_path"]]
    pairs = left.merge(right, on=key, suffixes=("_a", "_b"), validate="one_to_one")
    ok = usable(pairs["efficiency_a"]) & usable(pairs["efficiency_b"]) if len(pairs) else None
    excluded = int((~ok).sum()) if ok is not None else 0
    pairs = pairs.loc[ok] if ok is not None else pairs
    pairs = pairs.assign(
        ratio=pairs["efficiency_b"] / pairs["efficiency_a"],
    )
    pairs = pairs.assign(pct_change=(pairs["ratio"] - 1.0) * 100.0)
    pairs = pairs.assign(pct_drop=-pairs["pct_change"])
    return Metric(sort_rounds(pairs).reset_index(drop=True), excluded)


def _metric_slice(table: pd.DataFrame | None, category: str, division: str) -> pd.DataFrame:
    """The rows of one category and division of a metric table computed per slice."""
    if table is None or "category" not in table.columns:  # an empty metric table
        return pd.DataFrame()
    mine = (table["category"] == category) & (table["division"] == division)
    return table.loc[mine].reset_index(drop=True)


def accuracy_pairs_slice(
    table: pd.DataFrame | None,
    results: pd.DataFrame,
    a: str = "bert-99",
    b: str = "bert-99.9",
    *,
    category: str | None = "datacenter",
    division: str | None = "closed",
    scenario: str = "Offline",
) -> Metric | None:
    """`same_system_pairs` of `results` read from `table`, the accuracy-pairs metric table of
    the same results (default targets and scenario, every category and division); None when
    the table is not given or does not cover these parameters. The pairs excluded for an
    unusable efficiency are counted from `results`."""
    if table is None or (a, b, scenario) != ("bert-99", "bert-99.9", "Offline"):
        return None
    if category is None or division is None:
        return None
    frame = _metric_slice(table, category, division)
    rows = select(results, category=category, division=division, scenario=scenario)
    rows = rows.loc[has_power(rows)]
    key = ["round", "category", "division", "submitter", "system", "scenario"]
    both = rows.loc[rows["benchmark"] == a, key].merge(rows.loc[rows["benchmark"] == b, key])
    return Metric(frame, len(both) - len(frame))


def _norm_text(s: pd.Series) -> pd.Series:
    return s.fillna("").astype(str).str.strip().str.replace(r"\s+", " ", regex=True).str.lower()


def consecutive_pairs(
    results: pd.DataFrame,
    *,
    category: str | None = "datacenter",
    division: str | None = "closed",
    scenario: str = "Offline",
    benchmarks: Sequence[str] | None = None,
    rounds: pd.DataFrame | None = None,
) -> Metric:
    """Same benchmark on the same hardware in consecutive rounds, one pair per hardware.

    Same hardware: same submitter, accelerator model, accelerator count and host processor
    (compared case- and space-insensitively). When a round has several results of one
    hardware and benchmark (e.g. two software stacks), the most efficient one stands for it,
    so each result takes part in at most one pair per direction and no pair is repeated.
    Columns: benchmark, scenario, category, division, the hardware key, round_before,
    round_after, system_before, system_after, efficiency_before, efficiency_after,
    source_path_before, source_path_after, pct_change. Consecutive: next to each other among
    the inference rounds of the rounds table `rounds` (default: the catalog) and those in
    `results`.
    """
    chosen = _hardware_representatives(
        results, category=category, division=division, scenario=scenario, benchmarks=benchmarks
    )
    reps, excluded, notes = chosen.frame, chosen.excluded, chosen.notes
    if reps.empty:
        return Metric(pd.DataFrame(), excluded, notes)
    hw = ["benchmark", "scenario", "category", "division", *HARDWARE_KEY]
    gkey = ["benchmark", "scenario", "category", "division", "_sub", "_acc", "_n", "_host"]
    order = round_order("inference", rounds, results["round"].astype(str).unique())
    nxt = {order[i]: order[i + 1] for i in range(len(order) - 1)}
    reps = reps.assign(_next=reps["round"].map(nxt))
    keep = [*gkey, "round", "_next", *hw[4:], "system", "efficiency", "source_path"]
    before = reps[keep]
    after = reps[[*gkey, "round", "system", "efficiency", "source_path"]]
    pairs = before.merge(
        after,
        left_on=[*gkey, "_next"],
        right_on=[*gkey, "round"],
        suffixes=("_before", "_after"),
        validate="one_to_one",
    )
    pairs = pairs.assign(
        pct_change=(pairs["efficiency_after"] / pairs["efficiency_before"] - 1.0) * 100.0
    )
    cols = [
        "benchmark",
        "scenario",
        "category",
        "division",
        *HARDWARE_KEY,
        "round_before",
        "round_after",
        "system_before",
        "system_after",
        "efficiency_before",
        "efficiency_after",
        "source_path_before",
        "source_path_after",
        "pct_change",
    ]
    pairs = pairs[cols].sort_values(["benchmark", "system_before"], kind="stable")
    pairs = sort_rounds(pairs, "round_before")
    return Metric(pairs.reset_index(drop=True), excluded, notes)


def _hardware_representatives(
    results: pd.DataFrame,
    *,
    category: str | None,
    division: str | None,
    scenario: str,
    benchmarks: Sequence[str] | None,
) -> Metric:
    """The most efficient usable result per hardware, benchmark and round (the candidates of
    `consecutive_pairs`), the results excluded and a note on the results left out."""
    rows = select(
        results, category=category, division=division, scenario=scenario, benchmarks=benchmarks
    )
    rows = rows.loc[has_power(rows)]
    rows = rows.assign(efficiency=efficiency(rows))
    cleaned = clean(rows, "efficiency")
    df = cleaned.frame
    notes: list[str] = []
    if df.empty:
        return Metric(df, cleaned.excluded, notes)
    df = df.assign(
        _acc=_norm_text(df["accelerator"]),
        _n=df["accelerators"].astype("Int64").astype(str),
        _host=_norm_text(df["host_processor"]),
        _sub=_norm_text(df["submitter"]),
    )
    gkey = ["benchmark", "scenario", "category", "division", "_sub", "_acc", "_n", "_host"]
    df = df.sort_values(["efficiency", "system"], ascending=[False, True], kind="stable")
    reps = df.drop_duplicates([*gkey, "round"], keep="first")
    reduced = len(df) - len(reps)
    if reduced:
        notes.append(
            f"{reduced} results not paired: another result on the same hardware and benchmark "
            "in the same round was more efficient"
        )
    return Metric(reps, cleaned.excluded, notes)


def software_gains_slice(
    table: pd.DataFrame | None,
    results: pd.DataFrame,
    *,
    category: str | None = "datacenter",
    division: str | None = "closed",
    scenario: str = "Offline",
    benchmarks: Sequence[str] | None = None,
) -> Metric | None:
    """`consecutive_pairs` of `results` read from `table`, the software-gains metric table of
    the same results (Offline, every category and division); None when the table is not given
    or does not cover these parameters. The results excluded or left unpaired are counted
    from `results`."""
    if table is None or scenario != "Offline" or category is None or division is None:
        return None
    reps = _hardware_representatives(
        results, category=category, division=division, scenario=scenario, benchmarks=benchmarks
    )
    if reps.frame.empty:
        return Metric(pd.DataFrame(), reps.excluded, reps.notes)
    frame = _metric_slice(table, category, division)
    if benchmarks is not None and len(frame):
        frame = frame.loc[frame["benchmark"].isin(list(benchmarks))].reset_index(drop=True)
    return Metric(frame, reps.excluded, reps.notes)


def system_series(
    results: pd.DataFrame,
    systems: Mapping[str, str],
    *,
    benchmark: str,
    scenario: str = "Offline",
    category: str | None = None,
    division: str | None = "closed",
) -> Metric:
    """The result of one benchmark for a chosen system in each round (round -> system id).

    Raises ValueError if a system is not in its round. A round where the system has no
    valid result of the benchmark/scenario, or no usable efficiency, is left out and noted.
    Columns: every InferenceResults column plus ``efficiency``.
    """
    absent = check_systems(results, systems, category=category, division=division)
    rows = select(
        results, category=category, division=division, scenario=scenario, benchmarks=[benchmark]
    )
    rows = rows.assign(efficiency=efficiency(rows))
    notes = [f"{v}: round not in the results; skipped" for v in absent]
    picked = []
    excluded = 0
    for version, system in systems.items():
        if version in absent:
            continue
        hit = rows[(rows["round"] == version) & (rows["system"] == system)]
        if hit.empty:
            notes.append(f"{version} {system}: no valid {benchmark} {scenario} result")
            continue
        if len(hit) > 1:  # same result listed in two categories: identical numbers
            hit = hit.sort_values("category").head(1)
        if not usable(hit["efficiency"]).iloc[0]:
            excluded += 1
            notes.append(f"{version} {system}: {benchmark} {scenario} has no usable efficiency")
            continue
        picked.append(hit)
    frame = pd.concat(picked, ignore_index=True) if picked else rows.head(0)
    return Metric(sort_rounds(frame).reset_index(drop=True), excluded, notes)


# ------------------------------------------------------------------- tiny, across rounds


def repeated_results(tables: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Rows that repeat an earlier round's result exactly (same submitter, system,
    benchmark, throughput, energy and accuracy), e.g. syntiant's files in v1.0-v1.3.

    `tables` maps round -> TinyResults frame. Returns round, system, benchmark and the round
    first published, one row per repeat.
    """
    cols = [
        "submitter",
        "system",
        "benchmark",
        "throughput_ips",
        "energy_per_inference_uj",
        "accuracy",
    ]
    first: dict[tuple, str] = {}
    out = []
    for rnd in sorted(tables, key=version_tuple):
        df = tables[rnd]
        for rec in df[cols].itertuples(index=False):
            key = tuple(None if pd.isna(v) else v for v in rec)
            if key[3] is None:
                continue
            if key in first:
                out.append(
                    {
                        "round": rnd,
                        "submitter": key[0],
                        "system": key[1],
                        "benchmark": key[2],
                        "first_round": first[key],
                    }
                )
            else:
                first[key] = rnd
    return pd.DataFrame(out, columns=["round", "submitter", "system", "benchmark", "first_round"])


# ------------------------------------------------------------ the cross-round metric tables


def per_slice(results: pd.DataFrame, fn: Callable[..., Metric]) -> Metric:
    """`fn(results, category=..., division=...)` for every category and division present in
    the InferenceResults `results`, concatenated; the exclusions summed."""
    parts, excluded = [], 0
    present = set(zip(results["category"], results["division"], strict=True))
    for category in CATEGORIES:
        for division in DIVISIONS:
            if (category, division) not in present:
                continue
            m = fn(results, category=category, division=division)
            excluded += m.excluded
            if len(m.frame):
                parts.append(m.frame)
    return Metric(pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(), excluded)


def efficiency_trend(best: pd.DataFrame) -> pd.DataFrame:
    """Best-so-far and its ratio to the first round, per category and division, of a
    `best_per_round` table (the columns of the best-efficiency table)."""
    parts = [
        normalize_to_first(running_max(grp))
        for _, grp in best.groupby(["category", "division"], sort=False)
    ]
    return pd.concat(parts, ignore_index=True).rename(
        columns={
            "value": "best_samples_per_joule",
            "x_round": "as_of_round",
            "round_best": "best_so_far",
            "normalized": "best_so_far_normalized",
        }
    )


def _table(results: pd.DataFrame, fn, post=None) -> Metric:
    m = per_slice(results, fn) if len(results) else Metric(pd.DataFrame(), 0)
    frame = post(m.frame) if post is not None and not m.frame.empty else m.frame
    return Metric(frame.reset_index(drop=True), m.excluded)


def best_efficiency_table(results: pd.DataFrame) -> Metric:
    """Per category, division, benchmark and round of InferenceResults: the most efficient
    valid Offline result with power, and the best so far with its ratio to the first round."""
    return _table(results, best_per_round, efficiency_trend)


def accuracy_pairs_table(results: pd.DataFrame) -> Metric:
    """`same_system_pairs` (bert-99 vs bert-99.9, Offline) per category and division."""
    return _table(results, same_system_pairs)


def software_gains_table(results: pd.DataFrame, rounds: pd.DataFrame | None = None) -> Metric:
    """`consecutive_pairs` (Offline, every benchmark) per category and division, rounds
    consecutive in the rounds table `rounds` (default: the catalog)."""
    return _table(results, functools.partial(consecutive_pairs, rounds=rounds))
