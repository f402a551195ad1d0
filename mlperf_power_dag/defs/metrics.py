"""Cross-round metric tables over all inference partitions, queryable in the warehouse."""

import functools
from collections.abc import Callable

import dagster as dg
import pandas as pd

from mlperf_power_dag import metrics
from mlperf_power_dag.asset_inputs import METRIC_TABLES
from mlperf_power_dag.buildstate import FINGERPRINT_KEY
from mlperf_power_dag.defs.automation import DOWNSTREAM
from mlperf_power_dag.defs.fingerprint import current_fingerprint
from mlperf_power_dag.defs.resources import MlperfHome
from mlperf_power_dag.rounds import catalog, registry
from mlperf_power_dag.rounds.table import rounds_table
from mlperf_power_dag.schemas import InferenceResults, conform

COMMON = dict(group_name="metrics", kinds={"parquet", "pandas"}, automation_condition=DOWNSTREAM)


def known_rounds(home: MlperfHome) -> pd.DataFrame:
    """The rounds table of every suite's known rounds: the catalog and those discovered into
    the home."""
    root = home.root()
    return rounds_table(r for suite in catalog.SUITES for r in registry.all_rounds(suite, root))


def _compute(
    context: dg.AssetExecutionContext,
    home: MlperfHome,
    results: pd.DataFrame,
    table: Callable[[pd.DataFrame], metrics.Metric],
) -> pd.DataFrame:
    """The metric `table` of the results, with its exclusions and rounds as metadata."""
    fingerprint = current_fingerprint(METRIC_TABLES, home=home)
    typed = results if results.empty else conform(InferenceResults, results)
    m = table(typed)
    frame = m.frame
    if frame.empty:  # still a table, so that queries on it work
        frame = pd.DataFrame({"round": pd.Series([], dtype=object)})
    context.add_output_metadata(
        {
            FINGERPRINT_KEY: fingerprint,
            "excluded_non_finite_or_non_positive": m.excluded,
            "rounds": ", ".join(sorted(set(frame.get("round", pd.Series(dtype=str)).astype(str)))),
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
    context: dg.AssetExecutionContext, inference_results: pd.DataFrame, mlperf_home: MlperfHome
) -> pd.DataFrame:
    return _compute(context, mlperf_home, inference_results, metrics.best_efficiency_table)


@dg.asset(
    description=(
        "Same system, same round: bert-99 and bert-99.9 Offline efficiency and the percent "
        "change from 99 to 99.9, one row per (round, system) (Figures 8 and 9)."
    ),
    **COMMON,
)
def inference_accuracy_pairs(
    context: dg.AssetExecutionContext, inference_results: pd.DataFrame, mlperf_home: MlperfHome
) -> pd.DataFrame:
    return _compute(context, mlperf_home, inference_results, metrics.accuracy_pairs_table)


@dg.asset(
    description=(
        "Same benchmark on the same hardware (submitter, accelerator model and count, host "
        "processor) in consecutive rounds, one to one: percent change of samples/J (Figure 10)."
    ),
    **COMMON,
)
def inference_software_gains(
    context: dg.AssetExecutionContext, inference_results: pd.DataFrame, mlperf_home: MlperfHome
) -> pd.DataFrame:
    rounds = known_rounds(mlperf_home)
    table = functools.partial(metrics.software_gains_table, rounds=rounds)
    return _compute(context, mlperf_home, inference_results, table)


METRIC_ASSETS = [inference_best_efficiency, inference_accuracy_pairs, inference_software_gains]
