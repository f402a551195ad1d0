"""Checks on the cross-round metric tables: one row per key, and the results behind every row."""

from __future__ import annotations

from mlperf_power_dag.defs.key_checks import keys_and_provenance
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


# Warnings, not blocking: a broken key is reported and the figures are still drawn.
best_efficiency_keys, accuracy_pairs_keys, software_gains_keys = (
    keys_and_provenance(asset, *METRIC_KEYS[asset.key.to_user_string()])
    for asset in (inference_best_efficiency, inference_accuracy_pairs, inference_software_gains)
)

METRIC_CHECKS = [best_efficiency_keys, accuracy_pairs_keys, software_gains_keys]
