"""The known rounds as a table, the form in which metrics and figures take them.

One row per round: suite, version, source kind, publication date (None until known) and the
commit the round's tables were built from (None until built). Metrics and figures read the
round order and dates from such a table, never from the environment or a file; the `rounds`
asset builds it from the catalog, the discovered rounds and the commits in the dataset.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from mlperf_power_dag.rounds import catalog
from mlperf_power_dag.rounds.catalog import Round

COLUMNS = ["suite", "version", "source", "date", "commit"]


def rounds_table(
    rounds: Iterable[Round], commits: Mapping[tuple[str, str], str] | None = None
) -> pd.DataFrame:
    """The table of `rounds`, each suite's rounds oldest first; `commits` maps (suite, version)
    to the commit the round was built from."""
    commits = commits or {}
    rows = sorted(rounds, key=lambda r: (r.suite, r.sort_key))
    return pd.DataFrame(
        [(r.suite, r.version, r.source, r.date, commits.get((r.suite, r.version))) for r in rows],
        columns=COLUMNS,
        dtype=object,
    )


def known_rounds(
    catalog_rounds: Iterable[Round],
    discovered: Iterable[Round],
    commits: Mapping[tuple[str, str], str] | None = None,
) -> pd.DataFrame:
    """The table of every known round: those of the catalog, and the discovered ones the
    catalog does not describe (the catalog wins for a round in both); `commits` as in
    `rounds_table` (a built round that is not known is left out)."""
    known = {(r.suite, r.version): r for r in discovered}
    known.update({(r.suite, r.version): r for r in catalog_rounds})
    return rounds_table(known.values(), commits)


def catalog_table() -> pd.DataFrame:
    """The table of the rounds known in code (`rounds.catalog`)."""
    return rounds_table(r for suite in catalog.SUITES for r in catalog.rounds(suite))
