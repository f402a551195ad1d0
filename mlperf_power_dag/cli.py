"""`mlperf-power`: build rounds, render figures and discover new rounds from the shell."""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import logging.handlers
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass, field

from mlperf_power_dag import settings, suites
from mlperf_power_dag.rounds import registry
from mlperf_power_dag.server import LOG_FORMAT
from mlperf_power_dag.suites import SPECS, SuiteSpec

log = logging.getLogger("mlperf-power")

QUIET_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
VERBOSE_RUN_CONFIG = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
INTERRUPTED = 130


class Interrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: stop the build, start nothing new."""


def _on_sigterm(_signum, _frame):
    raise Interrupted()


def _prepare_instance():
    """The persistent Dagster instance (DAGSTER_HOME, default $MLPERF_POWER_HOME/dagster)."""
    home = str(settings.dagster_home())
    os.makedirs(home, exist_ok=True)
    cfg = os.path.join(home, "dagster.yaml")
    if not os.path.exists(cfg):
        with open(cfg, "w") as fh:
            fh.write("telemetry:\n  enabled: false\n")
    settings.set_env(settings.DAGSTER_HOME_VAR, home)
    import dagster as dg

    return dg.DagsterInstance.get()


_DEFS = None


def _definitions(specs: tuple[SuiteSpec, ...] = SPECS):
    """Definitions for the current environment (built once per process; again only when the
    suites or the set of configuring variables change, as their values are read when a run
    starts)."""
    global _DEFS
    from mlperf_power_dag.definitions import make_definitions

    key = (tuple(v is None for v in settings.snapshot()), tuple(s.name for s in specs))
    if _DEFS is None or _DEFS[0] != key:
        _DEFS = (key, make_definitions(specs=specs))
    return _DEFS[1]


def _run_config(progress: bool = False) -> dict:
    """Dagster's own console log only with --verbose (then with full traces)."""
    base = VERBOSE_RUN_CONFIG if settings.verbose() else QUIET_RUN_CONFIG
    if progress:
        return {"loggers": {**base["loggers"], "mlperf_progress": {}}}
    return base


def _failure_message(result) -> str:
    """The root cause of a failed run in one line (the whole trace with --verbose)."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            err = event.step_failure_data.error
            while (
                err is not None
                and err.cause is not None
                and "Error occurred while" in (err.message or "")
            ):
                err = err.cause
            line = (err.message if err else "step failed").strip().splitlines()[0]
            line = re.sub(r"^[\w.]+(Error|Exception): ", "", line)
            if settings.verbose() and err is not None:
                return line + "\n" + err.to_string()
            return line
    return "run failed"


def _was_interrupted(result) -> bool:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            err = event.step_failure_data.error
            while err is not None:
                if "Interrupt" in (err.cls_name or ""):
                    return True
                err = err.cause
    return False


def discover(instance=None, specs: tuple[SuiteSpec, ...] = SPECS) -> dict[str, list[str]]:
    """Probe for new rounds, record them and add their partitions; returns what was added."""
    instance = instance or _prepare_instance()
    from mlperf_power_dag.defs.automation import pending_rounds

    pending = pending_rounds(instance, log=log.info, specs=specs)
    for suite, versions in pending.items():
        instance.add_dynamic_partitions(suites.get(suite, specs).partitions.name, versions)
        log.info("%s: added partitions %s", suite, ", ".join(versions))
    return pending


# ---------------------------------------------------------------------------------------------
# rounds


@dataclass
class RoundOutcome:
    suite: str
    version: str
    status: str  # built, unchanged, failed
    seconds: float = 0.0
    message: str = ""


def _suite_tables(suite: str, specs: tuple[SuiteSpec, ...] = SPECS) -> dict:
    """The results and problems tables of a suite and their models, in that order."""
    return suites.get(suite, specs).tables()


def _heads(rounds: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The commit each round's remote ref points to now (None where it cannot be resolved);
    one `git ls-remote` per (repository, ref), however many rounds share it."""
    from mlperf_power_dag.rounds import download

    def remote(key: tuple[str, str]) -> tuple[str, str]:
        rnd = registry.round_for(*key)
        return download.repo_url(settings.git_base(), rnd.owner, rnd.repo_name), rnd.ref

    def resolve(url_ref: tuple[str, str]) -> str | None:
        try:
            return download.resolve_ref(*url_ref)
        except download.FetchError:
            return None

    remotes = {key: remote(key) for key in rounds}
    unique = sorted(set(remotes.values()))
    with ThreadPoolExecutor(max_workers=8) as pool:
        commits = dict(zip(unique, pool.map(resolve, unique), strict=True))
    return {key: commits[r] for key, r in remotes.items()}


