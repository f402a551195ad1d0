"""Read one MLPerf Inference round from the CMX results (mlcommons/cm4mlperf-results).

CMX is the only source here for inference v3.1 and v4.0 (their submission repositories are
too large to mirror); it also covers v2.0-v4.1, which the cross-check uses.

What the CMX files look like, round by round (the reader handles all of them the same way):

- v2.0-v3.1: a power result is one ``combined`` row (``Result`` + ``Result_Power``) in a
  ``*-power`` folder, and every such row is written twice, identically (same ``uid``), in
  its file. Exact copies are collapsed and counted (``duplicate_row``).
- v4.0, v4.1: a power result is a ``performance`` row plus a separate ``power`` row
  (``Result`` null, ``Units`` ``Watts`` or ``millijoules``), joined one to one by
  (category, ``Location``).
- Results without power are ``performance`` rows in the plain division folders.
- The cross-round ``mlperf-inference--all--...`` folders repeat rows of the round folders
  and are not read.

Columns:

- performance = ``Result`` in its unit: Offline samples/s, Server queries/s, SingleStream/
  MultiStream latency in ms, LLMs tokens/s. CMX labels token rates ``Samples/s`` /
  ``Queries/s``, so tokens/s is decided by `reports_tokens` for the benchmark the row's
  ``MlperfModel`` names.
- power_w = the ``Watts`` value (Offline/Server); energy_per_query_j = the ``millijoules``
  value / 1000 (SingleStream/MultiStream).
- samples_per_second = the Offline/Server result when it counts samples or queries (one
  sample per Server query). For a result in tokens/s it stays null and is flagged: CMX keeps
  only the first accuracy number, not the measured tokens per sample.
- samples_per_joule: see `samples_per_joule`.
- accelerators = accelerators_per_node x number_of_nodes.
- valid is True: CMX lists published results, which passed the submission checker.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlperf_power_dag.benchmark_ids import SCENARIO_BY_KEY, TOKEN_BENCHMARKS, canonical_benchmark
from mlperf_power_dag.parsers.cmx import (
    COMBINED,
    PERFORMANCE,
    POWER,
    CmxFormatError,
    ExperimentFolder,
    integer,
    load_rows,
    number,
    parse_experiment_folder,
    parse_location,
    performance_unit,
    power_unit,
    row_kind,
    text,
)
from mlperf_power_dag.parsers.files import FileRefused, RoundFiles
from mlperf_power_dag.parsers.guards import brief, clip, int64, reason
from mlperf_power_dag.parsers.loadgen import MULTISTREAM_SAMPLES_PER_QUERY
from mlperf_power_dag.rounds.catalog import CMX, version_tuple
from mlperf_power_dag.schemas import InferenceResults
from mlperf_power_dag.tables import ProblemLog, RoundTable, finish

SPARSE_PATTERNS = ("experiment/mlperf-inference--*/*/cm-result.json",)

Log = Callable[[str], None]

# Longest ``Location`` taken as a result path (real ones are under 200 characters).
MAX_LOCATION_CHARS = 1000

# Offline/Server results whose headline metric counts tokens, by round, from the submission
# checker's RESULT_FIELD_BENCHMARK_OVERWRITE (mlcommons/inference, tools/submission). Before
# v4.0 every result counts samples or queries; from v4.1 on, every token benchmark
# (benchmarks.TOKEN_BENCHMARKS) reports tokens/s in Offline and Server.
_TOKEN_METRICS_V40 = {
    ("llama2-70b-99", "Offline"),
    ("llama2-70b-99.9", "Offline"),
}


def reports_tokens(version: str, benchmark: str, scenario: str) -> bool:
    """True if the round's headline metric of (benchmark, scenario) is tokens/s."""
    v = version_tuple(version)
    if v < (4, 0) or scenario not in ("Offline", "Server"):
        return False
    if v == (4, 0):
        return (benchmark, scenario) in _TOKEN_METRICS_V40
    return benchmark in TOKEN_BENCHMARKS


def samples_per_joule(
    version: str,
    scenario: str,
    samples_per_second: float | None,
    power_w: float | None,
    energy_per_query_j: float | None,
) -> float | None:
    """Samples per joule as the tree reader computes it: Offline/Server samples/s / W;
    SingleStream 1 / J per query; MultiStream (v2.0 on, the checker's 8 samples per query)
    8 / J per query. None when an input is missing or zero."""
    if scenario in ("Offline", "Server"):
        if samples_per_second and power_w:
            return samples_per_second / power_w
        return None
    if not energy_per_query_j:
        return None
    if scenario == "SingleStream":
        return 1 / energy_per_query_j
    if scenario == "MultiStream" and version_tuple(version) >= (2, 0):
        return MULTISTREAM_SAMPLES_PER_QUERY / energy_per_query_j
    return None


