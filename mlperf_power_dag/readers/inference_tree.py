"""Read one MLPerf Inference round from a checkout of its submission tree into a RoundTable.

Layout: `<division>/<submitter>/systems/<system>.json` and
`<division>/<submitter>/results/<system>/<benchmark>/<scenario>/performance/run_1/` holding
`mlperf_log_summary.txt`, `mlperf_log_detail.txt` and, for power results, the PTD trace
`spl.txt`. Numbers follow the MLCommons submission checker of the round (see
`parsers.loadgen` and `parsers.spl`).

Performance comes from the detail log when there is one (as the checker reads it) and
otherwise from the summary, which prints some values rounded (Server and inferred Offline
throughput to 2 decimals); the offline mirror keeps detail logs only for power results.

Decisions, each recorded in the problem log:

- A result whose system has no usable category (v0.5 has no `system_type` at all; missing,
  unreadable or oddly spelled system JSON) gets one inferred from the scenarios its system
  submitted: Server only -> datacenter, SingleStream/MultiStream only -> edge, both or
  Offline only -> both categories (`category_inferred`, flagged once per system).
- Scenario folders are matched case-insensitively (`offline`, `Multi Stream`); anything
  else, and result folders at another depth, are skipped (`unknown_scenario`,
  `unexpected_layout`).
- Invalid results are kept with `valid=False` (`invalid_result`); unknown benchmarks are
  kept (`unknown_benchmark`).
- Two folders that are the same result (e.g. `Offline` and `offline`, `resnet` and
  `resnet50`): the one with power, then valid, then spelled canonically, then first by
  path is kept; the others are skipped (`duplicate_result`).
- A power run (detail log with `power_begin`, or an `spl.txt`) whose power cannot be
  computed keeps its row without power and is recorded as skipped with the reason
  (`missing_trace`, `empty_trace`, `missing_detail`, `no_samples_in_window`, ...). Every
  per-result problem has the result folder as `source_path`.
"""

from __future__ import annotations

import os
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mlperf_power_dag.benchmark_ids import CATEGORIES, canonical_benchmark
from mlperf_power_dag.parsers.files import REFUSED_KINDS, FileRefused, RoundFiles, check_lines
from mlperf_power_dag.parsers.loadgen import (
    LoadgenResult,
    MLLog,
    Summary,
    canonical_scenario,
    loadgen_result,
    parse_mllog,
    parse_summary,
)
from mlperf_power_dag.parsers.spl import (
    PowerError,
    PowerMetric,
    Trace,
    drops_nonpositive,
    parse_trace,
    parse_trace_stream,
    parse_traces,
    power_metric,
)
from mlperf_power_dag.parsers.systems import SystemInfo, read_system
from mlperf_power_dag.schemas import InferenceResults
from mlperf_power_dag.tables import ProblemLog, RoundTable, finish

SUMMARY, DETAIL, TRACE = "mlperf_log_summary.txt", "mlperf_log_detail.txt", "spl.txt"

SPARSE_PATTERNS: list[str] = [
    "/*/*/systems/*.json",
    f"/*/*/results/**/performance/run_1/{SUMMARY}",
    f"/*/*/results/**/performance/run_1/{DETAIL}",
    f"/*/*/results/**/performance/run_1/{TRACE}",
]

# Problem kinds for a power run whose power could not be computed (the row stays, unpowered).
POWER_PROBLEM_KINDS = (
    frozenset(
        {
            "missing_trace",
            "empty_trace",
            "unreadable_trace",
            "missing_detail",
            "missing_power_window",
            "bad_power_window",
            "no_samples_in_window",
            "nonpositive_power",
            "missing_query_count",
        }
    )
    | REFUSED_KINDS
)  # a trace not read: a link, outside the round, over a cap
PROGRESS_EVERY = 500
# spl.txt bytes parsed together in one batch; a larger file is parsed alone, in chunks
TRACE_BATCH_BYTES = 4 << 20
# bytes of recently parsed files kept to recognize copies
RECENT_BYTES = 32 << 20


@dataclass
class _Result:
    """One result folder found in the tree."""

    rel: str  # <division>/<submitter>/results/<system>/<benchmark>/<scenario>
    division: str
    submitter: str
    system: str
    bench_folder: str
    scen_folder: str
    run_dir: str
    files: frozenset[str]

    @property
    def system_key(self) -> tuple[str, str, str]:
        return self.division, self.submitter, self.system


