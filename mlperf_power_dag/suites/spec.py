"""What a suite is to the pipeline: one declaration from which its partitions, assets, jobs,
sensors, CLI choice and reader lookup are generated."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import dagster as dg
import pandera.pandas as pa

from mlperf_power_dag.rounds.sources import SourceFormat
from mlperf_power_dag.schemas import Problems


def partitions_def(suite: str) -> dg.DynamicPartitionsDefinition:
    """The dynamic partition set of a suite's rounds (`<suite>_rounds`, keys such as `v4.1`)."""
    return dg.DynamicPartitionsDefinition(name=f"{suite}_rounds")


def round_job_name(suite: str) -> str:
    """The job that fetches and tabulates one round of a suite."""
    return f"{suite}_round"


@dataclass(frozen=True)
class SuiteSpec:
    """One MLPerf suite.

    `sources` maps a source kind (tree, cmx, summary, ...) to a function returning its
    `SourceFormat` (sparse-checkout patterns and reader), called only when a round of that
    kind is fetched or read, so that a reader's dependencies load on first use.
    """

    name: str
    results: type[pa.DataFrameModel]
    sources: Mapping[str, Callable[[], SourceFormat]]
    problems: type[pa.DataFrameModel] = Problems
    references: tuple[str, ...] = ()  # published tables its numbers are checked against
    figures: tuple[str, ...] = ()  # figure assets that read its results table
    build_cost: int = 3  # lower builds first in `mlperf-power build --jobs N` (heaviest first)
    description: str = ""

    @property
    def partitions(self) -> dg.DynamicPartitionsDefinition:
        """One dynamic partition per round (`<name>_rounds`, keys such as `v4.1`)."""
        return partitions_def(self.name)

    @property
    def raw_key(self) -> str:
        return f"{self.name}_raw"

    @property
    def results_table(self) -> str:
        return f"{self.name}_results"

    @property
    def problems_table(self) -> str:
        return f"{self.name}_problems"

    @property
    def job_name(self) -> str:
        return round_job_name(self.name)

    def tables(self) -> dict[str, type[pa.DataFrameModel]]:
        """The suite's per-round tables and their pandera models."""
        return {self.results_table: self.results, self.problems_table: self.problems}

    def source(self, kind: str) -> SourceFormat:
        """The format of this suite's data of source kind `kind`."""
        if kind not in self.sources:
            raise ValueError(f"no reader for {self.name} results of source kind {kind!r}")
        return self.sources[kind]()


def by_name(specs: Iterable[SuiteSpec]) -> dict[str, SuiteSpec]:
    """Specs keyed by suite name; a name given twice is an error."""
    out: dict[str, SuiteSpec] = {}
    for s in specs:
        if s.name in out:
            raise ValueError(f"suite {s.name!r} declared twice")
        out[s.name] = s
    return out


def table_models(specs: Iterable[SuiteSpec]) -> dict[str, type[pa.DataFrameModel]]:
    """Every per-round table of these suites and its pandera model."""
    out: dict[str, type[pa.DataFrameModel]] = {}
    for s in specs:
        out.update(s.tables())
    return out