def _plan(
    rounds: list[tuple[str, str]], force: bool, specs: tuple[SuiteSpec, ...] = SPECS
) -> tuple[list, list[RoundOutcome]]:
    """(rounds to build, rounds unchanged since their last build)."""
    from upath import UPath

    from mlperf_power_dag import buildstate

    if force:
        return [(key, "--force") for key in rounds], []
    base = UPath(settings.dataset_dir())
    todo, kept = [], []
    for key, head in _heads(rounds).items():
        state = buildstate.round_state(base, _suite_tables(key[0], specs), key[1], head)
        if state.unchanged:
            kept.append(RoundOutcome(*key, "unchanged", message=state.reason))
            log.info("%s %s: unchanged (%s), skipped", *key, state.reason)
        else:
            todo.append((key, state.reason))
    return todo, kept


@contextlib.contextmanager
def _own_sigterm():
    """Keep this command's SIGTERM handler across a Dagster run. When a run ends, Dagster maps
    SIGTERM to the SIGINT handler it found, and that is "ignore" in a process a shell started
    in the background: the command would no longer stop on SIGTERM."""
    handler = signal.getsignal(signal.SIGTERM)
    try:
        yield
    finally:
        if handler is not None and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, handler)


def _execute(job, instance, **kwargs) -> tuple[bool, str, str]:
    """(success, run id, cause of the failure) of one run of `job` in this process; raises
    Interrupted when Ctrl-C or SIGTERM stopped it."""
    with _own_sigterm():
        result = job.execute_in_process(instance=instance, raise_on_error=False, **kwargs)
    if result.success:
        return True, result.run_id, ""
    if _was_interrupted(result):
        raise Interrupted()
    return False, result.run_id, _failure_message(result)


def _error_line(e: Exception) -> str:
    """An error that escaped a worker's run, in one line."""
    return f"{type(e).__name__}: {e}".splitlines()[0]


def _run_round(suite: str, version: str, specs: tuple[SuiteSpec, ...] = SPECS) -> RoundOutcome:
    """Materialize one round partition in this process."""
    instance = _prepare_instance()
    job = _definitions(specs).resolve_job_def(suites.get(suite, specs).job_name)
    t0 = time.monotonic()
    ok, run_id, why = _execute(job, instance, partition_key=version, run_config=_run_config())
    dt = time.monotonic() - t0
    if ok:
        return RoundOutcome(suite, version, "built", dt, f"run {run_id}")
    return RoundOutcome(suite, version, "failed", dt, why)


def _run_round_worker(suite: str, version: str) -> RoundOutcome:
    """`_run_round` in a worker process: every error comes back as a failed outcome."""
    t0 = time.monotonic()
    try:
        return _run_round(suite, version)
    except Interrupted:
        raise
    except Exception as e:
        return RoundOutcome(suite, version, "failed", time.monotonic() - t0, _error_line(e))


