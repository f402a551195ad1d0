"""The production instance (deploy/dagster.yaml) on a real PostgreSQL server: discovery, one
round and the downstream stage go through the daemon's own path (sensor tick, queued run,
run worker process), and the runs, partitions and materializations end up in Postgres."""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.test_utils import create_test_daemon_workspace_context
from dagster._core.workspace.load_target import ModuleTarget
from dagster._daemon.asset_daemon import AssetDaemon
from dagster._daemon.run_coordinator.queued_run_coordinator_daemon import (
    QueuedRunCoordinatorDaemon,
)
from dagster._daemon.sensor import execute_sensor_iteration
from deploy_postgres import Postgres, find_pg_bin, start_postgres

from mlperf_power_dag import alerts, freshness, settings
from mlperf_power_dag.rounds import catalog
from mlperf_power_dag.suites.spec import partitions_def

REPO = Path(__file__).resolve().parents[1]
ROUND = ("tiny", "v0.5")  # the smallest real round in the mirror
TERMINAL = {dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED}


@pytest.fixture(scope="module")
def postgres(tmp_path_factory) -> Postgres:
    """A PostgreSQL server of its own on a free 127.0.0.1 port, stopped after the module."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip(
            "no PostgreSQL server binaries (initdb, pg_ctl) on PATH or in "
            "/usr/lib/postgresql/*/bin; install Debian's postgresql package"
        )
    with start_postgres(bin_dir) as pg:
        yield pg


@pytest.fixture
def service(postgres: Postgres, tmp_path: Path, monkeypatch, mirror_root: Path) -> Path:
    """DAGSTER_HOME holding deploy/dagster.yaml, the Postgres settings in the environment, a
    git host that has only the round under test (and the newest repository of each suite, so
    discovery can tell the host answers), an empty home."""
    db = postgres.create_database()
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copy(REPO / "deploy" / "dagster.yaml", dagster_home / "dagster.yaml")
    host = tmp_path / "github" / "mlcommons"
    host.mkdir(parents=True)
    repos = {f"{ROUND[0]}_results_{ROUND[1]}"} | {
        catalog.rounds(s)[-1].repo_name for s in catalog.SUITES
    }
    for repo in repos:
        (host / f"{repo}.git").symlink_to(mirror_root / "mlcommons" / f"{repo}.git")
    env = {
        "DAGSTER_HOME": str(dagster_home),
        "DAGSTER_PG_HOST": "127.0.0.1",
        "DAGSTER_PG_PORT": str(postgres.port),
        "DAGSTER_PG_USER": postgres.user,
        "DAGSTER_PG_PASSWORD": postgres.password,
        "DAGSTER_PG_DB": db,
        "DAGSTER_COMPUTE_LOG_DIR": str(tmp_path / "compute-logs"),
        "MLPERF_POWER_HOME": str(tmp_path / "home"),
        "MLPERF_POWER_GIT_BASE": f"file://{tmp_path / 'github'}",
        "MLPERF_POWER_WEBSERVER_URL": "http://127.0.0.1:3000",
        # steps in the run worker's process: one interpreter start-up per run, not per step
        "MLPERF_POWER_EXECUTOR": "in_process",
        "MLPERF_POWER_AUTOMATION_INTERVAL": "1",  # two automation ticks within seconds
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for key in ("MLPERF_POWER_DATASET", "MLPERF_POWER_AUTOMATION", "MLPERF_POWER_ALERT_LOG"):
        monkeypatch.delenv(key, raising=False)
    return dagster_home


def _wait(instance: dg.DagsterInstance, run_ids: list[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = instance.get_runs(filters=dg.RunsFilter(run_ids=run_ids))
        if len(runs) == len(run_ids) and all(r.status in TERMINAL for r in runs):
            return
        time.sleep(0.5)
    raise AssertionError(f"runs not finished after {timeout}s: {[r.status for r in runs]}")


def _dequeue(context, instance: dg.DagsterInstance, run_ids: list[str]) -> None:
    """What the daemon's run queue does: launch queued runs within the limits, then wait."""
    with QueuedRunCoordinatorDaemon(interval_seconds=1) as daemon:
        list(daemon.run_iteration(context))
    _wait(instance, run_ids)


def _sensor_tick(context) -> None:
    """One iteration of the daemon's sensor loop over every running sensor."""
    list(execute_sensor_iteration(context, logging.getLogger("test"), None, None))


