"""The run-failure sensor: one structured alert per failed run of this code location."""

from __future__ import annotations

import dagster as dg

from mlperf_power_dag import alerts, settings

ALERT_SENSOR = "run_failure_alerts"


def _root(error):
    """The innermost cause of a serialized error (the user's exception, not Dagster's wrapper)."""
    while error is not None and getattr(error, "cause", None) is not None:
        error = error.cause
    return error


def _consecutive_failures(instance: dg.DagsterInstance, run: dg.DagsterRun) -> int:
    """Failed runs of the same job and partition in a row, newest first, this one included."""
    tags = {}
    if run.tags.get("dagster/partition"):
        tags["dagster/partition"] = run.tags["dagster/partition"]
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=run.job_name,
            tags=tags,
            statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE],
        ),
        limit=20,
    )
    return max(1, alerts.consecutive(r.status == dg.DagsterRunStatus.FAILURE for r in runs))


def alert_for(context: dg.RunFailureSensorContext) -> alerts.Alert:
    """The alert for the failed run in `context`: round, first failed step, root error, link."""
    run = context.dagster_run
    step, error = None, None
    for event in context.get_step_failure_events():
        step = event.step_key
        error = _root(getattr(event.event_specific_data, "error", None))
        break
    if error is not None:
        line = alerts.error_line(error.cls_name, error.message)
    else:  # the run failed outside any step (worker lost, launch error, ...)
        failure = context.failure_event
        root = _root(getattr(failure.event_specific_data, "error", None))
        line = (
            alerts.error_line(root.cls_name, root.message)
            if root is not None
            else alerts.first_line(failure.message)
        )
    return alerts.Alert(
        run_id=run.run_id,
        job=run.job_name,
        suite=alerts.suite_of(run.job_name, dict(run.tags)),
        round=run.tags.get("dagster/partition"),
        step=step,
        error=line or "unknown error",
        run_url=alerts.run_link(settings.webserver_url(), run.run_id),
        failed_at=alerts.now_iso(),
        consecutive_failures=_consecutive_failures(context.instance, run),
    )


@dg.run_failure_sensor(
    name=ALERT_SENSOR,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "One alert per failed run of this code location (round, step, first line of the error, "
        "run link), appended to $MLPERF_POWER_ALERT_LOG (default $MLPERF_POWER_HOME/alerts.log) "
        "and POSTed to $MLPERF_POWER_ALERT_WEBHOOK when set."
    ),
)
def run_failure_alerts(context: dg.RunFailureSensorContext) -> None:
    alert = alert_for(context)
    record = alerts.deliver(alert, settings.alert_log_path(), settings.alert_webhook_url())
    context.log.warning(f"alert: {alert.summary()}")
    if str(record.get("webhook", "")).startswith("failed"):
        context.log.error(f"alert not delivered to the webhook: {record['webhook']}")
