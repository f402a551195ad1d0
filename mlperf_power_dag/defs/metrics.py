"""Cross-round metric tables over all inference partitions, queryable in the warehouse."""

import dagster as dg
import pandas as pd

from mlperf_power_dag import metrics
from mlperf_power_dag.asset_inputs import METRIC_TABLES
from mlperf_power_dag.benchmark_ids import CATEGORIES, DIVISIONS
from mlperf_power_dag.buildstate import FINGERPRINT_KEY
from mlperf_power_dag.defs.automation import DOWNSTREAM
from mlperf_power_dag.defs.fingerprint import current_fingerprint
from mlperf_power_dag.defs.resources import MlperfHome
from mlperf_power_dag.schemas import InferenceResults, conform

COMMON = dict(group_name="metrics", kinds={"parquet", "pandas"}, automation_condition=DOWNSTREAM)


def _typed(results: pd.DataFrame) -> pd.DataFrame:
    return conform(InferenceResults, results)


def _per_slice(results: pd.DataFrame, fn, **kw) -> tuple[pd.DataFrame, int]:
    parts, excluded = [], 0
    present = set(zip(results["category"], results["division"], strict=True))
    for category in CATEGORIES:
        for division in DIVISIONS:
            if (category, division) not in present:
                continue
            m = fn(results, category=category, division=division, **kw)
            excluded += m.excluded
            if len(m.frame):
                parts.append(m.frame)
    return (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()), excluded


def _compute(
    context: dg.AssetExecutionContext, home: MlperfHome, results: pd.DataFrame, fn, post=None
):
    """`fn` per (category, division) slice of the results, then `post` on the whole frame."""
    fingerprint = current_fingerprint(METRIC_TABLES, home=home)
    frame, excluded = (pd.DataFrame(), 0) if results.empty else _per_slice(_typed(results), fn)
    if post is not None and not frame.empty:
        frame = post(frame)
    if frame.empty:  # still a table, so that queries on it work
        frame = pd.DataFrame({"round": pd.Series([], dtype=object)})
    context.add_output_metadata(
        {
            FINGERPRINT_KEY: fingerprint,
            "excluded_non_finite_or_non_positive": excluded,
            "rounds": ", ".join(sorted(set(frame.get("round", pd.Series(dtype=str)).astype(str)))),
        }
    )
    return frame.reset_index(drop=True)


def _trend(best: pd.DataFrame) -> pd.DataFrame:
    parts = [
        metrics.normalize_to_first(metrics.running_max(grp))
        for _, grp in best.groupby(["category", "division"], sort=False)
    ]
    return pd.concat(parts, ignore_index=True).rename(
        columns={
            "value": "best_samples_per_joule",
            "x_round": "as_of_round",
            "round_best": "best_so_far",
            "normalized": "best_so_far_normalized",
        }
    )


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
    return _compute(context, mlperf_home, inference_results, metrics.best_per_round, _trend)


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
    return _compute(context, mlperf_home, inference_results, metrics.same_system_pairs)


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
    return _compute(context, mlperf_home, inference_results, metrics.consecutive_pairs)


METRIC_ASSETS = [inference_best_efficiency, inference_accuracy_pairs, inference_software_gains]
