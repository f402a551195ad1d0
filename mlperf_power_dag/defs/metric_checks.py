"""Checks on the cross-round metric tables: one row per key, and the results behind every row."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from mlperf_power_dag import table_checks
from mlperf_power_dag.defs.metrics import (
    inference_accuracy_pairs,
    inference_best_efficiency,
    inference_software_gains,
)
from mlperf_power_dag.metrics import HARDWARE_KEY

# Metric table -> (its key, the columns that name the results behind a row).
METRIC_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "inference_best_efficiency": (
        ("category", "division", "benchmark", "as_of_round"),
        ("round", "source_path"),
    ),
    "inference_accuracy_pairs": (
        ("round", "category", "division", "submitter", "system", "scenario"),
        ("source_path_a", "source_path_b"),
    ),
    "inference_software_gains": (
        ("benchmark", "scenario", "category", "division", *HARDWARE_KEY, "round_before"),
        ("source_path_before", "source_path_after"),
    ),
}


def _result(table: str, frame: pd.DataFrame) -> dg.AssetCheckResult:
    keys, sources = METRIC_KEYS[table]
    outcome = table_checks.keys_and_sources(frame, keys, sources)
    return dg.AssetCheckResult(
        passed=outcome.passed, severity=dg.AssetCheckSeverity.WARN, metadata=outcome.metadata
    )


def _description(table: str) -> str:
    keys, sources = METRIC_KEYS[table]
    return f"One row per ({', '.join(keys)}); {', '.join(sources)} on every row."


# Warnings, not blocking: a broken key is reported and the figures are still drawn.
@dg.asset_check(
    asset=inference_best_efficiency,
    name="keys_and_provenance",
    description=_description("inference_best_efficiency"),
)
def best_efficiency_keys(inference_best_efficiency: pd.DataFrame) -> dg.AssetCheckResult:
    return _result("inference_best_efficiency", inference_best_efficiency)


@dg.asset_check(
    asset=inference_accuracy_pairs,
    name="keys_and_provenance",
    description=_description("inference_accuracy_pairs"),
)
def accuracy_pairs_keys(inference_accuracy_pairs: pd.DataFrame) -> dg.AssetCheckResult:
    return _result("inference_accuracy_pairs", inference_accuracy_pairs)


@dg.asset_check(
    asset=inference_software_gains,
    name="keys_and_provenance",
    description=_description("inference_software_gains"),
)
def software_gains_keys(inference_software_gains: pd.DataFrame) -> dg.AssetCheckResult:
    return _result("inference_software_gains", inference_software_gains)


METRIC_CHECKS = [best_efficiency_keys, accuracy_pairs_keys, software_gains_keys]