def _automation_tick(context) -> None:
    """One iteration of the daemon that evaluates the automation condition sensor."""
    daemon = AssetDaemon(settings={}, pre_sensor_interval_seconds=0)
    daemon._run_iteration_impl(context, None, {}, {})


def _children() -> list[int]:
    """Processes this test process started that are still alive (code servers, run workers),
    apart from Python's multiprocessing resource tracker, which lives as long as the process
    that first used a process pool (an earlier test's in-process build)."""
    me, out = os.getpid(), []
    for proc in Path("/proc").iterdir():
        try:
            stat = (proc / "stat").read_text()
            cmdline = (proc / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if b"multiprocessing.resource_tracker" in cmdline:
            continue
        if proc.name.isdigit() and int(fields[1]) == me and fields[0] != "Z":
            out.append(int(proc.name))
    return out


def _sql(instance: dg.DagsterInstance, query: str) -> list[tuple]:
    import sqlalchemy as sa

    with instance.run_storage.connect() as conn:
        return [tuple(r) for r in conn.execute(sa.text(query))]


def test_service_path_on_postgres(service: Path):
    instance = dg.DagsterInstance.get()
    try:
        from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        # every catalog round but the one under test is known already: discovery adds just it
        for suite, part in ((s, partitions_def(s)) for s in catalog.SUITES):
            keys = [r.version for r in catalog.rounds(suite) if (suite, r.version) != ROUND]
            instance.add_dynamic_partitions(part.name, keys)
        target = ModuleTarget(
            module_name="mlperf_power_dag.definitions",
            attribute="defs",
            working_directory=str(REPO),
            location_name="mlperf_power_dag",
        )
        with create_test_daemon_workspace_context(target, instance) as context:
            t0 = time.monotonic()
            _automation_tick(context)  # the automation sensor starts watching
            _sensor_tick(context)  # discovery: adds tiny v0.5 and queues its run
            queued = instance.get_runs(filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED]))
            assert [(r.job_name, r.tags.get("dagster/partition")) for r in queued] == [
                ("tiny_round", "v0.5")
            ]
            assert queued[0].tags["mlperf/stage"] == "round"
            assert instance.has_dynamic_partition("tiny_rounds", "v0.5")
            assert freshness.last_discovery(settings.discovery_state_path()) is not None
            _dequeue(context, instance, [queued[0].run_id])
            round_run = instance.get_run_by_id(queued[0].run_id)
            assert round_run.status == dg.DagsterRunStatus.SUCCESS, round_run.status

            _automation_tick(context)  # the round is new: figures and report are requested
            downstream = instance.get_runs(
                filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.QUEUED])
            )
            assert len(downstream) == 1 and downstream[0].tags["mlperf/stage"] == "downstream"
            _dequeue(context, instance, [downstream[0].run_id])
            assert instance.get_run_by_id(downstream[0].run_id).status == (
                dg.DagsterRunStatus.SUCCESS
            )
            elapsed = time.monotonic() - t0
        deadline = time.monotonic() + 30
        while _children() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _children() == []  # the code server is gone before Postgres stops
        print(f"service path: {elapsed:.1f}s")

        # what is in Postgres, read back with SQL
        runs = dict(_sql(instance, "select run_id, status from runs"))
        assert runs == {round_run.run_id: "SUCCESS", downstream[0].run_id: "SUCCESS"}
        parts = _sql(
            instance,
            "select partition from dynamic_partitions where partitions_def_name = 'tiny_rounds'",
        )
        assert {p for (p,) in parts} == {r.version for r in catalog.rounds("tiny")}
        mats = _sql(
            instance,
            "select asset_key, partition, count(*) from event_logs "
            "where dagster_event_type = 'ASSET_MATERIALIZATION' group by 1, 2",
        )
        by_key = {(dg.AssetKey.from_db_string(k).to_user_string(), p): n for k, p, n in mats}
        for key in ("tiny_raw", "tiny_results", "tiny_problems"):
            assert by_key[(key, "v0.5")] == 1, by_key
        for key in ("fig5c", "fig2", "fig7", "report"):
            assert by_key[(key, None)] == 1, by_key
        assert ("fig1", None) not in by_key  # reads inference only: nothing to draw
        ticks = _sql(
            instance,
            "select count(*) from job_ticks where selector_id is not null",
        )
        assert ticks[0][0] >= 2
        report = (Path(os.environ["MLPERF_POWER_HOME"]) / "report" / "data.html").read_text()
        assert '<h2 id="freshness">Freshness</h2>' in report and "STALE" not in report
        assert alerts.read_log(settings.alert_log_path()) == []
    finally:
        instance.dispose()
