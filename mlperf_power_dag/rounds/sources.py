"""Which files a round's source kind needs and which reader turns them into a table."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mlperf_power_dag.tables import RoundTable

if TYPE_CHECKING:
    from mlperf_power_dag.suites.spec import SuiteSpec

Reader = Callable[..., RoundTable]


@dataclass(frozen=True)
class SourceFormat:
    """Sparse-checkout patterns and the reader of one (suite, source kind)."""

    patterns: tuple[str, ...]
    read: Reader  # read(root, version, source_repo, commit, log=None) -> RoundTable


def source_format(suite: str, kind: str, specs: Iterable[SuiteSpec] | None = None) -> SourceFormat:
    """The format for `suite` data of source kind `kind` (tree, cmx, summary), as the suite's
    spec declares it (`specs` default: the pipeline's suites)."""
    from mlperf_power_dag import suites

    for spec in suites.SPECS if specs is None else specs:
        if spec.name == suite:
            return spec.source(kind)
    raise ValueError(f"no reader for {suite} results of source kind {kind!r}")
