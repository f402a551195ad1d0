"""What a reader of one round returns: its validated rows and the problems it met."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from mlperf_power_dag.schemas import Problems, columns


@dataclass
class ProblemLog:
    """Collects skipped and flagged results of one round, in the order they were met."""

    suite: str
    round: str
    rows: list[dict[str, str]] = field(default_factory=list)

    def skip(self, source_path: str, kind: str, message: str) -> None:
        """Record a result or file left out of the table."""
        self._add(source_path, kind, message, "skipped")

    def flag(self, source_path: str, kind: str, message: str) -> None:
        """Record a result kept in the table but worth a look (e.g. unknown benchmark)."""
        self._add(source_path, kind, message, "flagged")

    def _add(self, source_path: str, kind: str, message: str, severity: str) -> None:
        self.rows.append(
            {
                "suite": self.suite,
                "round": self.round,
                "source_path": str(source_path),
                "kind": kind,
                "severity": severity,
                "message": message,
            }
        )

    def frame(self) -> pd.DataFrame:
        df = pd.DataFrame(self.rows, columns=columns(Problems))
        return Problems.validate(df)

    def counts(self) -> dict[str, int]:
        """Problems per kind, for logs and metadata."""
        out: dict[str, int] = {}
        for r in self.rows:
            out[r["kind"]] = out.get(r["kind"], 0) + 1
        return dict(sorted(out.items()))


@dataclass
class RoundTable:
    """A round read into one table, with the problems met on the way."""

    results: pd.DataFrame
    problems: pd.DataFrame


def finish(
    rows: list[dict], model: type[pa.DataFrameModel], problems: ProblemLog | None = None
) -> pd.DataFrame:
    """Rows -> a frame with the model's columns in order, coerced and validated.

    Without `problems`, any row that fails the model raises pandera's error. With it, such
    rows are left out and recorded as skipped (`invalid_value`), and non-finite values of
    float columns (which the model's range checks let through) become null and are flagged
    (`non_finite_value`); only a failure that no row explains still raises.
    """
    df = pd.DataFrame(rows, columns=columns(model))
    if problems is None:
        return model.validate(df)
    dropped = False
    while True:  # each pass drops at least one row, or returns, or raises
        try:
            out = model.validate(df, lazy=True)
        except pa.errors.SchemaErrors as e:
            bad = _failing_rows(df, model, e)
            if not bad:
                raise
            for i, why in bad.items():
                path = df.at[i, "source_path"] if "source_path" in df else "."
                problems.skip(str(path), "invalid_value", f"{path}: {why}; result skipped")
            df = df.drop(index=list(bad))
            dropped = True
            continue
        if dropped:
            out = out.reset_index(drop=True)
        return _null_non_finite(out, problems)


def _failing_rows(
    df: pd.DataFrame, model: type[pa.DataFrameModel], err: pa.errors.SchemaErrors
) -> dict[int, str]:
    """Index label -> short reason for every row the model rejects (values never quoted)."""
    bad: dict[int, str] = {}
    cases = err.failure_cases
    unplaced = False
    for rec in cases.itertuples(index=False):
        idx = getattr(rec, "index", None)
        if idx is None or pd.isna(idx) or idx not in df.index:
            unplaced = True
            continue
        if "uniqueness" in str(rec.check):
            what = "same table key as another result"
        else:
            what = f"{rec.column} fails {rec.check}" if rec.column else f"fails {rec.check}"
        bad.setdefault(idx, what)
    if unplaced and not bad:  # only checks that name no row: search for the rows
        bad = {i: why for i, why in _search(df, model, list(df.index))}
    return bad


def _search(df: pd.DataFrame, model: type[pa.DataFrameModel], index: list) -> list[tuple[int, str]]:
    """Rows of `index` that fail the model on their own, found by bisection."""
    try:
        model.validate(df.loc[index], lazy=True)
        return []
    except pa.errors.SchemaErrors as e:
        if len(index) > 1:
            mid = len(index) // 2
            return _search(df, model, index[:mid]) + _search(df, model, index[mid:])
        cases = e.failure_cases
        pairs = zip(cases.column, cases.check, strict=True)
        what = ", ".join(sorted({f"{c} fails {k}" for c, k in pairs}))
        return [(index[0], what or "invalid")]


def _null_non_finite(df: pd.DataFrame, problems: ProblemLog) -> pd.DataFrame:
    """Null +-inf in float columns, one flag per value."""
    floats = [c for c in df.columns if pd.api.types.is_float_dtype(df[c])]
    for c in floats:
        inf = np.isinf(df[c].to_numpy(dtype=float, na_value=np.nan))
        for i in np.flatnonzero(inf):
            path = df["source_path"].iat[i] if "source_path" in df else "."
            problems.flag(str(path), "non_finite_value", f"{path}: {c} is not finite; left empty")
        if inf.any():
            df.loc[inf, c] = np.nan
    return df
