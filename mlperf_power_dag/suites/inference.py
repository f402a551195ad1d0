"""MLPerf Inference: submission trees (v0.5-v3.0, v4.1), CMX tables (v3.1, v4.0) and
published summary_results.json (later rounds)."""

from __future__ import annotations

from pathlib import Path

from mlperf_power_dag.asset_inputs import figures_using
from mlperf_power_dag.rounds.catalog import CMX, SUMMARY, TREE
from mlperf_power_dag.rounds.sources import SourceFormat
from mlperf_power_dag.schemas import InferenceResults
from mlperf_power_dag.suites.spec import SuiteSpec


def _tree() -> SourceFormat:
    from mlperf_power_dag.readers import inference_tree as m

    return SourceFormat(tuple(m.SPARSE_PATTERNS), m.read_tree_round)


def _cmx() -> SourceFormat:
    from mlperf_power_dag.readers import inference_cmx as m

    return SourceFormat(tuple(m.SPARSE_PATTERNS), m.read_cmx_round)


def _summary() -> SourceFormat:
    from mlperf_power_dag.readers import inference_summary as m

    def read(root: Path, version: str, source_repo: str, commit: str, log=None):
        return m.read_summary_round(
            root / "summary_results.json", version, source_repo, commit, log=log
        )

    return SourceFormat(tuple(m.SUMMARY_PATTERNS), read)


INFERENCE = SuiteSpec(
    name="inference",
    results=InferenceResults,
    sources={TREE: _tree, CMX: _cmx, SUMMARY: _summary},
    references=(CMX, SUMMARY),
    figures=figures_using("inference"),
    build_cost=1,
    description="MLPerf Inference (datacenter and edge), power from the raw traces.",
)