def _walk(top: str, links: list[str] | None = None) -> Iterator[tuple[str, list[str]]]:
    """(folder, file names) of `top` and every folder below it, as `os.walk` finds them.

    Symlinked folders are not entered (their paths go to `links`); unreadable folders are
    left out. In no set order.
    """
    stack = [top]
    while stack:
        folder = stack.pop()
        files: list[str] = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if not is_dir:
                        files.append(entry.name)
                    elif not entry.is_symlink():
                        stack.append(entry.path)
                    elif links is not None:
                        links.append(entry.path)
        except OSError:
            continue
        yield folder, files


def find_results(root: Path, links: list[str] | None = None) -> tuple[list[_Result], list[str]]:
    """Result folders under `root` (sorted) and run folders at an unexpected depth.

    Symlinked folders below `results` are not entered; their paths in the round go to
    `links` (sorted).
    """
    found: list[_Result] = []
    odd: list[str] = []
    seen_links: list[str] = []
    run_tail = os.sep + os.path.join("performance", "run_1")
    for results in sorted(root.glob("*/*/results")):
        if not results.is_dir() or results.parent.parent.name.startswith("."):
            continue
        division, submitter = results.parent.parent.name, results.parent.name
        top = str(results)
        for dirpath, filenames in _walk(top, seen_links):
            if not dirpath.endswith(run_tail):
                continue
            files = frozenset(f for f in filenames if f in (SUMMARY, DETAIL, TRACE))
            if not files:
                continue
            middle = [p for p in dirpath[len(top) : -len(run_tail)].split(os.sep) if p]
            rel = "/".join((division, submitter, "results", *middle))
            if len(middle) != 3:
                odd.append(rel)
                continue
            system, bench, scen = middle
            found.append(_Result(rel, division, submitter, system, bench, scen, dirpath, files))
    found.sort(key=lambda r: r.rel)
    if links is not None:
        links += sorted(Path(p).relative_to(root).as_posix() for p in seen_links)
    return found, sorted(odd)


def infer_categories(scenarios: set[str]) -> tuple[str, ...]:
    """Category from the scenarios a system submitted (see the module docstring)."""
    dc = "Server" in scenarios
    edge = bool(scenarios & {"SingleStream", "MultiStream"})
    if dc and not edge:
        return ("datacenter",)
    if edge and not dc:
        return ("edge",)
    return CATEGORIES


_Parse = Summary | MLLog | Trace | Exception | None  # what a file parsed to (None: blank)


class _Parsed:
    """Files parsed lately in this round, by content: folders next to each other often hold
    copies of one run (half of the files of v2.0-v3.0). Keeps about `limit` bytes."""

    def __init__(self, limit: int = RECENT_BYTES):
        self._items: OrderedDict[tuple[str, bytes], _Parse] = OrderedDict()
        self._bytes = 0
        self._limit = limit

    def get(self, name: str, data: bytes) -> _Parse:
        """What the file `name` with these bytes parsed to; KeyError if not seen lately."""
        value = self._items[(name, data)]
        self._items.move_to_end((name, data))
        return value

    def put(self, name: str, data: bytes, value: _Parse) -> None:
        if (name, data) not in self._items:
            self._bytes += len(data)
        self._items[(name, data)] = value
        while self._bytes > self._limit and len(self._items) > 1:
            (_, old), _ = self._items.popitem(last=False)
            self._bytes -= len(old)

    def log(self, name: str, data: bytes) -> _Parse:
        """The parsed summary or detail log with these bytes (None if it is blank)."""
        try:
            return self.get(name, data)
        except KeyError:
            pass
        text = data.decode("utf-8", errors="replace")
        log: _Parse = None
        if text.strip():
            log = parse_summary(text) if name == SUMMARY else parse_mllog(text)
        self.put(name, data, log)
        return log


def _systems(
    files: RoundFiles, results: list[_Result], problems: ProblemLog
) -> dict[tuple[str, str, str], tuple[SystemInfo, tuple[str, ...]]]:
    """System info and categories of every system that has results."""
    scenarios: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for r in results:
        sc = canonical_scenario(r.scen_folder)
        if sc:
            scenarios[r.system_key].add(sc)
    out = {}
    for key in sorted(scenarios):
        division, submitter, system = key
        rel = f"{division}/{submitter}/systems/{system}.json"
        path = files.root / rel
        if not os.path.lexists(path):
            problems.flag(rel, "missing_system_json", f"{rel} does not exist")
            info = SystemInfo()
        else:
            try:
                info = read_system(path, files.read(path, "system_json"))
            except FileRefused as exc:
                problems.flag(rel, exc.kind, str(exc))
                info = SystemInfo()
            except (OSError, ValueError) as exc:
                problems.flag(rel, "unreadable_system_json", f"{rel}: {exc}")
                info = SystemInfo()
            for kind, message in info.issues:
                problems.flag(rel, kind, message.replace(path.name, rel, 1))
        cats = info.categories
        if not cats:
            cats = infer_categories(scenarios[key])
            problems.flag(
                rel,
                "category_inferred",
                f"{rel}: no usable system_type; {'+'.join(cats)} inferred from scenarios "
                f"{', '.join(sorted(scenarios[key]))}",
            )
        out[key] = (info, cats)
    return out


