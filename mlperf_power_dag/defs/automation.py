"""New rounds rebuild themselves: discovery sensor, daily ref refresh, downstream automation."""

from collections.abc import Iterable
from pathlib import Path

import dagster as dg

from mlperf_power_dag import freshness, local, settings, suites
from mlperf_power_dag.defs.resources import (
    GitSource,
    MlperfHome,
    git_from_env,
    home_from_env,
    resolved,
)
from mlperf_power_dag.rounds import discovery, download, registry
from mlperf_power_dag.rounds.download import FetchError
from mlperf_power_dag.suites.spec import SuiteSpec, partitions_def, round_job_name

SUITES = tuple(suites.names())


def default_status() -> dg.DefaultSensorStatus:
    """RUNNING unless `MLPERF_POWER_AUTOMATION=off`."""
    return (
        dg.DefaultSensorStatus.RUNNING
        if settings.automation_on()
        else dg.DefaultSensorStatus.STOPPED
    )


def pending_rounds(
    instance: dg.DagsterInstance,
    log=None,
    git_base: str | None = None,
    home: Path | None = None,
    specs: tuple[SuiteSpec, ...] = suites.SPECS,
) -> dict[str, list[str]]:
    """Per suite: known or newly discovered rounds that are not partitions yet (probing
    repositories under `git_base`, recording what is found in `home`; defaults from the
    environment)."""
    git_base = git_base or settings.git_base()
    out: dict[str, list[str]] = {}
    failed = False
    for suite in suites.names(specs):
        part = partitions_def(suite).name
        keys = set(instance.get_dynamic_partitions(part))
        known = {r.version for r in registry.all_rounds(suite, home)} | keys
        try:
            found = discovery.discover(suite, known, git_base, log=log)
            if not found:  # "nothing new" is a success only if the host answered
                freshness.check_reachable(suite, git_base)
        except Exception as e:  # one suite's probe failing must not stop the others
            if log:
                log(f"{suite}: discovery failed: {e}")
            found = []
            failed = True
        if found:
            registry.record(found, home)
        new = sorted(
            {r.version for r in registry.all_rounds(suite, home)} - keys,
            key=lambda v: registry.round_for(suite, v, home).sort_key,
        )
        if new:
            out[suite] = new
    if not failed:  # the freshness check on the report reads this
        freshness.record_discovery(settings.discovery_state_path(home))
    return out


def _round_requests(suite: str, versions: list[str], why: str) -> list[dg.RunRequest]:
    return [
        dg.RunRequest(
            job_name=round_job_name(suite),
            partition_key=v,
            run_key=f"{suite}-{v}-{why}",
            tags={"mlperf/suite": suite, "mlperf/reason": why},
        )
        for v in versions
    ]


def build_sensors_and_schedules(
    jobs: list,
    git: GitSource | None = None,
    home: MlperfHome | None = None,
    specs: tuple[SuiteSpec, ...] = suites.SPECS,
) -> list:
    """The discovery sensor and the daily refresh schedule over the per-suite round jobs,
    probing and fetching through `git` and recording in `home` (defaults: the environment)."""

    def _where() -> tuple[str, Path]:
        g = resolved(git) if git is not None else git_from_env()
        h = resolved(home) if home is not None else home_from_env()
        return g.base_url(), h.root()

    @dg.sensor(
        name="new_rounds_sensor",
        jobs=jobs,
        minimum_interval_seconds=settings.sensor_interval_s(),
        default_status=default_status(),
        description=(
            "Finds MLPerf rounds that are not partitions yet (catalog rounds and repositories "
            "found by the MLCommons naming convention), adds them and runs just those."
        ),
    )
    def new_rounds_sensor(context: dg.SensorEvaluationContext):
        base, root = _where()
        pending = pending_rounds(
            context.instance, log=context.log.info, git_base=base, home=root, specs=specs
        )
        if not pending:
            return dg.SkipReason("no new rounds")
        requests, added = [], []
        for suite, versions in pending.items():
            added.append(partitions_def(suite).build_add_request(versions))
            requests += _round_requests(suite, versions, "new")
            context.log.info(f"{suite}: adding {versions}")
        return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=added)

    def refresh_schedule(suite: str, job) -> dg.ScheduleDefinition:
        @dg.schedule(
            name=f"refresh_{suite}_rounds",
            cron_schedule="0 6 * * *",
            job=job,
            default_status=dg.DefaultScheduleStatus(default_status().value),
            description=(
                f"Daily: re-materializes a {suite} round only if its remote ref moved (a patch)."
            ),
        )
        def _refresh(context: dg.ScheduleEvaluationContext):
            base, root = _where()
            requests = changed_round_requests(
                context.instance,
                [suite],
                context.scheduled_execution_time,
                git_base=base,
                home=root,
            )
            return requests or dg.SkipReason(f"no {suite} round changed upstream")

        return _refresh

    names = suites.names(specs)
    schedules = [refresh_schedule(suite, job) for suite, job in zip(names, jobs, strict=True)]
    return [new_rounds_sensor, *schedules]


