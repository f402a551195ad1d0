"""`mlperf-power`: build rounds, render figures and discover new rounds from the shell."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence

from mlperf_power_dag import registry, settings

log = logging.getLogger("mlperf-power")

QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _prepare_instance():
    """The persistent Dagster instance (DAGSTER_HOME, default $MLPERF_POWER_HOME/dagster)."""
    home = os.environ.get("DAGSTER_HOME") or str(settings.dagster_home())
    os.makedirs(home, exist_ok=True)
    cfg = os.path.join(home, "dagster.yaml")
    if not os.path.exists(cfg):
        with open(cfg, "w") as fh:
            fh.write("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = home
    import dagster as dg

    return dg.DagsterInstance.get()


def _definitions():
    """Definitions for the current environment (not the ones made when the module loaded)."""
    from mlperf_power_dag.definitions import make_definitions

    return make_definitions()


def _failure_message(result) -> str:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            err = event.step_failure_data.error
            while (
                err is not None
                and err.cause is not None
                and "Error occurred while" in (err.message or "")
            ):
                err = err.cause
            return (err.message if err else "step failed").strip().splitlines()[0]
    return "run failed"


def discover(instance=None) -> dict[str, list[str]]:
    """Probe for new rounds, record them and add their partitions; returns what was added."""
    instance = instance or _prepare_instance()
    from mlperf_power_dag.defs.automation import pending_rounds
    from mlperf_power_dag.defs.partitions import PARTITIONS

    pending = pending_rounds(instance, log=log.info)
    for suite, versions in pending.items():
        instance.add_dynamic_partitions(PARTITIONS[suite].name, versions)
        log.info("%s: added partitions %s", suite, ", ".join(versions))
    return pending


def run_downstream(instance, keys: Sequence[str] | None = None) -> bool:
    """Materialize metrics, checks and figures (all, or the asset keys given)."""
    import dagster as dg

    from mlperf_power_dag.definitions import DOWNSTREAM_JOB

    defs = _definitions()

    job = defs.resolve_job_def(DOWNSTREAM_JOB)
    if keys:
        job = job.get_subset(asset_selection={dg.AssetKey(k) for k in keys})
    t0 = time.monotonic()
    what = ", ".join(keys) if keys else "metrics, checks and figures"
    log.info("building %s", what)
    result = job.execute_in_process(
        instance=instance, raise_on_error=False, run_config=QUIET_RUN_CONFIG
    )
    dt = time.monotonic() - t0
    if result.success:
        log.info("%s: done in %.1fs (run %s)", what, dt, result.run_id)
    else:
        log.error("%s: FAILED in %.1fs: %s", what, dt, _failure_message(result))
    return result.success


def build(suites: Sequence[str], version: str | None, find_new: bool = True) -> int:
    """Materialize the rounds of `suites` (all known rounds, or just `version`), then
    everything downstream."""
    instance = _prepare_instance()
    from mlperf_power_dag.definitions import round_job_name

    defs = _definitions()
    from mlperf_power_dag.defs.partitions import PARTITIONS

    if find_new and version is None:
        discover(instance)
    failed: list[str] = []
    for suite in suites:
        rounds = [r.version for r in registry.all_rounds(suite)]
        if version is not None:
            if version not in rounds:
                registry.round_for(suite, version)  # validates the key
            rounds = [version]
        part = PARTITIONS[suite].name
        new = [v for v in rounds if not instance.has_dynamic_partition(part, v)]
        if new:
            instance.add_dynamic_partitions(part, new)
            log.info("%s: added partitions %s", suite, ", ".join(new))
        job = defs.resolve_job_def(round_job_name(suite))
        for v in rounds:
            t0 = time.monotonic()
            log.info("%s %s: building", suite, v)
            result = job.execute_in_process(
                partition_key=v,
                instance=instance,
                raise_on_error=False,
                run_config=QUIET_RUN_CONFIG,
            )
            dt = time.monotonic() - t0
            if result.success:
                log.info("%s %s: done in %.1fs (run %s)", suite, v, dt, result.run_id)
            else:
                failed.append(f"{suite} {v}")
                log.error("%s %s: FAILED in %.1fs: %s", suite, v, dt, _failure_message(result))
    if not run_downstream(instance):
        failed.append("downstream")
    if failed:
        log.error("%d part(s) failed: %s", len(failed), ", ".join(failed))
        return 1
    log.info("all built; figures in %s", settings.figures_dir())
    return 0


def figure(keys: Sequence[str]) -> int:
    """Materialize the given figures, building any suite whose table was never built."""
    instance = _prepare_instance()
    import dagster as dg

    from mlperf_power_dag.defs.figures import FIGURES

    specs = {f.key: f for f in FIGURES}
    unknown = [k for k in keys if k not in specs]
    if unknown:
        log.error("unknown figure(s) %s; choose from %s", unknown, ", ".join(specs))
        return 2
    needed = sorted({t for k in keys for t in specs[k].tables})
    missing = [
        t
        for t in needed
        if instance.get_latest_materialization_event(dg.AssetKey(f"{t}_results")) is None
    ]
    if missing:
        log.info("tables never built: %s; building them first", ", ".join(missing))
        if build(missing, None) != 0:
            return 1
    return 0 if run_downstream(instance, keys) else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlperf-power", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="fetch and tabulate rounds, then rebuild figures")
    b.add_argument("--suite", choices=["inference", "tiny", "training"], action="append")
    b.add_argument("--round", dest="version", help="only this round, e.g. v2.1")
    b.add_argument("--no-discover", action="store_true", help="skip probing for new rounds")
    f = sub.add_parser("figure", help="materialize figures (e.g. fig5a) and missing upstream")
    f.add_argument("keys", nargs="+", metavar="KEY")
    sub.add_parser("discover", help="probe for rounds newer than the known ones, add them")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    log.setLevel(logging.INFO)
    for noisy in ("alembic", "dagster"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    if args.command == "build":
        suites = args.suite or ["inference", "tiny", "training"]
        return build(suites, args.version, find_new=not args.no_discover)
    if args.command == "figure":
        return figure(args.keys)
    if args.command == "discover":
        added = discover()
        for suite, versions in added.items():
            print(f"{suite}: {' '.join(versions)}")
        if not added:
            print("no new rounds")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
