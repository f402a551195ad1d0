"""Freshness checks: a figure or the report built before the newest built round, and discovery
that has not succeeded for more than two days, turn red in the UI and in the report."""

import datetime as dt
from pathlib import Path

import dagster as dg

from mlperf_power_dag import freshness, settings
from mlperf_power_dag.asset_inputs import FIGURE_SUITES, REPORT_KEY, REPORT_TABLES, figure_tables
from mlperf_power_dag.defs.automation import default_status

FRESHNESS_JOB = "check_freshness"
# Each figure and the report: built after the newest round of the tables it reads.
BUILT_FROM = {**{key: figure_tables(key) for key in FIGURE_SUITES}, REPORT_KEY: list(REPORT_TABLES)}


def _built_at(instance: dg.DagsterInstance, key: str) -> float | None:
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    return event.timestamp if event else None


def freshness_states(
    instance: dg.DagsterInstance,
    assets: list[str] | None = None,
    now: dt.datetime | None = None,
    home: Path | None = None,
) -> list[freshness.FreshnessState]:
    """The freshness of `assets` (default: every figure and the report) against the newest
    round build of what each reads, then the discovery rule (on the report)."""
    latest: dict[str, float | None] = {}

    def newest(table: str) -> float | None:
        if table not in latest:
            latest[table] = _built_at(instance, table)
        return latest[table]

    out = [
        freshness.figure_state(
            key, _built_at(instance, key), {t: newest(t) for t in BUILT_FROM[key]}
        )
        for key in (assets if assets is not None else list(BUILT_FROM))
    ]
    last = freshness.last_discovery(settings.discovery_state_path(home))
    out.append(freshness.discovery_state(REPORT_KEY, last, now))
    return out


SPECS = [
    dg.AssetCheckSpec(
        freshness.FIGURE_CHECK,
        asset=key,
        description="Built after the newest built round of every table it reads.",
    )
    for key in BUILT_FROM
] + [
    dg.AssetCheckSpec(
        freshness.DISCOVERY_CHECK,
        asset=REPORT_KEY,
        description=(
            f"Discovery of new MLCommons rounds succeeded within the last "
            f"{freshness.MAX_DISCOVERY_AGE.days} days."
        ),
    )
]


@dg.multi_asset_check(
    specs=SPECS,
    can_subset=True,
    name="freshness_checks",
    description="Figures and report newer than the newest round; discovery ran recently.",
)
def freshness_checks(context: dg.AssetCheckExecutionContext):
    selected = context.selected_asset_check_keys
    for state in freshness_states(context.instance):
        key = dg.AssetCheckKey(dg.AssetKey(state.asset), state.check)
        if key not in selected:
            continue
        yield dg.AssetCheckResult(
            asset_key=key.asset_key,
            check_name=key.name,
            passed=state.passed,
            severity=dg.AssetCheckSeverity.ERROR,
            description=state.detail,
            metadata={"detail": state.detail},
        )


freshness_job = dg.define_asset_job(
    FRESHNESS_JOB,
    selection=dg.AssetSelection.checks(freshness_checks),
    tags={"mlperf/stage": "checks"},
    description="Evaluates the freshness checks without rebuilding anything.",
)

freshness_schedule = dg.ScheduleDefinition(
    name="freshness_checks_hourly",
    cron_schedule="20 * * * *",
    job=freshness_job,
    default_status=dg.DefaultScheduleStatus(default_status().value),
    description="Hourly: re-evaluates the freshness checks, so a stale figure turns red.",
)
