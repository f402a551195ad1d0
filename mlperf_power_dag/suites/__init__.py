"""The suites the pipeline knows, one `SuiteSpec` each; everything per suite is generated from
this list (partitions, round assets and jobs, sensors and schedules, CLI choices, readers).

Adding a suite: a module here declaring its spec (name, results model, source kinds with their
readers), its parsers/readers, its rounds in `rounds/catalog.py`, and an entry in `SPECS`.
"""

from __future__ import annotations

import pandera.pandas as pa

from mlperf_power_dag.suites import spec as _spec
from mlperf_power_dag.suites.inference import INFERENCE
from mlperf_power_dag.suites.spec import SuiteSpec, by_name
from mlperf_power_dag.suites.tiny import TINY
from mlperf_power_dag.suites.training import TRAINING

SPECS: tuple[SuiteSpec, ...] = (INFERENCE, TINY, TRAINING)

__all__ = ["SPECS", "SuiteSpec", "by_name", "get", "names", "table_models"]


def names(specs: tuple[SuiteSpec, ...] = SPECS) -> list[str]:
    """The suite names, in declaration order."""
    return [s.name for s in specs]


def table_models(specs: tuple[SuiteSpec, ...] = SPECS) -> dict[str, type[pa.DataFrameModel]]:
    """Every per-round table of the dataset and its pandera model."""
    return _spec.table_models(specs)


def get(name: str, specs: tuple[SuiteSpec, ...] = SPECS) -> SuiteSpec:
    """The spec of one suite; ValueError naming the known ones if there is none."""
    for s in specs:
        if s.name == name:
            return s
    raise ValueError(f"unknown suite {name!r}; expected one of {', '.join(names(specs))}")
