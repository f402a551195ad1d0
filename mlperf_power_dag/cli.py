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


def build(suites: Sequence[str], version: str | None) -> int:
    """Materialize the rounds of `suites` (all known rounds, or just `version`)."""
    instance = _prepare_instance()
    from mlperf_power_dag.definitions import defs, round_job_name
    from mlperf_power_dag.defs.partitions import PARTITIONS

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
    if failed:
        log.error("%d round(s) failed: %s", len(failed), ", ".join(failed))
        return 1
    log.info("all rounds built")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlperf-power", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="fetch and tabulate rounds, then rebuild figures")
    b.add_argument("--suite", choices=["inference", "tiny", "training"], action="append")
    b.add_argument("--round", dest="version", help="only this round, e.g. v2.1")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if args.command == "build":
        suites = args.suite or ["inference", "tiny", "training"]
        return build(suites, args.version)
    return 2


if __name__ == "__main__":
    sys.exit(main())
