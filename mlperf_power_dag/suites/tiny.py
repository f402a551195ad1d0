"""MLPerf Tiny: the runner's results.txt / results.json in the submission trees."""

from __future__ import annotations

from mlperf_power_dag.asset_inputs import figures_using
from mlperf_power_dag.rounds.catalog import CMX, TREE
from mlperf_power_dag.rounds.sources import SourceFormat
from mlperf_power_dag.schemas import TinyResults
from mlperf_power_dag.suites.spec import SuiteSpec


def _tree() -> SourceFormat:
    from mlperf_power_dag.readers import tiny as m

    return SourceFormat(tuple(m.SPARSE_PATTERNS), m.read_tiny_round)


TINY = SuiteSpec(
    name="tiny",
    results=TinyResults,
    sources={TREE: _tree},
    references=(CMX, "summary.csv"),  # tiny_crosscheck: CMX tiny results, v1.2 summary.csv
    figures=figures_using("tiny"),
    build_cost=2,
    description="MLPerf Tiny (microcontrollers), energy from the EnergyRunner.",
)