def last_fetched_commit(instance: dg.DagsterInstance, suite: str, version: str) -> str | None:
    """The commit recorded by the latest materialization of `<suite>_raw` for a round."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(f"{suite}_raw"), asset_partitions=[version]),
        limit=1,
    ).records
    if not records:
        return None
    mat = records[0].asset_materialization
    value = mat.metadata.get("commit") if mat else None
    return getattr(value, "value", None)


def changed_round_requests(
    instance: dg.DagsterInstance,
    suites=SUITES,
    when=None,
    git_base: str | None = None,
    home: Path | None = None,
) -> list[dg.RunRequest]:
    """Run requests for partitions whose remote ref points elsewhere than last fetched."""
    stamp = when.strftime("%Y%m%d") if when else "now"
    git_base = git_base or settings.git_base()
    out = []
    for suite in suites:
        for v in instance.get_dynamic_partitions(partitions_def(suite).name):
            if local.is_local(v):  # a local tree: rebuilt by add-local, not by the schedule
                continue
            rnd = registry.round_for(suite, v, home)
            url = download.repo_url(git_base, rnd.owner, rnd.repo_name)
            try:
                head = download.resolve_ref(url, rnd.ref)
            except FetchError:
                continue  # unreachable today: keep what was built
            last = last_fetched_commit(instance, suite, v)
            if last is not None and last != head:
                out += _round_requests(suite, [v], f"refresh-{head[:12]}-{stamp}")
    return out


def automation_sensor(target: dg.AssetSelection) -> dg.AutomationConditionSensorDefinition:
    """Evaluates the downstream assets' conditions; starts running (the default one does not)."""
    return dg.AutomationConditionSensorDefinition(
        "mlperf_automation",
        target=target,
        default_status=default_status(),
        minimum_interval_seconds=settings.automation_interval_s(),
        description="Rebuilds metrics and figures after any round partition changes.",
        run_tags={"mlperf/stage": "downstream"},  # the run queue's limit (deploy/dagster.yaml)
    )


# Unpartitioned downstream: update after any round partition changes, even while a
# registered round is missing or failed (plain eager() would wait for every partition).
DOWNSTREAM = dg.AutomationCondition.eager().without(~dg.AutomationCondition.any_deps_missing())


def downstream_of(tables: Iterable[str]) -> dg.AutomationCondition:
    """DOWNSTREAM for an asset with nothing to show until one of the per-round `tables` has a
    round built (a figure then writes nothing, and what depends on it in the same run would
    be skipped): it is not requested before, as `mlperf-power build` skips it."""
    built = dg.AutomationCondition.any_deps_match(~dg.AutomationCondition.missing()).allow(
        dg.AssetSelection.assets(*tables)
    )
    return DOWNSTREAM & built.with_label("a round of its tables is built")
