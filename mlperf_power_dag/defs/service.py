"""What running as a service adds to the code location: alerts, freshness checks, run tags
for the run queue's limits, and the executor chosen by `MLPERF_POWER_EXECUTOR`."""

from __future__ import annotations

import dagster as dg

from mlperf_power_dag import settings
from mlperf_power_dag.defs.alerts import run_failure_alerts
from mlperf_power_dag.defs.freshness import freshness_checks, freshness_job, freshness_schedule

# Run tag the queued run coordinator limits by (deploy/dagster.yaml): round fetches and the
# downstream stage are capped separately.
STAGE_TAG = "mlperf/stage"
ROUND_STAGE, DOWNSTREAM_STAGE = "round", "downstream"
FRESHNESS_CHECKS = dg.AssetSelection.checks(freshness_checks)


def executor() -> dg.ExecutorDefinition | None:
    """The executor for `MLPERF_POWER_EXECUTOR`: None (Dagster's multiprocess default),
    `in_process_executor`, or dagster-k8s' `k8s_job_executor` (each step in its own job)."""
    kind = settings.executor_kind()
    if kind == "k8s":
        from dagster_k8s import k8s_job_executor  # only installed where it is used

        return k8s_job_executor
    if kind == "in_process":
        return dg.in_process_executor
    return None


def service_definitions() -> dg.Definitions:
    """The run-failure alert sensor, the freshness checks with their job and hourly schedule,
    and the executor, to merge into the code location."""
    return dg.Definitions(
        asset_checks=[freshness_checks],
        jobs=[freshness_job],
        schedules=[freshness_schedule],
        sensors=[run_failure_alerts],
        executor=executor(),
    )
