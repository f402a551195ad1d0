"""The known MLPerf rounds: where each one lives and how it is read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Source kinds: the MLCommons submission tree, the aggregated CMX results
# (mlcommons/cm4mlperf-results), or a published summary_results.json.
TREE, CMX, SUMMARY = "tree", "cmx", "summary"

CMX_OWNER, CMX_REPO, CMX_REF = "mlcommons", "cm4mlperf-results", "main"


@dataclass(frozen=True)
class Round:
    """One published MLPerf round of one suite."""

    suite: str
    version: str  # partition key, e.g. "v2.1"
    date: dt.date | None  # publication date (None until known)
    source: str = TREE
    owner: str = "mlcommons"
    repo: str = ""
    ref: str = "main"
    has_power: bool = True

    @property
    def repo_name(self) -> str:
        return self.repo or f"{self.suite}_results_{self.version}"

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo_name}"

    @property
    def sort_key(self) -> tuple[int, ...]:
        return version_tuple(self.version)


def version_tuple(version: str) -> tuple[int, ...]:
    """`v4.1` -> (4, 1); raises ValueError on anything else."""
    if not version.startswith("v"):
        raise ValueError(f"not an MLPerf version: {version!r}")
    return tuple(int(p) for p in version[1:].split("."))


def _d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


INFERENCE = [
    Round("inference", "v0.5", _d("2019-11-06"), has_power=False),
    Round("inference", "v0.7", _d("2020-10-21"), has_power=False),
    Round("inference", "v1.0", _d("2021-04-21")),
    Round("inference", "v1.1", _d("2021-09-22")),
    Round("inference", "v2.0", _d("2022-04-06")),
    Round("inference", "v2.1", _d("2022-09-08")),
    Round("inference", "v3.0", _d("2023-04-05")),
    Round("inference", "v3.1", _d("2023-09-11"), source=CMX, repo=CMX_REPO, ref=CMX_REF),
    Round("inference", "v4.0", _d("2024-03-27"), source=CMX, repo=CMX_REPO, ref=CMX_REF),
    Round("inference", "v4.1", _d("2024-08-28")),
]

TINY = [
    Round("tiny", "v0.5", _d("2021-06-16")),
    Round("tiny", "v0.7", _d("2022-04-06")),
    Round("tiny", "v1.0", _d("2022-11-09")),
    Round("tiny", "v1.1", _d("2023-06-28")),
    Round("tiny", "v1.2", _d("2024-04-17")),
    Round("tiny", "v1.3", _d("2025-09-16")),
]

TRAINING = [
    Round("training", "v4.0", _d("2024-06-12")),
    Round("training", "v4.1", _d("2024-11-13")),
]

CATALOG: dict[str, list[Round]] = {"inference": INFERENCE, "tiny": TINY, "training": TRAINING}
SUITES = tuple(CATALOG)  # suites with rounds in the catalog


def rounds(suite: str) -> list[Round]:
    """Catalog rounds of a suite, oldest first."""
    if suite not in CATALOG:
        raise ValueError(f"unknown suite {suite!r}; expected one of {', '.join(SUITES)}")
    return sorted(CATALOG[suite], key=lambda r: r.sort_key)


def get_round(suite: str, version: str) -> Round:
    for r in rounds(suite):
        if r.version == version:
            return r
    known = ", ".join(r.version for r in rounds(suite))
    raise KeyError(f"no {suite} round {version!r} in the catalog (known: {known})")


# Published tables that the raw-trace numbers of tree rounds are checked against, besides the
# CMX results (used for every tree round that CMX covers). v4.1's summary_results.json is on
# a pull-request ref, not on main (upstream either).
SUMMARY_REFERENCES: dict[str, Round] = {
    "v4.1": Round("inference", "v4.1", _d("2024-08-28"), source=SUMMARY, ref="refs/pull/2/head"),
}