@dataclass
class _Read:
    """What was read from one result folder."""

    res: _Result
    scenario: str
    benchmark: str
    known: bool
    lg: LoadgenResult
    power: PowerMetric | None
    power_run: bool


def _read_loadgen(
    r: _Result, version: str, problems: ProblemLog, parsed: _Parsed, files: RoundFiles
) -> tuple[_Read | None, MLLog | None]:
    """Loadgen result of one folder, and its detail log; None (with a problem) if skipped."""
    rel = r.rel
    scenario = canonical_scenario(r.scen_folder)
    if scenario is None:
        problems.skip(rel, "unknown_scenario", f"{rel}: scenario folder {r.scen_folder!r}")
        return None, None
    benchmark, known = canonical_benchmark(r.bench_folder)

    summary: Summary | None = None
    detail: MLLog | None = None
    for name in (SUMMARY, DETAIL):
        if name not in r.files:
            continue
        kind = "loadgen_summary" if name == SUMMARY else "loadgen_detail"
        try:
            data = files.read(os.path.join(r.run_dir, name), kind)
        except FileRefused as exc:
            problems.flag(rel, exc.kind, str(exc))
            continue
        except OSError as exc:
            problems.flag(rel, "unreadable_file", f"{rel}/performance/run_1/{name}: {exc}")
            continue
        log = parsed.log(name, data)
        if log is None:
            problems.flag(rel, "empty_file", f"{rel}/performance/run_1/{name} is empty")
            continue
        if isinstance(log, Summary):
            summary = log
        else:
            detail = log
            if detail.malformed:
                problems.flag(
                    rel,
                    "malformed_mllog",
                    f"{rel}/performance/run_1/{name}: {detail.malformed} malformed :::MLLOG "
                    "line(s) skipped",
                )
            if not detail.keys():
                detail = None
    if summary is not None and summary.scenario is None and detail is None:
        problems.skip(rel, "no_loadgen_log", f"{rel}: {SUMMARY} names no scenario")
        return None, None
    if summary is None and (detail is None or "effective_scenario" not in detail):
        problems.skip(rel, "no_loadgen_log", f"{rel}: no readable loadgen summary or detail log")
        return None, None
    lg = loadgen_result(scenario, version, benchmark, detail, summary)
    for kind, message in lg.notes:
        problems.flag(rel, kind, f"{rel}: {message}")
    if not known:
        problems.flag(rel, "unknown_benchmark", f"{rel}: benchmark {r.bench_folder!r} kept as is")
    if not lg.valid:
        problems.flag(rel, "invalid_result", f"{rel}: loadgen result is not VALID")

    power_run = TRACE in r.files or (detail is not None and "power_begin" in detail)
    return _Read(r, scenario, benchmark, known, lg, None, power_run), detail


@dataclass
class _Pending:
    """A result folder read up to its power, with its own problems until it is done."""

    res: _Result
    problems: ProblemLog
    read: _Read | None = None
    detail: MLLog | None = None
    data: bytes | None = None  # trace bytes waiting for their batch
    trace: Trace | Exception | None = None  # the parsed trace, or why it did not parse
    failed: bool = False  # an unexpected error: the result is left out


