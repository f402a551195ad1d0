"""The Dagster code location: `mlperf_power_dag.definitions:defs`.

Nothing is built at import: `defs` is loaded when Dagster (or a test) asks for it, and the
environment is read only here, through `dg.EnvVar`, into the `mlperf_home` and `git` resources.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import dagster as dg

from mlperf_power_dag.defs.automation import (
    automation_sensor,
    build_sensors_and_schedules,
    round_job_name,
)
from mlperf_power_dag.defs.checks import crosscheck_agreement, inference_crosscheck
from mlperf_power_dag.defs.downstream import mlperf_progress
from mlperf_power_dag.defs.figures import figure_assets
from mlperf_power_dag.defs.io import HomeDatasetIOManager, LocalDatasetIOManager, model_ref
from mlperf_power_dag.defs.local import local_comparison
from mlperf_power_dag.defs.metrics import METRIC_ASSETS
from mlperf_power_dag.defs.report import report_site
from mlperf_power_dag.defs.resources import env_resources
from mlperf_power_dag.defs.rounds import round_assets
from mlperf_power_dag.schemas import SUITE_MODELS, table_models

DOWNSTREAM_JOB = "downstream"
LOCAL_JOB = "local_comparison_job"

__all__ = ["DOWNSTREAM_JOB", "LOCAL_JOB", "defs", "make_definitions", "round_job_name"]


def make_definitions(
    resources: Mapping[str, dg.ConfigurableResource] | None = None,
) -> dg.Definitions:
    """The pipeline's definitions, with `resources` (`mlperf_home`, `git`) given or else
    configured from the environment."""
    res = dict(resources) if resources is not None else env_resources()
    assets: list = []
    jobs = []
    for suite, model in SUITE_MODELS.items():
        suite_assets = round_assets(suite, model)
        assets += suite_assets
        jobs.append(
            dg.define_asset_job(
                round_job_name(suite),
                selection=dg.AssetSelection.assets(*suite_assets),
                description=f"Fetch and tabulate one {suite} round.",
            )
        )
    round_selection = dg.AssetSelection.assets(*assets)
    triggers = build_sensors_and_schedules(list(jobs), res["git"], res["mlperf_home"])
    assets += figure_assets() + [inference_crosscheck, *METRIC_ASSETS, report_site]
    assets.append(local_comparison)
    local_selection = dg.AssetSelection.assets(local_comparison)
    jobs.append(
        dg.define_asset_job(
            LOCAL_JOB,
            selection=local_selection,
            description="Compare local submission trees with the published results.",
        )
    )
    jobs.append(
        dg.define_asset_job(
            DOWNSTREAM_JOB,
            selection=dg.AssetSelection.all() - round_selection - local_selection,
            description=(
                "Cross-round metrics, checks, figures and the report over all built partitions."
            ),
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = dg.with_source_code_references(assets)
    return dg.Definitions(
        assets=assets,
        jobs=jobs,
        asset_checks=[crosscheck_agreement],
        sensors=[s for s in triggers if isinstance(s, dg.SensorDefinition)]
        + [automation_sensor(dg.AssetSelection.all() - round_selection)],
        schedules=[s for s in triggers if isinstance(s, dg.ScheduleDefinition)],
        loggers={"console": dg.colored_console_logger, "mlperf_progress": mlperf_progress},
        resources={
            **res,
            "io_manager": HomeDatasetIOManager(
                home=res["mlperf_home"],
                tables={t: model_ref(m) for t, m in table_models().items()},
            ),
            "local_io_manager": LocalDatasetIOManager(home=res["mlperf_home"]),
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The code location, configured from the environment."""
    return make_definitions()
