"""Read one MLPerf Training round (v4.0, v4.1) from its submission tree into `TrainingResults`.

Layout: ``<submitter>/systems/<system>.json`` and ``<submitter>/results/<system>/<benchmark>/``
with ``result_*.txt`` (MLLOG, one per run), optional ``scaling.json`` and, for a power result,
``power/<result>/node_*.txt`` and ``sw_*.txt``. The submitter is the folder name (v4.0 has
``smc-ac-power`` and ``smc-dc-power``: one submitter, the same systems and runs, measured AC
and DC; their system JSONs both say "Sustainable Metal Cloud"), so each is one row.

One row per system x benchmark **with power** (a ``power/`` folder, the summarizer's test).
Results without power are left out and counted as skipped (``no_power``); the mirrors hold
only power results, the full repositories hold a few hundred others.

Columns, all computed by `mlperf_power_dag.parsers.training_logs` with mlperf-logging's result
summarizer (see there for the rules and the one documented patch):

- time_to_train_min: the summarizer's score (olympic average x ``scaling.json`` factor);
- energy_j: the summarizer's energy (``<bench>:Energy``), the olympic average over the same
  runs of node + interconnect energy, times the scaling factor; compute_energy_j and
  interconnect_energy_j: the same average of each part (they add up to energy_j);
- average_power_w = energy_j / (time_to_train_min x 60);
- runs_used: runs inside the olympic average (dropped runs are problems of their own);
- power_measurement: AC/DC from ``conversion_eff``'s ``measurement_type`` in the node logs;
  where the logs do not say (v4.0 SMC), the AC/DC word of the system name (``SMC-H100-AC-
  Power``), flagged ``power_type_from_system_name``; otherwise ``unknown``;
- division, system_name, accelerator, nodes, accelerators (= accelerators_per_node x
  number_of_nodes): the system description.

An energy that cannot be computed (e.g. a node log without ``power_measurement_start``)
leaves the row's energy columns empty and is flagged; it is never replaced by zero.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlperf_power_dag.parsers.files import FileRefused, RoundFiles
from mlperf_power_dag.parsers.guards import INT64_MAX, brief, reason
from mlperf_power_dag.parsers.training_logs import (
    SKIPPED,
    FolderScore,
    allowed_benchmarks,
    ruleset_for,
    score_benchmark_folder,
)
from mlperf_power_dag.schemas import TrainingResults
from mlperf_power_dag.tables import ProblemLog, RoundTable, finish

SPARSE_PATTERNS = (
    "/*/systems/*.json",
    "/*/results/*/*/result_*.txt",
    "/*/results/*/*/scaling.json",
    "/*/results/*/*/power/*/node_*.txt",
    "/*/results/*/*/power/*/sw_*.txt",
)

Log = Callable[[str], None]

_AC_DC = re.compile(r"(?<![A-Za-z])(AC|DC)(?![A-Za-z])")


def _rel(path: str | Path, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def _positive_int(value: Any) -> int | None:
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError, RecursionError):
        return None
    return n if 0 <= n <= INT64_MAX else None


def _text(value: Any) -> str | None:
    """A system description's text field; other JSON values (numbers, lists) as None."""
    return value if isinstance(value, str) else None


