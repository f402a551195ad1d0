"""The Dagster code location: `mlperf_power_dag.definitions:defs`.

Nothing is built at import: `defs` is loaded when Dagster (or a test) asks for it, and the
environment is read only here, through `dg.EnvVar`, into the `mlperf_home` and `git` resources.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence

import dagster as dg

from mlperf_power_dag import suites
from mlperf_power_dag.asset_inputs import REPORT_KEY, ROUNDS_KEY, downstream_tables
from mlperf_power_dag.defs.automation import automation_sensor, build_sensors_and_schedules
from mlperf_power_dag.defs.checks import (
    CROSSCHECK_ASSETS,
    TINY_CROSSCHECK_ASSETS,
    crosscheck_agreement,
    inference_crosscheck,
    inference_reference_keys,
    tiny_crosscheck,
    tiny_crosscheck_agreement,
    tiny_reference_keys,
)
from mlperf_power_dag.defs.downstream import mlperf_progress
from mlperf_power_dag.defs.figures import FIGURES, figure_assets
from mlperf_power_dag.defs.io import HomeDatasetIOManager, LocalDatasetIOManager, model_ref
from mlperf_power_dag.defs.key_checks import keys_and_provenance
from mlperf_power_dag.defs.known_rounds import rounds_asset
from mlperf_power_dag.defs.local import local_comparison
from mlperf_power_dag.defs.metric_checks import METRIC_CHECKS
from mlperf_power_dag.defs.metrics import METRIC_ASSETS
from mlperf_power_dag.defs.report import report_site
from mlperf_power_dag.defs.resources import env_resources
from mlperf_power_dag.defs.rounds import round_assets
from mlperf_power_dag.defs.service import (
    DOWNSTREAM_STAGE,
    FRESHNESS_CHECKS,
    ROUND_STAGE,
    STAGE_TAG,
    service_definitions,
)
from mlperf_power_dag.schemas import Rounds
from mlperf_power_dag.suites.spec import SuiteSpec, round_job_name

DOWNSTREAM_JOB = "downstream"
LOCAL_JOB = "local_comparison_job"

__all__ = ["DOWNSTREAM_JOB", "LOCAL_JOB", "defs", "make_definitions", "round_job_name"]


def downstream_assets(names: Collection[str]) -> list[dg.AssetsDefinition]:
    """The known rounds table and the cross-round assets (metrics, cross-checks and the
    published tables they compare with, figures, report) whose input tables all belong to the
    suites `names`."""
    tables = downstream_tables()
    present = {f"{n}_results" for n in names}
    figures = figure_assets(names)
    others = [*CROSSCHECK_ASSETS, *TINY_CROSSCHECK_ASSETS, *METRIC_ASSETS]
    out = figures + [a for a in others if set(tables[a.key.to_user_string()]) <= present]
    if len(figures) == len(FIGURES) and set(tables[REPORT_KEY]) <= present:
        out.append(report_site)
    return [rounds_asset(present), *out] if out else []  # the table they read


def make_definitions(
    resources: Mapping[str, dg.ConfigurableResource] | None = None,
    specs: Sequence[SuiteSpec] = suites.SPECS,
) -> dg.Definitions:
    """The pipeline's definitions for the suites `specs`, with `resources` (`mlperf_home`,
    `git`) given or else configured from the environment."""
    specs = tuple(suites.by_name(specs).values())
    res = dict(resources) if resources is not None else env_resources()
    assets: list = []
    jobs = []
    for spec in specs:
        suite_assets = round_assets(spec)
        assets += suite_assets
        jobs.append(
            dg.define_asset_job(
                spec.job_name,
                selection=dg.AssetSelection.assets(*suite_assets),
                description=f"Fetch and tabulate one {spec.name} round.",
                tags={STAGE_TAG: ROUND_STAGE},
            )
        )
    round_selection = dg.AssetSelection.assets(*assets)
    triggers = build_sensors_and_schedules(list(jobs), res["git"], res["mlperf_home"], specs)
    downstream = downstream_assets(suites.names(specs))
    assets += downstream
    sensors = [s for s in triggers if isinstance(s, dg.SensorDefinition)]
    local_selection = dg.AssetSelection.assets()
    if "inference" in suites.names(specs):  # local trees are compared with published inference
        assets.append(local_comparison)
        local_selection = dg.AssetSelection.assets(local_comparison)
        jobs.append(
            dg.define_asset_job(
                LOCAL_JOB,
                selection=local_selection,
                description="Compare local submission trees with the published results.",
                tags={STAGE_TAG: DOWNSTREAM_STAGE},
            )
        )
    service = report_site in downstream  # the service's checks watch every figure
    if downstream:
        selection = dg.AssetSelection.all() - round_selection - local_selection
        if service:  # the freshness checks run on their own schedule (defs/freshness.py)
            selection -= FRESHNESS_CHECKS
        jobs.append(
            dg.define_asset_job(
                DOWNSTREAM_JOB,
                selection=selection,
                description=(
                    "Cross-round metrics, checks, figures and the report over all built partitions."
                ),
                tags={STAGE_TAG: DOWNSTREAM_STAGE},
            )
        )
        sensors.append(automation_sensor(dg.AssetSelection.all() - round_selection))
    checks = []
    if downstream:  # the rounds table comes first: one row per round, its source kind named
        checks.append(keys_and_provenance(downstream[0], ("suite", "version"), ("source",)))
    if inference_crosscheck in downstream:
        checks += [crosscheck_agreement, inference_reference_keys]
    if tiny_crosscheck in downstream:
        checks += [tiny_crosscheck_agreement, tiny_reference_keys]
    if all(a in downstream for a in METRIC_ASSETS):
        checks += METRIC_CHECKS
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = dg.with_source_code_references(assets)
    core = dg.Definitions(
        assets=assets,
        jobs=jobs,
        asset_checks=checks,
        sensors=sensors,
        schedules=[s for s in triggers if isinstance(s, dg.ScheduleDefinition)],
        loggers={"console": dg.colored_console_logger, "mlperf_progress": mlperf_progress},
        resources={
            **res,
            "io_manager": HomeDatasetIOManager(
                home=res["mlperf_home"],
                tables={t: model_ref(m) for t, m in suites.table_models(specs).items()},
                single_tables={ROUNDS_KEY: model_ref(Rounds)},
            ),
            "local_io_manager": LocalDatasetIOManager(home=res["mlperf_home"]),
        },
    )
    if not service:
        return core
    return dg.Definitions.merge(core, service_definitions())


@dg.definitions
def defs() -> dg.Definitions:
    """The code location, configured from the environment."""
    return make_definitions()