def _start(
    r: _Result,
    version: str,
    problems: ProblemLog,
    parsed: _Parsed,
    files: RoundFiles,
    batch_bytes: int = TRACE_BATCH_BYTES,
) -> _Pending:
    """Read a result folder's loadgen logs and, for a power run, its trace.

    Trace bytes wait in `data` for a batch unless the same bytes were parsed before; a trace
    above `batch_bytes` is parsed here, in chunks.
    """
    p = _Pending(r, problems)
    p.read, p.detail = _read_loadgen(r, version, problems, parsed, files)
    if p.read is None or not p.read.power_run:
        return p
    rel, spl_rel = r.rel, f"{r.rel}/performance/run_1/{TRACE}"
    if p.detail is None:
        problems.skip(rel, "missing_detail", f"{spl_rel}: no usable {DETAIL} for the window")
        return p
    if TRACE not in r.files:
        problems.skip(rel, "missing_trace", f"{spl_rel} is missing for a power run")
        return p
    limit = files.limits.spl
    try:
        with files.open(os.path.join(r.run_dir, TRACE), "spl") as f:
            if os.fstat(f.fileno()).st_size <= batch_bytes:
                p.data = f.read()  # sized by fstat: a read of the cap would allocate the cap
                if len(p.data) > limit.max_bytes:
                    raise FileRefused("file_too_large", f"{spl_rel}: grew past the spl cap")
                check_lines(p.data, limit, "spl", spl_rel)
                try:
                    trace = parsed.get(TRACE, p.data)
                except KeyError:
                    return p
                assert isinstance(trace, (Trace, Exception))
                p.trace, p.data = trace, None
                return p
            try:
                p.trace = parse_trace_stream(f, max_line=limit.max_line)
            except (OSError, FileRefused):
                raise
            except Exception as exc:  # any parse failure is a counted problem, never a crash
                p.trace = exc
    except FileRefused as exc:
        p.data = None
        msg = str(exc) if exc.args[0].startswith(spl_rel) else f"{spl_rel}: {exc}"
        problems.skip(rel, exc.kind, msg)
    except OSError as exc:
        problems.skip(rel, "unreadable_trace", f"{spl_rel}: {exc}")
    return p


def _parse_batch(batch: list[_Pending], parsed: _Parsed) -> None:
    """Parse the waiting trace bytes of `batch` together (one by one if that fails)."""
    blobs = list(dict.fromkeys(p.data for p in batch if p.data is not None))  # each once
    if not blobs:
        return
    try:
        traces: list[Trace | Exception] = list(parse_traces(blobs))
    except Exception:  # find which file failed, and why
        traces = []
        for data in blobs:
            try:
                traces.append(parse_trace(data))
            except Exception as exc:
                traces.append(exc)
    by_data = dict(zip(blobs, traces, strict=True))
    for p in batch:
        if p.data is not None:
            p.trace = by_data[p.data]
            parsed.put(TRACE, p.data, p.trace)
            p.data = None


def _finish(p: _Pending, version: str) -> None:
    """The power of a result from its parsed trace (or the problem why there is none)."""
    if p.read is None or p.trace is None:
        return
    r, problems, trace = p.res, p.problems, p.trace
    rel, spl_rel = r.rel, f"{r.rel}/performance/run_1/{TRACE}"
    if isinstance(trace, Exception):
        problems.skip(rel, "unreadable_trace", f"{spl_rel}: {type(trace).__name__}: {trace}")
        return
    if trace.lines == 0:
        problems.skip(rel, "empty_trace", f"{spl_rel} is empty")
        return
    if trace.time.size == 0:
        problems.skip(
            rel, "unreadable_trace", f"{spl_rel}: none of its {trace.lines} line(s) is a sample"
        )
        return
    if trace.malformed:
        problems.flag(
            rel, "malformed_trace_lines", f"{spl_rel}: {trace.malformed} unparseable line(s)"
        )
    assert p.detail is not None
    try:
        m = power_metric(p.detail, trace, p.read.scenario, version)
    except PowerError as exc:
        problems.skip(rel, exc.kind, f"{spl_rel}: {exc}")
        return
    if m.nonpositive:
        how = "dropped" if drops_nonpositive(version) else "kept in the mean"
        problems.flag(
            rel,
            "nonpositive_watts",
            f"{spl_rel}: {m.nonpositive} sample(s) <= 0 W in the window, {how} as the "
            f"{version} checker did",
        )
    p.read.power = m


def _rank(x: _Read) -> tuple:
    canonical = x.res.scen_folder == x.scenario and x.res.bench_folder == x.benchmark
    return (x.power is None, not x.lg.valid, not canonical, x.res.rel)


def _read_results(
    found: list[_Result],
    version: str,
    problems: ProblemLog,
    say: Callable[[str], None],
    files: RoundFiles,
    batch_bytes: int = TRACE_BATCH_BYTES,
) -> list[_Read]:
    """The results of `found` with their power, in order; their problems go to `problems`.

    Results are read in order; their traces are parsed a batch at a time, and each result's
    problems join the log, in order, once its power is done.
    """
    out: list[_Read] = []
    batch: list[_Pending] = []
    waiting = 0
    parsed = _Parsed()

    def flush() -> None:
        _parse_batch(batch, parsed)
        for p in batch:
            if not p.failed:
                try:
                    _finish(p, version)
                except Exception as exc:  # one bad result must not sink the round
                    p.problems.skip(
                        p.res.rel, "unreadable_result", f"{p.res.rel}: {type(exc).__name__}: {exc}"
                    )
                    p.failed = True
            problems.rows.extend(p.problems.rows)
            if not p.failed and p.read is not None:
                out.append(p.read)
        batch.clear()

    for i, r in enumerate(found, 1):
        mine = ProblemLog(problems.suite, problems.round)
        try:
            p = _start(r, version, mine, parsed, files, batch_bytes)
        except Exception as exc:  # one bad result must not sink the round
            mine.skip(r.rel, "unreadable_result", f"{r.rel}: {type(exc).__name__}: {exc}")
            p = _Pending(r, mine, failed=True)
        batch.append(p)
        waiting += len(p.data) if p.data is not None else 0
        if waiting >= batch_bytes:
            flush()
            waiting = 0
        if i % PROGRESS_EVERY == 0:
            say(f"{version}: {i}/{len(found)} results read")
    flush()
    return out