@dataclass
class _Result:
    """All rows of one result (one category and Location) met in a round."""

    category: str
    location: str
    folders: list[tuple[str, ExperimentFolder]] = field(default_factory=list)
    rows: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)

    def add(self, kind: str, rel: str, folder: ExperimentFolder, row: dict[str, Any]) -> None:
        self.folders.append((rel, folder))
        self.rows.setdefault(kind, []).append((rel, row))


def _distinct(rows: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = []
    for rel, row in rows:
        if not any(row == seen for _, seen in out):
            out.append((rel, row))
    return out


def read_cmx_round(
    root: Path, version: str, source_repo: str, commit: str, log: Log | None = None
) -> RoundTable:
    """The validated InferenceResults rows of inference round `version` in a CMX checkout.

    `root` is a checkout of cm4mlperf-results with `SPARSE_PATTERNS`; `log` receives progress
    messages. Bad files and rows become problems (skipped or flagged), never exceptions.
    """
    say = log or (lambda _msg: None)
    problems = ProblemLog("inference", version)
    pattern = f"mlperf-inference--{version}--*/*/cm-result.json"
    files = sorted((root / "experiment").glob(pattern))
    rfiles = RoundFiles(root)
    if not files:
        problems.skip(
            f"experiment/{pattern}", "no_files", f"no cm-result.json for {version} under {root}"
        )
    results: dict[tuple[str, str], _Result] = {}
    n_rows = 0
    for path in files:
        rel = path.relative_to(root).as_posix()
        folder = parse_experiment_folder(path.parent.parent.name)
        if folder is None or folder.round != version:
            problems.skip(rel, "bad_folder_name", f"{rel}: folder name not understood; skipped")
            continue
        try:
            rows = load_rows(rfiles.read(path, "cmx"))
        except FileRefused as e:
            problems.skip(rel, e.kind, str(e))
            continue
        except (OSError, CmxFormatError) as e:
            problems.skip(rel, "bad_file", f"{rel}: {e}")
            continue
        except Exception as e:  # one bad file must not sink the round
            problems.skip(rel, "bad_file", f"{rel}: {reason(e)}")
            continue
        for i, row in enumerate(rows):
            n_rows += 1
            try:
                loc = text(row.get("Location"))
                if loc is None:
                    problems.skip(f"{rel}#{i}", "no_location", f"{rel} row {i}: no Location")
                    continue
                if len(loc) > MAX_LOCATION_CHARS:
                    problems.skip(f"{rel}#{i}", "bad_location", f"{rel} row {i}: Location too long")
                    continue
                kind = row_kind(row)
                if kind is None:
                    problems.skip(loc, "no_result", f"{rel}: row without Result or Result_Power")
                    continue
            except Exception as e:  # one bad row must not sink the file
                problems.skip(f"{rel}#{i}", "bad_row", f"{rel} row {i}: {reason(e)}")
                continue
            key = (folder.category, loc)
            if key not in results:
                results[key] = _Result(folder.category, loc)
            results[key].add(kind, rel, folder, row)

    out = []
    for res in results.values():
        try:
            row = _result_row(res, version, source_repo, commit, problems)
        except Exception as e:  # one bad result must not sink the round
            problems.skip(res.location, "unreadable_result", f"{res.location}: {reason(e)}")
            continue
        if row is not None:
            out.append(row)
    flag_unknown_benchmarks(out, problems)
    out = drop_key_duplicates(out, problems)
    df = finish(out, InferenceResults, problems)
    say(
        f"cmx {version}: {len(files)} files, {n_rows} rows -> {len(df)} results; "
        f"problems {problems.counts()}"
    )
    return RoundTable(results=df, problems=problems.frame())


def _one(
    res: _Result, kinds: tuple[str, ...], problems: ProblemLog
) -> tuple[str, dict[str, Any]] | None | bool:
    """The single distinct row of `kinds`; None if there is none, False on a conflict."""
    rows = [r for k in kinds for r in res.rows.get(k, [])]
    distinct = _distinct(rows)
    if len(rows) > len(distinct):
        problems.flag(
            res.location,
            "duplicate_row",
            f"{rows[0][0]}: {len(rows) - len(distinct)} identical copies of a "
            f"{'/'.join(kinds)} row of {res.category} {res.location}; counted once",
        )
    if len(distinct) > 1:
        files = sorted({rel for rel, _ in distinct})
        problems.skip(
            res.location,
            "conflicting_rows",
            f"{', '.join(files)}: {len(distinct)} different {'/'.join(kinds)} rows for "
            f"{res.category} {res.location}; result skipped",
        )
        return False
    return distinct[0] if distinct else None


def _result_row(
    res: _Result, version: str, source_repo: str, commit: str, problems: ProblemLog
) -> dict[str, Any] | None:
    loc = res.location
    rel0, folder = res.folders[0]
    divisions = {f.division for _, f in res.folders}
    if len(divisions) > 1:
        problems.skip(
            loc,
            "conflicting_rows",
            f"{rel0}: {clip(loc)} is in folders of divisions {sorted(divisions)}; result skipped",
        )
        return None
    perf = _one(res, (COMBINED, PERFORMANCE), problems)
    if perf is False:
        return None
    sep_power = _one(res, (POWER,), problems)
    if sep_power is False:
        return None
    power: tuple[str, dict[str, Any]] | None = sep_power
    if perf is not None and number(perf[1].get("Result_Power")) is not None:
        if sep_power is not None:
            a, b = number(perf[1].get("Result_Power")), number(sep_power[1].get("Result_Power"))
            if a != b:
                problems.skip(
                    loc,
                    "conflicting_rows",
                    f"{rel0}: {clip(loc)} has a combined row "
                    f"({a}) and a separate power row ({b}); result skipped",
                )
                return None
        power = perf
    base = (perf or power)[1]  # type: ignore[index]
    rel = (perf or power)[0]  # type: ignore[index]

    parsed = parse_location(loc)
    if parsed is None:
        problems.skip(
            loc,
            "bad_location",
            f"{rel}: Location {brief(loc)} is not "
            "<division>/<submitter>/results/<system>/<benchmark>/<scenario>",
        )
        return None
    if parsed.division != folder.division:
        problems.flag(
            loc,
            "division_mismatch",
            f"{rel}: Location division {parsed.division!r} but folder division {folder.division!r}",
        )
    scenario = SCENARIO_BY_KEY.get((text(base.get("Scenario")) or "").lower(), folder.scenario)
    if scenario != folder.scenario:
        problems.flag(
            loc,
            "scenario_mismatch",
            f"{rel}: row scenario {scenario!r} in a "
            f"{folder.scenario} folder; the row's scenario is kept",
        )
    row_version = text(base.get("version"))
    if row_version is not None and row_version != version:
        problems.flag(
            loc,
            "version_mismatch",
            f"{rel}: row version {brief(row_version)} in a {version} folder",
        )

    model = text(base.get("Model")) or parsed.benchmark
    benchmark, known = canonical_benchmark(model)
    # The benchmark an open-division model stands for (``MlperfModel``) sets the metric.
    mlperf_model = canonical_benchmark(text(base.get("MlperfModel")) or model)[0]
    submitter = text(base.get("Organization")) or parsed.submitter
    system = text(base.get("Platform")) or parsed.system

    nodes = integer(base.get("number_of_nodes"))
    if nodes is not None and nodes < 1:
        nodes = None
    per_node = integer(base.get("accelerators_per_node"))
    accelerators = per_node * nodes if per_node is not None and nodes is not None else None
    if accelerators is None or accelerators < 0 or int64(accelerators) is None:
        accelerators = None
        problems.flag(
            loc,
            "bad_accelerator_count",
            f"{rel}: accelerators_per_node "
            f"{brief(base.get('accelerators_per_node'))} x number_of_nodes "
            f"{brief(base.get('number_of_nodes'))} is not a count; left empty",
        )

    performance = unit = sps = None
    if perf is not None:
        performance = number(perf[1].get("Result"))
        unit = performance_unit(perf[1])
        if unit in ("samples/s", "queries/s") and reports_tokens(version, mlperf_model, scenario):
            unit = "tokens/s"
        if performance is not None and performance < 0:
            problems.flag(loc, "negative_result", f"{rel}: Result {performance}; left empty")
            performance = None
        if scenario in ("Offline", "Server") and performance is not None:
            if unit in ("samples/s", "queries/s"):
                sps = performance
            elif unit == "tokens/s":
                problems.flag(
                    loc,
                    "no_tokens_per_sample",
                    f"{rel}: {benchmark} {scenario} "
                    "is in tokens/s and CMX has no tokens per sample; "
                    "samples_per_second left empty",
                )
            else:
                problems.flag(
                    loc,
                    "unexpected_unit",
                    f"{rel}: {scenario} result in {brief(unit)}; samples_per_second left empty",
                )
    elif folder.power:
        problems.flag(
            loc,
            "no_performance_row",
            f"{rel}: power row of {clip(loc)} without its performance row; performance left empty",
        )

    power_w = energy_j = None
    if power is not None:
        value = number(power[1].get("Result_Power"))
        punit = power_unit(power[1])
        if value is None or value <= 0 or value / 1000.0 <= 0:
            problems.flag(
                loc,
                "bad_power",
                f"{power[0]}: Result_Power "
                f"{brief(power[1].get('Result_Power'))} is not positive; left empty",
            )
        elif punit == "watts" and scenario in ("Offline", "Server"):
            power_w = value
        elif punit == "millijoules" and scenario in ("SingleStream", "MultiStream"):
            energy_j = value / 1000.0
        else:
            problems.flag(
                loc,
                "unexpected_power_unit",
                f"{power[0]}: {scenario} power in {brief(punit)}; left empty",
            )
    elif folder.power:
        problems.flag(
            loc, "no_power_row", f"{rel}: {clip(loc)} is in a power folder but has no power value"
        )
    spj = samples_per_joule(version, scenario, sps, power_w, energy_j)
    spj = checked_spj(spj, loc, rel, problems)

    return {
        "round": version,
        "category": res.category,
        "division": folder.division,
        "submitter": submitter,
        "system": system,
        "system_name": text(base.get("SystemName")),
        "accelerator": text(base.get("accelerator_model_name")),
        "accelerators": accelerators,
        "nodes": nodes,
        "host_processor": text(base.get("host_processor_model_name")),
        "availability": text(base.get("Availability")),
        "benchmark": benchmark,
        "benchmark_known": known,
        "scenario": scenario,
        "valid": True,
        "performance": performance,
        "performance_unit": unit,
        "samples_per_second": sps,
        "tokens_per_sample": None,
        "power_w": power_w,
        "energy_per_query_j": energy_j,
        "samples_per_joule": spj,
        "source": CMX,
        "source_repo": source_repo,
        "source_path": loc,
        "source_commit": commit,
    }


def checked_spj(spj: float | None, loc: str, what: str, problems: ProblemLog) -> float | None:
    """`spj` if it is a finite positive number; otherwise None, flagged (`bad_value`)."""
    if spj is None or 0 < spj < math.inf:
        return spj
    problems.flag(
        loc, "bad_value", f"{what}: samples per joule out of range (inputs too extreme); left empty"
    )
    return None


_KEY = ("round", "category", "division", "submitter", "system", "benchmark", "scenario")


def flag_unknown_benchmarks(rows: list[dict[str, Any]], problems: ProblemLog) -> None:
    """One flag per unknown benchmark name (at its first result), counting the results kept."""
    unknown: dict[str, list[str]] = {}
    for row in rows:
        if not row["benchmark_known"]:
            unknown.setdefault(row["benchmark"], []).append(row["source_path"])
    for name, paths in sorted(unknown.items()):
        problems.flag(
            paths[0],
            "unknown_benchmark",
            f"benchmark {brief(name)} is not a known MLPerf benchmark id "
            f"({len(paths)} results kept with benchmark_known=False)",
        )


def drop_key_duplicates(rows: list[dict[str, Any]], problems: ProblemLog) -> list[dict]:
    """Skip results whose table key repeats (e.g. two Locations differing only in case)."""
    seen: dict[tuple, list[int]] = {}
    for i, r in enumerate(rows):
        seen.setdefault(tuple(r[k] for k in _KEY), []).append(i)
    drop: set[int] = set()
    for idx in seen.values():
        if len(idx) > 1:
            paths = ", ".join(clip(rows[i]["source_path"]) for i in idx[:3])
            paths += " ..." if len(idx) > 3 else ""
            for i in idx:
                problems.skip(
                    rows[i]["source_path"],
                    "duplicate_result",
                    f"results {paths} share one table key; all {len(idx)} skipped",
                )
            drop.update(idx)
    return [r for i, r in enumerate(rows) if i not in drop]
