"""What a reader of one round returns: its validated rows and the problems it met."""

from __future__ import annotations

from dataclasses import dataclass, field

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


def finish(rows: list[dict], model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """Rows -> a frame with the model's columns in order, coerced and validated."""
    df = pd.DataFrame(rows, columns=columns(model))
    return model.validate(df)
