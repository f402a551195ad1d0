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
from mlperf_power_dag.defs.figures import figure_assets
from mlperf_power_dag.defs.io import WarehouseIOManager
from mlperf_power_dag.defs.metrics import METRIC_ASSETS
from mlperf_power_dag.defs.rounds import round_assets
from mlperf_power_dag.schemas import InferenceResults, TinyResults, TrainingResults

SUITE_MODELS = {
    "inference": InferenceResults,
    "tiny": TinyResults,
    "training": TrainingResults,
}


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
            )
        )
    round_selection = dg.AssetSelection.assets(*assets)
    triggers = build_sensors_and_schedules(list(jobs))
    assets += figure_assets() + [inference_crosscheck, *METRIC_ASSETS]
    jobs.append(
        dg.define_asset_job(
            DOWNSTREAM_JOB,
            selection=dg.AssetSelection.all() - round_selection,
            description="Cross-round metrics, checks and figures over all built partitions.",
        )
    )
    settings.home().mkdir(parents=True, exist_ok=True)
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
        resources={
            "io_manager": WarehouseIOManager(
                database=str(settings.warehouse_path()), schema="mlperf"
            )
        },
    )


defs = make_definitions()
