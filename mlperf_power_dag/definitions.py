"""The Dagster code location: `mlperf_power_dag.definitions:defs`."""

from __future__ import annotations

import warnings

import dagster as dg

from mlperf_power_dag import settings
from mlperf_power_dag.defs.automation import (
    automation_sensor,
    build_sensors_and_schedules,
    round_job_name,
)
from mlperf_power_dag.defs.checks import crosscheck_agreement, inference_crosscheck
from mlperf_power_dag.defs.downstream import mlperf_progress
from mlperf_power_dag.defs.figures import figure_assets
from mlperf_power_dag.defs.io import DatasetIOManager, model_ref
from mlperf_power_dag.defs.metrics import METRIC_ASSETS
from mlperf_power_dag.defs.report import report_site
from mlperf_power_dag.defs.rounds import round_assets
from mlperf_power_dag.defs.service import (
    DOWNSTREAM_STAGE,
    FRESHNESS_CHECKS,
    ROUND_STAGE,
    STAGE_TAG,
    service_definitions,
)
from mlperf_power_dag.schemas import SUITE_MODELS, table_models

DOWNSTREAM_JOB = "downstream"


def make_definitions() -> dg.Definitions:
    """Build the definitions for the current `MLPERF_POWER_HOME`."""
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
                tags={STAGE_TAG: ROUND_STAGE},
            )
        )
    round_selection = dg.AssetSelection.assets(*assets)
    triggers = build_sensors_and_schedules(list(jobs))
    assets += figure_assets() + [inference_crosscheck, *METRIC_ASSETS, report_site]
    jobs.append(
        dg.define_asset_job(
            DOWNSTREAM_JOB,
            # the freshness checks run on their own schedule (defs/freshness.py)
            selection=dg.AssetSelection.all() - round_selection - FRESHNESS_CHECKS,
            description=(
                "Cross-round metrics, checks, figures and the report over all built partitions."
            ),
            tags={STAGE_TAG: DOWNSTREAM_STAGE},
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = dg.with_source_code_references(assets)
    core = dg.Definitions(
        assets=assets,
        jobs=jobs,
        asset_checks=[crosscheck_agreement],
        sensors=[s for s in triggers if isinstance(s, dg.SensorDefinition)]
        + [automation_sensor(dg.AssetSelection.all() - round_selection)],
        schedules=[s for s in triggers if isinstance(s, dg.ScheduleDefinition)],
        loggers={"console": dg.colored_console_logger, "mlperf_progress": mlperf_progress},
        resources={
            "io_manager": DatasetIOManager(
                base_path=settings.dataset_dir(),
                warehouse=str(settings.warehouse_path()),
                tables={t: model_ref(m) for t, m in table_models().items()},
            )
        },
    )
    return dg.Definitions.merge(core, service_definitions())


defs = make_definitions()