def _worker_init(env: dict[str, str], records=None) -> None:
    settings.update_env(env)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides; it terminates us
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT, stream=sys.stderr)
    for noisy in ("alembic", "dagster"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log.setLevel(logging.INFO)  # the progress lines of the downstream assets it builds
    if records is not None:  # ... logged by the parent, as if they were its own
        log.handlers[:] = [logging.handlers.QueueHandler(records)]
        log.propagate = False


def _forward(records) -> None:
    """Hand the log records of the workers to this process's loggers until None comes."""
    while True:
        try:
            record = records.get()
        except (EOFError, OSError):
            return
        if record is None:
            return
        logging.getLogger(record.name).handle(record)


def _warm_worker() -> None:
    """Load the pipeline and the plotting library in a worker before it gets work."""
    import matplotlib.pyplot  # noqa: F401

    _definitions()


ABORT_GRACE_S = 5.0  # seconds a stopped worker has to end its run before it is killed


class Workers:
    """Up to `jobs` worker processes, started on first use and shared by the rounds and the
    downstream stage of one command; as a context manager, stopped at its end (at once when it
    ends with an error, Ctrl-C or SIGTERM)."""

    def __init__(self, jobs: int | None = None) -> None:
        self.jobs = max(1, jobs or os.cpu_count() or 1)  # default: the number of cores
        self._pool: ProcessPoolExecutor | None = None
        self._records = None  # the workers' log records, forwarded by a thread here
        self._forwarder: threading.Thread | None = None

    @property
    def parallel(self) -> bool:
        return self.jobs > 1

    def pool(self) -> ProcessPoolExecutor:
        if self._pool is not None and getattr(self._pool, "_broken", False):
            self.abort()  # a worker died: its work failed; later work gets fresh workers
        if self._pool is None:
            ctx = multiprocessing.get_context("spawn")
            self._records = ctx.Queue()
            self._forwarder = threading.Thread(
                target=_forward, args=(self._records,), name="worker-logs", daemon=True
            )
            self._forwarder.start()
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs, mp_context=ctx, initializer=_worker_init,
                initargs=(settings.worker_env(), self._records),
            )  # fmt: skip
        return self._pool

    def warm(self) -> None:
        """Start all workers but one now, so they have loaded the pipeline when work comes
        (this process takes one lane of the downstream stage itself)."""
        if self.parallel and self._pool is None:
            for _ in range(self.jobs - 1):
                self.pool().submit(_warm_worker)

    def abort(self, grace: float = ABORT_GRACE_S) -> None:
        """Stop every worker now (Ctrl-C, SIGTERM, an error in this process): SIGTERM, which
        lets a Dagster run in it end as interrupted, then SIGKILL for any worker still alive
        after `grace` seconds (one whose run took the signal and then waits on a queue lock
        that a killed worker held would otherwise keep this process from exiting)."""
        if self._pool is None:
            return
        procs = list(getattr(self._pool, "_processes", {}).values())
        for proc in procs:
            proc.terminate()
        deadline = time.monotonic() + grace
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None
        if self._records is not None:  # a killed worker may hold the queue's lock: no waiting
            self._records.cancel_join_thread()
        self._records = self._forwarder = None

    def close(self) -> None:
        """Let the workers finish, then stop them."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        if self._records is not None and self._forwarder is not None:
            self._records.put(None)
            self._forwarder.join(timeout=5)
            self._records.close()
        self._records = self._forwarder = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind, _value, _tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()


def _report(o: RoundOutcome) -> None:
    if o.status == "built":
        log.info("%s %s: done in %.1fs (%s)", o.suite, o.version, o.seconds, o.message)
    else:
        log.error("%s %s: FAILED in %.1fs: %s", o.suite, o.version, o.seconds, o.message)


def _cost_rank(key: tuple[str, str]) -> tuple:
    """Start the rounds that take longest first (the suites' build cost: training, then
    inference), newest first."""
    from mlperf_power_dag.rounds.catalog import version_tuple

    suite, version = key
    cost = {s.name: s.build_cost for s in SPECS}.get(suite, 3)
    return (cost, tuple(-p for p in version_tuple(version)))


def _build_rounds(
    todo: list[tuple[str, str]], workers: Workers, specs: tuple[SuiteSpec, ...] = SPECS
) -> list[RoundOutcome]:
    """Build rounds, `workers.jobs` at a time in worker processes (in this process when there
    is one job or one round, or for suites other than the pipeline's own, which a worker
    process would not know)."""
    out: list[RoundOutcome] = []
    if not workers.parallel or len(todo) <= 1 or tuple(specs) != SPECS:
        for suite, v in todo:
            log.info("%s %s: building", suite, v)
            o = _run_round(suite, v, specs)
            _report(o)
            out.append(o)
        return out
    pool = workers.pool()
    started: dict[Future, tuple[str, str, float]] = {}
    for suite, v in sorted(todo, key=_cost_rank):
        log.info("%s %s: queued", suite, v)
        started[pool.submit(_run_round_worker, suite, v)] = (suite, v, time.monotonic())
    pending = set(started)
    while pending:
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        for fut in done:
            suite, v, t0 = started[fut]
            try:
                o = fut.result()
            except Interrupted:
                raise
            except Exception as e:  # a worker died: that round failed, the others go on
                o = RoundOutcome(suite, v, "failed", time.monotonic() - t0, repr(e))
            _report(o)
            out.append(o)
    return out


# ---------------------------------------------------------------------------------------------
# downstream


def _stale_downstream(instance, keys: Sequence[str] | None, force: bool) -> tuple[list, list]:
    """(asset keys to build, (key, reason) of those skipped), without loading the pipeline."""
    import dagster as dg
    from upath import UPath

    from mlperf_power_dag import dataset
    from mlperf_power_dag.asset_inputs import (
        FIGURE_SUITES,
        REPORT_KEY,
        downstream_inputs,
        downstream_tables,
        fingerprint_args,
        unchanged_reason,
        with_inputs,
    )
    from mlperf_power_dag.buildstate import FINGERPRINT_KEY
    from mlperf_power_dag.defs.fingerprint import current_fingerprint

    inputs = downstream_tables()
    wanted = list(keys) if keys else list(inputs)
    asked = set(keys or ())
    if keys:  # an asset asked for by name is built with the out-of-date assets it reads
        wanted = with_inputs(keys)
    base = UPath(settings.dataset_dir())
    todo, skipped = [], []
    fingerprints: dict[tuple, str] = {}
    built = {
        t: bool(dataset.list_partitions(base, t)) for t in {t for k in wanted for t in inputs[k]}
    }
    for key in wanted:
        tables = inputs[key]
        if not any(built[t] for t in tables):
            skipped.append((key, f"no rows in {', '.join(tables)}"))
            continue
        if key in asked or (force and not keys):
            todo.append(key)
            continue
        outputs = (
            [settings.figures_dir() / f"{key}.{ext}" for ext in ("png", "svg", "csv", "json")]
            if key in FIGURE_SUITES
            else [settings.report_dir() / "index.html"]
            if key == REPORT_KEY
            else [dataset.single_path(base, key)]  # a table the assets after it read
        )
        event = instance.get_latest_materialization_event(dg.AssetKey(key))
        mat = event.asset_materialization if event else None
        last = mat.metadata.get(FINGERPRINT_KEY) if mat else None
        how = fingerprint_args(key)
        key_tables = (tuple(tables), tuple(sorted(how.items())))
        if key_tables not in fingerprints:  # many assets read the same tables
            fingerprints[key_tables] = current_fingerprint(tables, **how)
        if last is None or getattr(last, "value", None) != fingerprints[key_tables]:
            todo.append(key)
        elif not all(p.exists() for p in outputs):
            todo.append(key)
        else:
            skipped.append((key, unchanged_reason(key)))
    for key in with_inputs(wanted):  # inputs first: what reads a rebuilt asset is rebuilt
        kept = (key, unchanged_reason(key))
        if kept in skipped and any(i in todo for i in downstream_inputs(key)):
            skipped.remove(kept)
            todo.append(key)
    redrawn = any(k in FIGURE_SUITES for k in todo)
    if redrawn and REPORT_KEY in wanted and REPORT_KEY not in todo and not keys:
        todo.append(REPORT_KEY)  # a figure redrawn: the report shows it
        skipped = [(k, why) for k, why in skipped if k != REPORT_KEY]
    return todo, skipped


# Above this many dependents among the assets to build, an asset is built before the others
# rather than in the same run as its dependents.
_SHARED_INPUT = 3


def downstream_stages(
    todo: Sequence[str], lanes: int = 1, inputs: Mapping[str, Sequence[str]] | None = None
) -> list[list[list[str]]]:
    """The assets `todo` as stages run one after the other, each a list of at most `lanes`
    groups that may run at the same time (one Dagster run each): first the assets many others
    read, then the sets of assets connected by what they read, spread over the lanes by
    estimated cost, then the report, which reads all figures. One lane: a single group.
    `inputs` (asset -> the assets it reads) defaults to `asset_inputs.downstream_inputs`."""
    from mlperf_power_dag.asset_inputs import FIGURE_SUITES, REPORT_KEY, downstream_inputs

    if lanes <= 1:
        return [[list(todo)]] if todo else []  # one run: Dagster orders them
    body = [k for k in todo if k != REPORT_KEY]
    reads = (lambda k: inputs.get(k, ())) if inputs is not None else downstream_inputs
    deps = {k: [d for d in reads(k) if d in body] for k in body}
    readers: dict[str, int] = {k: 0 for k in body}
    for k in body:
        for d in deps[k]:
            readers[d] += 1
    first: set[str] = set()
    stack = [k for k in body if readers[k] > _SHARED_INPUT]
    while stack:  # the shared inputs and what they read
        k = stack.pop()
        if k not in first:
            first.add(k)
            stack += deps[k]
    rest = [k for k in body if k not in first]
    group = {k: k for k in rest}

    def root(k: str) -> str:
        while group[k] != k:
            k = group[k]
        return k

    for k in rest:
        for d in deps[k]:
            if d in group:
                group[root(k)] = root(d)
    groups: dict[str, list[str]] = {}
    for k in rest:
        groups.setdefault(root(k), []).append(k)

    def cost(g: list[str]) -> float:  # drawing a figure costs about twice a table
        return sum(1.0 if k in FIGURE_SUITES else 0.5 for k in g)

    bins: list[list[str]] = [[] for _ in range(max(1, lanes))]
    for g in sorted(groups.values(), key=lambda g: (-cost(g), g[0])):
        min(bins, key=cost).extend(g)  # the costliest group to the least loaded lane
    last = [[REPORT_KEY]] if REPORT_KEY in todo else []
    stages = [[[k for k in body if k in first]], bins, last]
    return [[g for g in stage if g] for stage in stages if any(stage)]


@dataclass
class GroupOutcome:
    keys: list[str]
    ok: bool
    message: str
    run_id: str | None = None


def _run_group(keys: Sequence[str], instance=None) -> GroupOutcome:
    """Materialize the downstream assets `keys` (with their checks) as one run here."""
    import dagster as dg

    from mlperf_power_dag.definitions import DOWNSTREAM_JOB

    instance = instance if instance is not None else _prepare_instance()
    job = _definitions().resolve_job_def(DOWNSTREAM_JOB)
    selected = {dg.AssetKey(k) for k in keys}
    # only the job's own checks: the service's freshness checks run on their own schedule
    checks = {c for c in job.asset_layer.asset_graph.asset_check_keys if c.asset_key in selected}
    job = job.get_subset(asset_selection=selected, asset_check_selection=checks)
    ok, run_id, why = _execute(job, instance, run_config=_run_config(progress=True))
    return GroupOutcome(list(keys), ok, why, run_id)


def _run_group_worker(keys: list[str]) -> GroupOutcome:
    """`_run_group` in a worker process: every error comes back as a failed outcome."""
    try:
        return _run_group(keys)
    except Interrupted:
        raise
    except Exception as e:
        return GroupOutcome(keys, False, _error_line(e))


def _run_stage(instance, groups: list[list[str]], workers: Workers | None) -> list[GroupOutcome]:
    """Run the groups of one stage: the first here, the others at the same time in worker
    processes when `workers` is given."""
    if workers is None or not workers.parallel or len(groups) == 1:
        return [_run_group(g, instance) for g in groups]
    pool = workers.pool()
    futures = {pool.submit(_run_group_worker, g): g for g in groups[1:]}
    out = [_run_group(groups[0], instance)]
    for fut in futures:
        try:
            out.append(fut.result())
        except Interrupted:
            raise
        except Exception as e:  # a worker died: its group failed
            out.append(GroupOutcome(futures[fut], False, repr(e)))
    return out


def run_downstream(
    instance,
    keys: Sequence[str] | None = None,
    force: bool = False,
    workers: Workers | None = None,
) -> tuple[bool, list[str]]:
    """Materialize the metrics, checks and figures that are out of date (or the asset keys
    given); returns (success, keys built). With `workers`, independent groups of assets are
    built at the same time in worker processes, one Dagster run per group."""
    todo, skipped = _stale_downstream(instance, keys, force)
    by_reason: dict[str, list[str]] = {}
    for key, why in skipped:
        by_reason.setdefault(why, []).append(key)
    for why, names in by_reason.items():
        log.info("skipped (%s): %s", why, ", ".join(names))
    if not todo:
        log.info("metrics, checks and figures: nothing to rebuild")
        return True, []
    t0 = time.monotonic()
    what = ", ".join(keys) if keys else "metrics, checks and figures"
    stages = downstream_stages(todo, workers.jobs if workers is not None else 1)
    lanes = max(len(stage) for stage in stages)
    parallel = workers is not None and workers.parallel and lanes > 1
    log.info(
        "building %s (%d assets%s)", what, len(todo),
        f", {min(lanes, workers.jobs)} at a time" if parallel and workers else "",
    )  # fmt: skip
    failed: list[GroupOutcome] = []
    runs: list[str] = []
    for i, stage in enumerate(stages):
        outcomes = _run_stage(instance, stage, workers if parallel else None)
        runs += [o.run_id for o in outcomes if o.run_id]
        failed += [o for o in outcomes if not o.ok]
        if failed:
            left = [k for later in stages[i + 1 :] for g in later for k in g]
            if left:
                log.error("not built, as what they read failed: %s", ", ".join(left))
            break
    dt = time.monotonic() - t0
    run_list = f"run {runs[0]}" if len(runs) == 1 else f"{len(runs)} runs"
    if not failed:
        log.info("%s: done in %.1fs (%s)", what, dt, run_list)
        return True, todo
    for o in failed:
        log.error("%s: FAILED in %.1fs: %s: %s", what, dt, ", ".join(o.keys), o.message)
    return False, todo


# ---------------------------------------------------------------------------------------------
# build


@dataclass
class BuildReport:
    rounds: list[RoundOutcome] = field(default_factory=list)
    downstream: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _summary(
    report: BuildReport, names: Sequence[str], specs: tuple[SuiteSpec, ...] = SPECS
) -> str:
    """The table printed at the end of a build."""
    from upath import UPath

    from mlperf_power_dag import dataset

    base = UPath(settings.dataset_dir())
    lines = [
        "suite      built unchanged failed   rows  power  skipped flagged",
    ]
    for suite in names:
        mine = [o for o in report.rounds if o.suite == suite]
        n = {s: sum(o.status == s for o in mine) for s in ("built", "unchanged", "failed")}
        tables = _suite_tables(suite, specs)
        models = list(tables.values())
        res, _ = dataset.read_partitions(base, f"{suite}_results", None, models[0])
        prob, _ = dataset.read_partitions(base, f"{suite}_problems", None, models[1])
        power_cols = [c for c in ("power_w", "energy_per_query_j", "energy_j") if c in res]
        power = int(res[power_cols].notna().any(axis=1).sum()) if power_cols else 0
        sev = prob["severity"].value_counts().to_dict() if len(prob) else {}
        lines.append(
            f"{suite:<10} {n['built']:>5} {n['unchanged']:>9} {n['failed']:>6} {len(res):>6} "
            f"{power:>6} {sev.get('skipped', 0):>8} {sev.get('flagged', 0):>7}"
        )
    lines.append(_crosscheck_line(base))
    figs = sorted(k for k in report.downstream if k.startswith("fig"))
    other = sorted(k for k in report.downstream if not k.startswith("fig") and k != "report")
    lines.append(f"figures written: {len(figs)} ({' '.join(figs) or 'none'}) in "
                 f"{settings.figures_dir()}")  # fmt: skip
    lines.append(f"tables rebuilt: {' '.join(other) or 'none'}")
    if "report" in report.downstream:
        lines.append(f"report: {settings.report_dir() / 'index.html'}")
    lines.append(f"dataset: {settings.dataset_dir()}; total {report.seconds:.1f}s")
    return "\n".join(lines)


def _crosscheck_line(base) -> str:
    """The build summary's cross-check line: inference power, then Tiny values, within 1%."""
    from mlperf_power_dag import crosscheck, dataset

    try:
        diff = dataset.read_single(base, "inference_crosscheck")
    except (FileNotFoundError, OSError):
        diff = None
    if diff is None:
        inference = "not built"
    elif diff.empty or "reference" not in diff:
        inference = "no overlapping power results"
    else:
        s = crosscheck.summarize(diff)
        inference = (
            f"{s['within_1pct']}/{s['matched']} matched power results within 1% of "
            "MLCommons' published values"
        )
    return f"cross-check: {inference}{_tiny_crosscheck_part(base)}"


