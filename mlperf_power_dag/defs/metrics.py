"""Cross-round metric tables over all inference partitions, queryable in the warehouse."""

import inspect
from collections.abc import Callable

import dagster as dg
import pandas as pd

from mlperf_power_dag import metrics
from mlperf_power_dag.asset_inputs import METRIC_TABLES
from mlperf_power_dag.buildstate import FINGERPRINT_KEY
from mlperf_power_dag.defs.automation import downstream_of
from mlperf_power_dag.defs.fingerprint import current_fingerprint
from mlperf_power_dag.defs.known_rounds import ROUNDS_IN, rounds_input
from mlperf_power_dag.defs.resources import MlperfHome
from mlperf_power_dag.schemas import InferenceResults, conform

COMMON = dict(
    group_name="metrics",
    kinds={"parquet", "pandas"},
    automation_condition=downstream_of(METRIC_TABLES),
    ins={"rounds": ROUNDS_IN},
)


def _compute(
    context: dg.AssetExecutionContext,
    home: MlperfHome,
    results: pd.DataFrame,
    rounds: pd.DataFrame | None,
    table: Callable[..., metrics.Metric],
) -> pd.DataFrame:
    """The metric `table` of the results (given the rounds table when it takes one), with its
    exclusions, its rounds and the known inference rounds it has no row of as metadata."""
    fingerprint = current_fingerprint(METRIC_TABLES, home=home)
    known = rounds_input(rounds, home)
    typed = results if results.empty else conform(InferenceResults, results)
    m = (
        table(typed, rounds=known)
        if "rounds" in inspect.signature(table).parameters
        else table(typed)
    )
    frame = m.frame
    if frame.empty:  # still a table, so that queries on it work
        frame = pd.DataFrame({"round": pd.Series([], dtype=object)})
    present = set(frame.get("round", pd.Series(dtype=str)).astype(str))
    inference = known.loc[known["suite"] == "inference", "version"].astype(str)
    context.add_output_metadata(
        {
            FINGERPRINT_KEY: fingerprint,
            "excluded_non_finite_or_non_positive": m.excluded,
            "rounds": ", ".join(sorted(present)),
            "known_rounds_without_rows": ", ".join(v for v in inference if v not in present),
        }
    )
    return frame.reset_index(drop=True)


@dg.asset(
    description=(
        "Per category, division, benchmark and round: the most efficient valid Offline result "
        "(samples/J) and the result that achieved it; then the best so far over rounds and its "
        "ratio to the benchmark's first round with power (the trend of Figures 5a/5b)."
    ),
    **COMMON,
)
def inference_best_efficiency(
    context: dg.AssetExecutionContext,
    inference_results: pd.DataFrame,
    rounds: pd.DataFrame | None,
    mlperf_home: MlperfHome,
) -> pd.DataFrame:
    return _compute(context, mlperf_home, inference_results, rounds, metrics.best_efficiency_table)


@dg.asset(
    description=(
        "Same system, same round: bert-99 and bert-99.9 Offline efficiency and the percent "
        "change from 99 to 99.9, one row per (round, system) (Figures 8 and 9)."
    ),
    **COMMON,
)
def inference_accuracy_pairs(
    context: dg.AssetExecutionContext,
    inference_results: pd.DataFrame,
    rounds: pd.DataFrame | None,
    mlperf_home: MlperfHome,
) -> pd.DataFrame:
    return _compute(context, mlperf_home, inference_results, rounds, metrics.accuracy_pairs_table)


@dg.asset(
    description=(
        "Same benchmark on the same hardware (submitter, accelerator model and count, host "
        "processor) in consecutive rounds, one to one: percent change of samples/J (Figure 10)."
    ),
    **COMMON,
)
def inference_software_gains(
    context: dg.AssetExecutionContext,
    inference_results: pd.DataFrame,
    rounds: pd.DataFrame | None,
    mlperf_home: MlperfHome,
) -> pd.DataFrame:
    return _compute(context, mlperf_home, inference_results, rounds, metrics.software_gains_table)


METRIC_ASSETS = [inference_best_efficiency, inference_accuracy_pairs, inference_software_gains]
