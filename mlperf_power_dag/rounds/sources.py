"""Which files a round's source kind needs and which reader turns them into a table."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlperf_power_dag.rounds.catalog import CMX, SUMMARY, TREE
from mlperf_power_dag.tables import RoundTable

Reader = Callable[..., RoundTable]


@dataclass(frozen=True)
class SourceFormat:
    """Sparse-checkout patterns and the reader of one (suite, source kind)."""

    patterns: tuple[str, ...]
    read: Reader  # read(root, version, source_repo, commit, log=None) -> RoundTable


def source_format(suite: str, kind: str) -> SourceFormat:
    """The format for `suite` data of source kind `kind` (tree, cmx, summary)."""
    if suite == "inference" and kind == TREE:
        from mlperf_power_dag.readers import inference_tree as m

        return SourceFormat(tuple(m.SPARSE_PATTERNS), m.read_tree_round)
    if suite == "inference" and kind == CMX:
        from mlperf_power_dag.readers import inference_cmx as m

        return SourceFormat(tuple(m.SPARSE_PATTERNS), m.read_cmx_round)
    if suite == "inference" and kind == SUMMARY:
        from mlperf_power_dag.readers import inference_summary as m

        def read(root: Path, version: str, source_repo: str, commit: str, log=None):
            return m.read_summary_round(
                root / "summary_results.json", version, source_repo, commit, log=log
            )

        return SourceFormat(tuple(m.SUMMARY_PATTERNS), read)
    if suite == "tiny" and kind == TREE:
        from mlperf_power_dag.readers import tiny as m

        return SourceFormat(tuple(m.SPARSE_PATTERNS), m.read_tiny_round)
    if suite == "training" and kind == TREE:
        from mlperf_power_dag.readers import training as m

        return SourceFormat(tuple(m.SPARSE_PATTERNS), m.read_training_round)
    raise ValueError(f"no reader for {suite} results of source kind {kind!r}")