def _tiny_crosscheck_part(base) -> str:
    """`; tiny: ...` with the Tiny cross-check's energies and throughputs within 1%, if built."""
    from mlperf_power_dag import dataset, tiny_crosscheck

    try:
        cmp = dataset.read_single(base, "tiny_crosscheck")
    except (FileNotFoundError, OSError):
        return ""
    if cmp.empty or "reference" not in cmp:
        return ""
    s = tiny_crosscheck.agreement(cmp).sum(numeric_only=True)
    return (
        f"; tiny: {s['energy_within']}/{s['energy_compared']} energies and "
        f"{s['throughput_within']}/{s['throughput_compared']} throughputs within 1%"
    )


def build(
    names: Sequence[str],
    version: str | None,
    find_new: bool = True,
    force: bool = False,
    jobs: int | None = None,
    specs: tuple[SuiteSpec, ...] = SPECS,
) -> int:
    """Materialize the rounds of the suites `names` that changed (all known rounds, or just
    `version`), then everything downstream that is out of date. Returns the exit code."""
    t_start = time.monotonic()
    instance = _prepare_instance()
    from mlperf_power_dag import warehouse

    warehouse.migrate_legacy(settings.warehouse_path(), say=log.warning)
    if find_new and version is None:
        discover(instance, specs)
    rounds: list[tuple[str, str]] = []
    for suite in names:
        versions = [r.version for r in registry.all_rounds(suite)]
        if version is not None:
            if version not in versions:
                registry.round_for(suite, version)  # validates the key
            versions = [version]
        part = suites.get(suite, specs).partitions.name
        new = [v for v in versions if not instance.has_dynamic_partition(part, v)]
        if new:
            instance.add_dynamic_partitions(part, new)
            log.info("%s: added partitions %s", suite, ", ".join(new))
        rounds += [(suite, v) for v in versions]
    report = BuildReport()
    todo, report.rounds = _plan(rounds, force, specs)
    for (suite, v), why in todo:
        log.info("%s %s: to build (%s)", suite, v, why)
    with Workers(jobs) as workers:
        if len(todo) == 1 and tuple(specs) == SPECS:
            workers.warm()  # they load the pipeline while the round is built here
        report.rounds += _build_rounds([k for k, _ in todo], workers, specs)
        failed = [f"{o.suite} {o.version}" for o in report.rounds if o.status == "failed"]
        ok, report.downstream = run_downstream(
            instance, force=force, workers=workers if tuple(specs) == SPECS else None
        )
    if not ok:
        failed.append("downstream")
    local = settings.local_dataset_dir()
    if local is not None:
        try:
            models = suites.table_models(specs)
            warehouse.refresh_views(settings.warehouse_path(), local, models)
        except warehouse.WarehouseBusy as e:
            log.warning("DuckDB views not refreshed: %s", e)
    report.seconds = time.monotonic() - t_start
    print(_summary(report, names, specs), flush=True)
    if failed:
        log.error("%d part(s) failed: %s", len(failed), ", ".join(failed))
        return 1
    log.info("all built; figures in %s", settings.figures_dir())
    return 0