def _subdirs(folder: Path, root: Path, problems: ProblemLog) -> list[Path]:
    """The folders in `folder`, sorted; symbolic links to folders are not entered (a problem
    each)."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.is_symlink():
            if p.is_dir():
                rel = _rel(p, root)
                problems.skip(rel, "symlinked_folder", f"{rel}: a symbolic link to a folder")
        elif p.is_dir():
            out.append(p)
    return out


def _load_system(
    files: RoundFiles, path: Path, problems: ProblemLog, rel: str
) -> dict[str, Any] | None:
    if not os.path.lexists(path):
        problems.skip(rel, "no_system_json", f"{rel}: missing; the system's results are skipped")
        return None
    try:
        desc = json.loads(files.read(path, "system_json").decode("utf-8"))
    except FileRefused as e:
        problems.skip(rel, e.kind, f"{e}; the system's results are skipped")
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        problems.skip(rel, "bad_system_json", f"{rel}: {e}; the system's results are skipped")
        return None
    except (RecursionError, ValueError) as e:  # deep nesting, an integer too long
        problems.skip(
            rel, "bad_system_json", f"{rel}: {reason(e)}; the system's results are skipped"
        )
        return None
    if not isinstance(desc, dict):
        problems.skip(rel, "bad_system_json", f"{rel}: not a JSON object; skipped")
        return None
    return desc


def _power_measurement(score: FolderScore, desc: dict[str, Any], problems, rel: str) -> str:
    types = sorted(score.measurement_types)
    if len(types) == 1:
        return types[0]
    if len(types) > 1:
        problems.flag(rel, "mixed_power_measurement", f"{rel}: node logs say {', '.join(types)}")
        return "unknown"
    name = str(desc.get("system_name") or "")
    found = set(_AC_DC.findall(name))
    if len(found) == 1:
        kind = found.pop()
        problems.flag(
            rel,
            "power_type_from_system_name",
            f"{rel}: node logs do not say AC or DC; {kind} from the system name {name!r}",
        )
        return kind
    return "unknown"


def _row(
    score: FolderScore,
    desc: dict[str, Any],
    *,
    version: str,
    submitter: str,
    system: str,
    rel: str,
    problems: ProblemLog,
    source_repo: str,
    commit: str,
) -> dict[str, Any]:
    nodes = _positive_int(desc.get("number_of_nodes"))
    per_node = _positive_int(desc.get("accelerators_per_node"))
    if nodes is None or per_node is None:
        problems.flag(
            rel,
            "bad_system_field",
            f"{rel}: number_of_nodes {brief(desc.get('number_of_nodes'))} / accelerators_per_node "
            f"{brief(desc.get('accelerators_per_node'))} not integers; counts left empty",
        )
    accelerators = per_node * nodes if nodes is not None and per_node is not None else None
    if accelerators is not None and accelerators > INT64_MAX:
        problems.flag(rel, "bad_system_field", f"{rel}: accelerator count too large; left empty")
        accelerators = None
    division = desc.get("division")
    if not isinstance(division, str) or not division.strip():
        problems.flag(rel, "no_division", f"{rel}: system description has no division")
        division = "unknown"
    energy = (score.energy_j, score.compute_energy_j, score.interconnect_energy_j)
    if any(e is not None and not math.isfinite(e) for e in energy):
        problems.flag(rel, "bad_value", f"{rel}: energy is not finite; energy left empty")
        energy = (None, None, None)
    if energy[0] is not None and (
        score.energy_j <= 0 or any(e is not None and e < 0 for e in energy)
    ):
        problems.flag(
            rel,
            "nonpositive_energy",
            f"{rel}: energy {score.energy_j!r} J (compute {score.compute_energy_j!r}, "
            f"interconnect {score.interconnect_energy_j!r}); energy left empty",
        )
        energy = (None, None, None)
    ttt = score.time_to_train_min
    power = energy[0] / (ttt * 60) if energy[0] is not None and ttt else None
    if power is not None and not 0 < power < math.inf:
        problems.flag(rel, "bad_value", f"{rel}: average power out of range; left empty")
        power = None
    return {
        "round": version,
        "division": division.strip(),
        "submitter": submitter,
        "system": system,
        "system_name": _text(desc.get("system_name")),
        "accelerator": _text(desc.get("accelerator_model_name")),
        "benchmark": score.benchmark,
        "accelerators": accelerators,
        "nodes": nodes if nodes else None,
        "time_to_train_min": ttt,
        "energy_j": energy[0],
        "compute_energy_j": energy[1],
        "interconnect_energy_j": energy[2],
        "average_power_w": power,
        "runs_used": score.runs_used,
        "power_measurement": _power_measurement(score, desc, problems, rel),
        "source_repo": source_repo,
        "source_path": rel,
        "source_commit": commit,
    }


def read_training_round(
    root: Path, version: str, source_repo: str, commit: str, log: Log | None = None
) -> RoundTable:
    """The validated TrainingResults rows (results with power) of training round `version`.

    `root` is a checkout of ``training_results_<version>`` with `SPARSE_PATTERNS` (or all of
    it); `log` receives progress messages. Bad files, dropped runs and results that cannot be
    scored become problems (skipped or flagged), never exceptions.
    """
    say = log or (lambda _msg: None)
    root = Path(root)
    problems = ProblemLog("training", version)
    rows: list[dict[str, Any]] = []
    try:
        ruleset = ruleset_for(version)
    except ValueError as e:
        problems.skip(".", "unsupported_round", str(e))
        return RoundTable(finish(rows, TrainingResults, problems), problems.frame())
    known = set(allowed_benchmarks(ruleset))

    files = RoundFiles(root)
    submitters = [p for p in _subdirs(root, root, problems) if (p / "results").is_dir()]
    if not submitters:
        problems.skip(".", "no_results", f"no <submitter>/results/ under {root}")
    folders = 0
    for sub in submitters:
        for system_dir in _subdirs(sub / "results", root, problems):
            bench_dirs = _subdirs(system_dir, root, problems)
            power_dirs = []
            for bench in bench_dirs:
                if (bench / "power").is_dir():
                    power_dirs.append(bench)
                else:
                    rel = _rel(bench, root)
                    problems.skip(rel, "no_power", f"{rel}: no power/ folder (not a power result)")
            if not power_dirs:
                continue
            sys_rel = _rel(sub / "systems" / f"{system_dir.name}.json", root)
            desc = _load_system(
                files, sub / "systems" / f"{system_dir.name}.json", problems, sys_rel
            )
            if desc is None:
                continue
            nodes = _positive_int(desc.get("number_of_nodes"))
            for bench in power_dirs:
                folders += 1
                rel = _rel(bench, root)
                say(f"training {version}: scoring {rel}")
                try:
                    score = score_benchmark_folder(bench, ruleset, nodes=nodes, files=files)
                except Exception as e:  # one bad folder must not sink the round
                    problems.skip(rel, "unreadable_result", f"{rel}: {reason(e)}; skipped")
                    continue
                for issue in score.issues:
                    path = _rel(issue.path, root)
                    message = f"{rel}: {issue.message}" if path == rel else issue.message
                    if issue.severity == SKIPPED:
                        problems.skip(path, issue.kind, message)
                    else:
                        problems.flag(path, issue.kind, message)
                if not score.scored:
                    continue
                ttt = score.time_to_train_min
                if not (ttt is not None and 0 < ttt < math.inf):
                    problems.skip(rel, "bad_value", f"{rel}: time to train out of range; skipped")
                    continue
                if score.benchmark not in known:
                    problems.flag(
                        rel,
                        "unknown_benchmark",
                        f"{rel}: {score.benchmark!r} is not a {ruleset} benchmark",
                    )
                try:
                    row = _row(
                        score,
                        desc,
                        version=version,
                        submitter=sub.name,
                        system=system_dir.name,
                        rel=rel,
                        problems=problems,
                        source_repo=source_repo,
                        commit=commit,
                    )
                except Exception as e:  # e.g. a system description too deeply nested
                    problems.skip(rel, "unreadable_result", f"{rel}: {reason(e)}; skipped")
                    continue
                rows.append(row)
    say(
        f"training {version}: {len(rows)} results with power from {folders} folders; "
        f"problems {problems.counts()}"
    )
    return RoundTable(finish(rows, TrainingResults, problems), problems.frame())
