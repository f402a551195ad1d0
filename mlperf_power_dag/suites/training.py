"""MLPerf Training: MLLOG results and power logs, scored with mlperf-logging."""

from __future__ import annotations

from mlperf_power_dag.asset_inputs import figures_using
from mlperf_power_dag.rounds.catalog import TREE
from mlperf_power_dag.rounds.sources import SourceFormat
from mlperf_power_dag.schemas import TrainingResults
from mlperf_power_dag.suites.spec import SuiteSpec


def _tree() -> SourceFormat:
    from mlperf_power_dag.readers import training as m

    return SourceFormat(tuple(m.SPARSE_PATTERNS), m.read_training_round)


TRAINING = SuiteSpec(
    name="training",
    results=TrainingResults,
    sources={TREE: _tree},
    figures=figures_using("training"),
    build_cost=0,
    description="MLPerf Training, energy to train from the node and switch power logs.",
)