def figure(keys: Sequence[str], jobs: int | None = None) -> int:
    """Materialize the given figures, building any suite whose table was never built; `jobs`
    Dagster runs at a time (default: the number of cores)."""
    from mlperf_power_dag.asset_inputs import FIGURE_SUITES

    unknown = [k for k in keys if k not in FIGURE_SUITES]
    if unknown:
        log.error("unknown figure(s) %s; choose from %s", unknown, ", ".join(FIGURE_SUITES))
        return 2
    instance = _prepare_instance()
    if not _build_missing(sorted({t for k in keys for t in FIGURE_SUITES[k]})):
        return 1
    with Workers(jobs) as workers:
        ok, _ = run_downstream(instance, keys, workers=workers)
    return 0 if ok else 1


def serve() -> int:
    """Keep a warm process that runs the `figure` commands of this home until stopped."""
    from mlperf_power_dag import server

    t0 = time.monotonic()
    _prepare_instance()
    _definitions()
    _warm_drawing()
    log.info("warm in %.1fs", time.monotonic() - t0)
    try:
        return server.serve(settings.home(), _served)
    except server.ServerError as err:
        log.error("%s", err)
        return 1


def _warm_drawing() -> None:
    """Draw and save a throwaway figure in the project style, in memory: the fonts and the
    PNG and SVG writers a first figure would load are then loaded."""
    import matplotlib.pyplot as plt

    from mlperf_power_dag.figures import common

    with plt.rc_context(common.style()):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([1, 10], [1, 10], marker="o", label="$x$")
        ax.set_yscale("log")
        ax.set_title("warm")
        ax.legend()
        for fmt in ("png", "svg"):
            fig.savefig(io.BytesIO(), format=fmt, dpi=common.DPI, bbox_inches="tight")
        plt.close(fig)


