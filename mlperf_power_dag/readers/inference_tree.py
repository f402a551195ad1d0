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
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlperf_power_dag.benchmarks import canonical_benchmark
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
    drops_nonpositive,
    parse_trace,
    power_metric,
)
from mlperf_power_dag.parsers.systems import CATEGORIES, SystemInfo, read_system
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
POWER_PROBLEM_KINDS = frozenset(
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
PROGRESS_EVERY = 500


@dataclass
class _Result:
    """One result folder found in the tree."""

    rel: str  # <division>/<submitter>/results/<system>/<benchmark>/<scenario>
    division: str
    submitter: str
    system: str
    bench_folder: str
    scen_folder: str
    run_dir: Path
    files: frozenset[str]

    @property
    def system_key(self) -> tuple[str, str, str]:
        return self.division, self.submitter, self.system


def find_results(root: Path) -> tuple[list[_Result], list[str]]:
    """Result folders under `root` (sorted) and run folders at an unexpected depth."""
    found: list[_Result] = []
    odd: list[str] = []
    for results in sorted(root.glob("*/*/results")):
        if not results.is_dir() or results.parent.parent.name.startswith("."):
            continue
        division, submitter = results.parent.parent.name, results.parent.name
        for dirpath, dirnames, filenames in os.walk(results):
            dirnames.sort()
            d = Path(dirpath)
            if d.name != "run_1" or d.parent.name != "performance":
                continue
            files = frozenset(f for f in filenames if f in (SUMMARY, DETAIL, TRACE))
            if not files:
                continue
            middle = d.parent.parent.relative_to(results).parts
            rel = d.parent.parent.relative_to(root).as_posix()
            if len(middle) != 3:
                odd.append(rel)
                continue
            system, bench, scen = middle
            found.append(_Result(rel, division, submitter, system, bench, scen, d, files))
    found.sort(key=lambda r: r.rel)
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


def _read_text(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


def _systems(
    root: Path, results: list[_Result], problems: ProblemLog
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
        path = root / rel
        if not path.is_file():
            problems.flag(rel, "missing_system_json", f"{rel} does not exist")
            info = SystemInfo()
        else:
            try:
                info = read_system(path)
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


def _read_result(r: _Result, version: str, problems: ProblemLog) -> _Read | None:
    """Loadgen result and power of one folder; None (with a problem) if it is skipped."""
    rel = r.rel
    scenario = canonical_scenario(r.scen_folder)
    if scenario is None:
        problems.skip(rel, "unknown_scenario", f"{rel}: scenario folder {r.scen_folder!r}")
        return None
    benchmark, known = canonical_benchmark(r.bench_folder)

    summary: Summary | None = None
    detail: MLLog | None = None
    for name in (SUMMARY, DETAIL):
        if name not in r.files:
            continue
        path = r.run_dir / name
        try:
            text = _read_text(path)
        except OSError as exc:
            problems.flag(rel, "unreadable_file", f"{rel}/performance/run_1/{name}: {exc}")
            continue
        if not text.strip():
            problems.flag(rel, "empty_file", f"{rel}/performance/run_1/{name} is empty")
            continue
        if name == SUMMARY:
            summary = parse_summary(text)
        else:
            detail = parse_mllog(text)
            if detail.malformed:
                problems.flag(
                    rel,
                    "malformed_mllog",
                    f"{rel}/performance/run_1/{name}: {detail.malformed} malformed :::MLLOG "
                    "line(s) skipped",
                )
            if not detail.values:
                detail = None
    if summary is not None and summary.scenario is None and detail is None:
        problems.skip(rel, "no_loadgen_log", f"{rel}: {SUMMARY} names no scenario")
        return None
    if summary is None and (detail is None or "effective_scenario" not in detail):
        problems.skip(rel, "no_loadgen_log", f"{rel}: no readable loadgen summary or detail log")
        return None
    lg = loadgen_result(scenario, version, benchmark, detail, summary)
    for kind, message in lg.notes:
        problems.flag(rel, kind, f"{rel}: {message}")
    if not known:
        problems.flag(rel, "unknown_benchmark", f"{rel}: benchmark {r.bench_folder!r} kept as is")
    if not lg.valid:
        problems.flag(rel, "invalid_result", f"{rel}: loadgen result is not VALID")

    power_run = TRACE in r.files or (detail is not None and "power_begin" in detail)
    power = None
    if power_run:
        power = _power(r, detail, scenario, version, problems)
    return _Read(r, scenario, benchmark, known, lg, power, power_run)


def _power(
    r: _Result, detail: MLLog | None, scenario: str, version: str, problems: ProblemLog
) -> PowerMetric | None:
    rel, spl_rel = r.rel, f"{r.rel}/performance/run_1/{TRACE}"
    if detail is None:
        problems.skip(rel, "missing_detail", f"{spl_rel}: no usable {DETAIL} for the window")
        return None
    if TRACE not in r.files:
        problems.skip(rel, "missing_trace", f"{spl_rel} is missing for a power run")
        return None
    try:
        data = (r.run_dir / TRACE).read_bytes()
    except OSError as exc:
        problems.skip(rel, "unreadable_trace", f"{spl_rel}: {exc}")
        return None
    try:
        trace = parse_trace(data)
    except Exception as exc:  # any parse failure is a counted problem, never a crash
        problems.skip(rel, "unreadable_trace", f"{spl_rel}: {type(exc).__name__}: {exc}")
        return None
    if trace.lines == 0:
        problems.skip(rel, "empty_trace", f"{spl_rel} is empty")
        return None
    if trace.time.size == 0:
        problems.skip(
            rel, "unreadable_trace", f"{spl_rel}: none of its {trace.lines} line(s) is a sample"
        )
        return None
    if trace.malformed:
        problems.flag(
            rel, "malformed_trace_lines", f"{spl_rel}: {trace.malformed} unparseable line(s)"
        )
    try:
        m = power_metric(detail, trace, scenario, version)
    except PowerError as exc:
        problems.skip(rel, exc.kind, f"{spl_rel}: {exc}")
        return None
    if m.nonpositive:
        how = "dropped" if drops_nonpositive(version) else "kept in the mean"
        problems.flag(
            rel,
            "nonpositive_watts",
            f"{spl_rel}: {m.nonpositive} sample(s) <= 0 W in the window, {how} as the "
            f"{version} checker did",
        )
    return m


def _rank(x: _Read) -> tuple:
    canonical = x.res.scen_folder == x.scenario and x.res.bench_folder == x.benchmark
    return (x.power is None, not x.lg.valid, not canonical, x.res.rel)


def read_tree_round(
    root: Path,
    version: str,
    source_repo: str,
    commit: str,
    log: Callable[[str], None] | None = None,
) -> RoundTable:
    """Read the checkout `root` of round `version` into validated results and problems.

    One row per result folder and category (a `datacenter,edge` system appears twice);
    every result with a loadgen summary or detail log gets a row, valid or not, and power
    columns are filled where the power run's trace gives the checker's metric.
    """
    say = log or (lambda _msg: None)
    root = Path(root)
    problems = ProblemLog("inference", version)
    found, odd = find_results(root)
    for rel in odd:
        problems.skip(rel, "unexpected_layout", f"{rel}: performance/run_1 at an unexpected depth")
    systems = _systems(root, found, problems)
    say(f"{version}: {len(found)} result folders in {root}")

    reads: dict[tuple[str, str, str, str, str], list[_Read]] = defaultdict(list)
    for i, r in enumerate(found, 1):
        try:
            x = _read_result(r, version, problems)
        except Exception as exc:  # one bad result must not sink the round
            problems.skip(r.rel, "unreadable_result", f"{r.rel}: {type(exc).__name__}: {exc}")
            x = None
        if x is not None:
            reads[(r.division, r.submitter, r.system, x.benchmark, x.scenario)].append(x)
        if i % PROGRESS_EVERY == 0:
            say(f"{version}: {i}/{len(found)} results read")

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

    table = finish(rows, InferenceResults)
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