def read_tree_round(
    root: Path,
    version: str,
    source_repo: str,
    commit: str,
    log: Callable[[str], None] | None = None,
    *,
    batch_bytes: int = TRACE_BATCH_BYTES,
) -> RoundTable:
    """Read the checkout `root` of round `version` into validated results and problems.

    One row per result folder and category (a `datacenter,edge` system appears twice);
    every result with a loadgen summary or detail log gets a row, valid or not, and power
    columns are filled where the power run's trace gives the checker's metric. Traces are
    parsed together up to `batch_bytes` at a time; a larger one alone, in chunks.
    """
    say = log or (lambda _msg: None)
    root = Path(root)
    problems = ProblemLog("inference", version)
    files = RoundFiles(root)
    links: list[str] = []
    found, odd = find_results(root, links)
    for rel in links:
        problems.skip(rel, "symlinked_folder", f"{rel}: a symbolic link to a folder; not entered")
    for rel in odd:
        problems.skip(rel, "unexpected_layout", f"{rel}: performance/run_1 at an unexpected depth")
    systems = _systems(files, found, problems)
    say(f"{version}: {len(found)} result folders in {root}")

    reads: dict[tuple[str, str, str, str, str], list[_Read]] = defaultdict(list)
    for x in _read_results(found, version, problems, say, files, batch_bytes):
        r = x.res
        reads[(r.division, r.submitter, r.system, x.benchmark, x.scenario)].append(x)

    rows: list[dict] = []
    for key in sorted(reads):
        group = sorted(reads[key], key=_rank)
        keep = group[0]
        for other in group[1:]:
            problems.skip(
                other.res.rel,
                "duplicate_result",
                f"{other.res.rel}: same result as {keep.res.rel}, which is kept",
            )
        info, cats = systems[keep.res.system_key]
        for category in cats:
            rows.append(_row(keep, category, info, version, source_repo, commit))

    table = finish(rows, InferenceResults, problems)
    counts = problems.counts()
    n_power = table.loc[table.power_w.notna(), "source_path"].nunique()
    say(
        f"{version}: {len(table)} rows from {len(reads)} results ({n_power} with power); "
        "problems: " + (", ".join(f"{k}={v}" for k, v in counts.items()) or "none")
    )
    return RoundTable(results=table, problems=problems.frame())


def _row(
    x: _Read, category: str, info: SystemInfo, version: str, source_repo: str, commit: str
) -> dict:
    lg, m = x.lg, x.power
    sps = lg.samples_per_second if x.scenario in ("Offline", "Server") else None
    power_w = energy_j = spj = None
    if m is not None:
        power_w = m.power_w
        if x.scenario in ("Offline", "Server"):
            if sps is not None and sps > 0:
                spj = sps / m.power_w
        else:
            energy_j = m.energy_per_query_j
            spq = m.samples_per_query
            if energy_j and spq:
                spj = spq / energy_j
    return {
        "round": version,
        "category": category,
        "division": x.res.division,
        "submitter": x.res.submitter,
        "system": x.res.system,
        "system_name": info.system_name,
        "accelerator": info.accelerator,
        "accelerators": info.accelerators,
        "nodes": info.nodes,
        "host_processor": info.host_processor,
        "availability": info.availability,
        "benchmark": x.benchmark,
        "benchmark_known": x.known,
        "scenario": x.scenario,
        "valid": lg.valid,
        "performance": lg.performance,
        "performance_unit": lg.performance_unit,
        "samples_per_second": sps if sps is not None and sps >= 0 else None,
        "tokens_per_sample": lg.tokens_per_sample,
        "power_w": power_w,
        "energy_per_query_j": energy_j,
        "samples_per_joule": spj,
        "source": "tree",
        "source_repo": source_repo,
        "source_path": x.res.rel,
        "source_commit": commit,
    }