def _served(argv: Sequence[str]) -> int:
    """One command a client handed to `mlperf-power serve`, run in this process."""
    usage = io.StringIO()
    try:
        with contextlib.redirect_stderr(usage):
            args = build_parser().parse_args(argv)
    except SystemExit as stop:
        for line in usage.getvalue().strip().splitlines():
            log.error("%s", line)
        return int(stop.code or 0)
    if args.verbose:
        settings.set_verbose(True)
    return figure(args.keys, jobs=1)  # one run here beats cold worker processes


def _build_missing(names: Sequence[str]) -> bool:
    """Build the suites whose results table has no round in the dataset; False on failure."""
    from upath import UPath

    from mlperf_power_dag import dataset

    base = UPath(settings.dataset_dir())
    missing = [s for s in names if not dataset.list_partitions(base, f"{s}_results")]
    if not missing:
        return True
    log.info("tables never built: %s; building them first", ", ".join(missing))
    return build(missing, None) == 0


def report() -> int:
    """Build the report site (and the figures and tables it needs), print its index.html."""

    from mlperf_power_dag.asset_inputs import REPORT_KEY

    instance = _prepare_instance()
    if not _build_missing(suites.names()):
        return 1
    with Workers() as workers:
        ok, built = run_downstream(instance, workers=workers)
    if ok and REPORT_KEY not in built:
        ok, _ = run_downstream(instance, [REPORT_KEY])
    if not ok:
        return 1
    print(settings.report_dir() / "index.html")
    return 0


