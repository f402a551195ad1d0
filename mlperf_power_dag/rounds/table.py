"""The known rounds as a table, the form in which metrics and figures take them.

One row per round: suite, version, source kind and publication date (None until known).
Metrics and figures read the round order and dates from such a table, never from the
environment or a file; the Dagster wiring builds it from the catalog and the discovered rounds.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from mlperf_power_dag.rounds import catalog
from mlperf_power_dag.rounds.catalog import Round

COLUMNS = ["suite", "version", "source", "date"]


def rounds_table(rounds: Iterable[Round]) -> pd.DataFrame:
    """The table of `rounds`, each suite's rounds oldest first."""
    rows = sorted(rounds, key=lambda r: (r.suite, r.sort_key))
    return pd.DataFrame(
        [(r.suite, r.version, r.source, r.date) for r in rows], columns=COLUMNS, dtype=object
    )


def catalog_table() -> pd.DataFrame:
    """The table of the rounds known in code (`rounds.catalog`)."""
    return rounds_table(r for suite in catalog.SUITES for r in catalog.rounds(suite))
