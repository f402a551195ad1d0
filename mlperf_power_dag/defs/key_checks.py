"""The `keys_and_provenance` check of a cross-round table: one row per key, and the columns that
say where each row comes from filled on every row (a warning, not blocking)."""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import pandas as pd

from mlperf_power_dag import table_checks


def keys_and_provenance(
    asset: dg.AssetsDefinition, keys: Sequence[str], sources: Sequence[str]
) -> dg.AssetChecksDefinition:
    """The check on `asset` that its rows are unique by `keys` and name `sources`."""
    keys, sources = tuple(keys), tuple(sources)

    @dg.asset_check(
        asset=asset,
        name="keys_and_provenance",
        description=f"One row per ({', '.join(keys)}); {', '.join(sources)} on every row.",
    )
    def _check(frame: pd.DataFrame) -> dg.AssetCheckResult:
        outcome = table_checks.keys_and_sources(frame, keys, sources)
        return dg.AssetCheckResult(
            passed=outcome.passed, severity=dg.AssetCheckSeverity.WARN, metadata=outcome.metadata
        )

    return _check