def _compare_local(instance, name: str, show: bool = True) -> bool:
    """Materialize `local_comparison` and print the rows of local submission `name`."""
    from mlperf_power_dag import cli_local
    from mlperf_power_dag.definitions import LOCAL_JOB
    from mlperf_power_dag.defs.local import LOCAL_COMPARISON, figure_key

    job = _definitions().resolve_job_def(LOCAL_JOB)
    with _own_sigterm():
        result = job.execute_in_process(
            instance=instance, raise_on_error=False, run_config=_run_config(progress=True)
        )
    if not result.success:
        log.error("%s: FAILED: %s", LOCAL_COMPARISON, _failure_message(result))
        return False
    if not show:
        return True
    print(cli_local.format_comparison(cli_local.comparison_table(name)), flush=True)
    figure_png = settings.local_dir() / "figures" / f"{figure_key(name)}.png"
    if figure_png.exists():
        print(f"figure: {figure_png}")
    return True


def add_local(path: str, name: str, suite: str, rules: str | None) -> int:
    """Register a local submission tree as partition local-<name>, read it, compare it."""
    from pathlib import Path

    from mlperf_power_dag import cli_local
    from mlperf_power_dag.local import LocalError
    from mlperf_power_dag.suites.spec import partitions_def

    try:
        sub = cli_local.register(Path(path), name, suite, rules)
    except LocalError as e:
        log.error("%s", e)
        return 2
    instance = _prepare_instance()
    instance.add_dynamic_partitions(partitions_def(suite).name, [sub.key])
    log.info("%s %s: %s (read with the %s rules)", suite, sub.key, sub.path, sub.rules)
    outcome = _run_round(suite, sub.key)
    if outcome.status != "built":
        log.error("%s %s: %s", suite, sub.key, outcome.message)
        return 1
    from upath import UPath

    from mlperf_power_dag import dataset

    base = UPath(settings.local_dir())
    problems = dataset.read_partition(base, f"{suite}_problems", sub.key, _problems_model())
    rows = dataset.read_partition(base, f"{suite}_results", sub.key, _local_model(suite))
    counts = problems["severity"].value_counts().to_dict() if len(problems) else {}
    print(
        f"{sub.key}: {len(rows)} results, {counts.get('skipped', 0)} skipped, "
        f"{counts.get('flagged', 0)} flagged (see {base / f'{suite}_problems'})",
        flush=True,
    )
    if suite != "inference":
        log.info("comparison with published results: inference only")
        return 0
    return 0 if _compare_local(instance, sub.name) else 1


def _problems_model():
    from mlperf_power_dag.schemas import Problems

    return Problems


def _local_model(suite: str):
    from mlperf_power_dag import suites
    from mlperf_power_dag.schemas import LOCAL_MODELS

    return LOCAL_MODELS[suites.get(suite).results]


def remove_local(name: str) -> int:
    """Drop a local submission's partition, rows and figure."""
    from mlperf_power_dag import cli_local
    from mlperf_power_dag.local import LocalError
    from mlperf_power_dag.suites.spec import partitions_def

    try:
        sub = cli_local.forget(name)
    except LocalError as e:
        log.error("%s", e)
        return 2
    instance = _prepare_instance()
    part = partitions_def(sub.suite).name
    if instance.has_dynamic_partition(part, sub.key):
        instance.delete_dynamic_partition(part, sub.key)
    log.info("%s %s removed (partition, rows, figure)", sub.suite, sub.key)
    if sub.suite == "inference":
        _compare_local(instance, name, show=False)  # its rows leave the comparison table
    return 0


def compare(name: str) -> int:
    """Print where local submission `name` lands among the published results."""
    from mlperf_power_dag import local, settings

    try:
        sub = local.lookup(settings.home(), local.PREFIX + name)
    except local.LocalError as e:
        log.error("%s", e)
        return 2
    if sub.suite != "inference":
        log.error("%s: comparison with published results is for inference submissions", name)
        return 2
    return 0 if _compare_local(_prepare_instance(), name) else 1


def build_parser(specs: tuple[SuiteSpec, ...] = SPECS) -> argparse.ArgumentParser:
    """The command line, with one `--suite` choice per suite spec."""
    parser = argparse.ArgumentParser(prog="mlperf-power", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--verbose", action="store_true", help="full traces of failures and Dagster's own log"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser(
        "build", parents=[common], help="fetch and tabulate rounds, then rebuild figures"
    )
    b.add_argument("--suite", choices=suites.names(specs), action="append")
    b.add_argument("--round", dest="version", help="only this round, e.g. v2.1")
    b.add_argument("--no-discover", action="store_true", help="skip probing for new rounds")
    b.add_argument("--force", action="store_true", help="rebuild even what is unchanged")
    b.add_argument(
        "--jobs", type=int, default=None, metavar="N",
        help="rounds built at once in worker processes (default: number of cores)",
    )  # fmt: skip
    f = sub.add_parser(
        "figure", parents=[common], help="materialize figures (e.g. fig5a) and missing upstream"
    )
    f.add_argument("keys", nargs="+", metavar="KEY")
    f.add_argument(
        "--no-server", action="store_true",
        help="run here even when `mlperf-power serve` runs for this home",
    )  # fmt: skip
    sub.add_parser(
        "serve", parents=[common],
        help="keep a warm process that draws the figures asked with `figure` (Ctrl-C stops)",
    )  # fmt: skip
    sub.add_parser(
        "report",
        parents=[common],
        help="build the static report site (figures, data pages); prints its index.html",
    )
    sub.add_parser(
        "discover", parents=[common], help="probe for rounds newer than the known ones, add them"
    )
    a = sub.add_parser(
        "add-local", parents=[common],
        help="register a local (unpublished) submission tree, read it, compare it",
    )  # fmt: skip
    a.add_argument("path", help="folder (or git repository) laid out like a results repository")
    a.add_argument("--name", help="its name (partition local-<name>); default: the folder name")
    a.add_argument("--suite", choices=suites.names(specs), default="inference")
    a.add_argument("--rules", metavar="VERSION", help="round whose reader rules apply "
                   "(default: the newest round read from a submission tree)")  # fmt: skip
    r = sub.add_parser("remove-local", parents=[common], help="drop a local submission")
    r.add_argument("name")
    c = sub.add_parser(
        "compare", parents=[common], help="where a local submission lands among published results"
    )
    c.add_argument("name")
    return parser


def main(argv: Sequence[str] | None = None, specs: tuple[SuiteSpec, ...] = SPECS) -> int:
    """Run one `mlperf-power` command over the suites `specs`; returns the exit code."""
    args = build_parser(specs).parse_args(argv)
    if args.verbose:
        settings.set_verbose(True)
    logging.basicConfig(
        level=logging.INFO,
        format=LOG_FORMAT,
        stream=sys.stderr,
    )
    log.setLevel(logging.INFO)
    for noisy in ("alembic", "dagster"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        if args.command == "build":
            return build(
                args.suite or suites.names(specs), args.version, find_new=not args.no_discover,
                force=args.force, jobs=args.jobs, specs=specs,
            )  # fmt: skip
        if args.command == "figure":
            return figure(args.keys)
        if args.command == "report":
            return report()
        if args.command == "serve":
            return serve()
        if args.command == "add-local":
            name = args.name or os.path.basename(os.path.abspath(args.path)).lower()
            return add_local(args.path, name, args.suite, args.rules)
        if args.command == "remove-local":
            return remove_local(args.name)
        if args.command == "compare":
            return compare(args.name)
        if args.command == "discover":
            added = discover(specs=specs)
            for suite, versions in added.items():
                print(f"{suite}: {' '.join(versions)}")
            if not added:
                print("no new rounds")
            return 0
        return 2
    except KeyboardInterrupt:
        log.error("interrupted: stopped; rounds already written are kept, nothing half-written")
        return INTERRUPTED
    finally:
        signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
