"""Read one MLPerf Tiny round (v0.5-v1.3) from its submission tree into `TinyResults`.

Layout: ``<division>/<submitter>/results/<system>/<benchmark>/<mode>/<file>`` and
``<division>/<submitter>/systems/<system>.json``, with these variations across rounds:

- modes ``performance``, ``energy``, ``accuracy``; ``enegy`` (v1.0 STMicroelectronics) and
  ``power`` (hls4ml open submissions, which hold energy-mode output) are read as energy and
  flagged (``mode_folder_alias``);
- files ``results.txt`` or ``<mode>_results.txt`` (v0.7/v1.0 silicon_labs, plumerai,
  qualcomm); where a mode has only the raw runner log (``log.txt`` / ``<mode>_log.txt``, v0.5)
  the performance throughput is recomputed from the log (flagged ``throughput_from_log``);
- an extra folder level above the system (OctoML v1.0: ``microtvm_cmsis_nn/NUCLEO_L4R5ZI``),
  which stays in the system id; a model folder below the benchmark (hls4ml-finn ``ic/RN07``,
  latentai ``ad/ad_fp32``), appended to the system id as ``<system>:<model>`` so that two
  models of one benchmark on one board stay two results;
- benchmark names spelled out (GreenWaves ``keyword_spotting``); new benchmarks (v1.3
  streaming wake word ``sww``) kept with benchmark_known=False and flagged;
- v1.3 text formats plus ``results.json``: the median energy recomputed from the raw samples
  and the median throughput from the windows are compared with the text (``json_mismatch``);
- syntiant's result files repeat byte for byte in v1.0-v1.3: each round publishes them
  again, so each round keeps them; `repeated_results` lists such rows across rounds;
- mac resource-fork files (``._*``) are ignored and counted (``mac_resource_fork``).

Columns: throughput_ips = the median throughput of the **performance** run (never the energy
run's own printout); latency_ms = 1000 / throughput_ips (inferences run back to back, one at a
time); energy_per_inference_uj = the runner's median energy per inference of the energy run;
inferences_per_joule = 1e6 / energy_per_inference_uj; power_w = the median over the energy
windows of the average power the analyzer logged for each window (energy / duration, as the
runner prints it). The logged power is a measurement of the energy run itself; energy per
inference x throughput would mix a median energy with a median throughput of other windows
(or of the separate performance run) and does not exist for streaming wake word. It is used
only where no window power is logged (flagged ``power_from_throughput``).
Streaming wake word: its "per inference" value is the energy of a whole 20-minute run, so
energy_per_inference_uj and inferences_per_joule stay empty and only power_w is kept.
accuracy = top-1 % (ic, vww, kws) or AUC (ad), the benchmarks' quality metrics, as in
MLCommons' summary.csv. division and submitter are the folder names (the system JSON's
``Division`` / ``Submitter`` disagree in places: syntiant's say Open, three bosch v1.2 ones
say Plumerai; flagged); system_name, processor, accelerator come from the system JSON
(``Board Name``, ``Processor(s) Name``, ``Accelerator``).
"""

from __future__ import annotations

import json
import math
import os
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlperf_power_dag.benchmark_ids import NEW_BENCHMARKS, TINY_BENCHMARKS, canonical_tiny_benchmark
from mlperf_power_dag.parsers.files import FileRefused, RoundFiles
from mlperf_power_dag.parsers.guards import brief, reason
from mlperf_power_dag.parsers.tiny_results import (
    AccuracyResult,
    EnergyRun,
    Issue,
    PerformanceRun,
    agrees,
    energy_from_results_json,
    parse_accuracy_text,
    parse_energy_text,
    parse_performance_text,
    parse_runner_log,
    precision,
    throughputs_from_results_json,
)
from mlperf_power_dag.schemas import TinyResults
from mlperf_power_dag.tables import ProblemLog, RoundTable, finish

SPARSE_PATTERNS = (
    "/*/*/systems/*.json",
    "/*/*/results/**/*results.txt",
    "/*/*/results/**/*log.txt",
    "!/*/*/results/**/accuracy/*log.txt",
    "/*/*/results/**/performance/results.json",
    "/*/*/results/**/energy/results.json",
)

Log = Callable[[str], None]

MODE_FOLDERS = {
    "performance": "performance",
    "energy": "energy",
    "accuracy": "accuracy",
    "enegy": "energy",
    "power": "energy",
}
_NONE_TEXT = {"", "none", "n/a", "na", "-"}


def _is_benchmark_folder(name: str) -> bool:
    bench, known = canonical_tiny_benchmark(name)
    return known or bench in NEW_BENCHMARKS


# ----------------------------------------------------------------------- tree walk


@dataclass
class _Result:
    division: str
    submitter: str
    system_parts: tuple[str, ...]
    bench_folder: str
    variant: tuple[str, ...]
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # mode -> role -> rel
    mode_aliases: set[str] = field(default_factory=set)

    @property
    def system_dir(self) -> str:
        return "/".join(self.system_parts)

    @property
    def system(self) -> str:
        base = self.system_dir
        return f"{base}:{'/'.join(self.variant)}" if self.variant else base

    @property
    def folder(self) -> str:
        parts = [self.division, self.submitter, "results", *self.system_parts, self.bench_folder]
        return "/".join([*parts, *self.variant])


def _file_role(name: str) -> str | None:
    low = name.lower()
    if low == "results.json":
        return "json"
    if low == "results.txt" or low.endswith("_results.txt"):
        return "text"
    if low == "log.txt" or low.endswith("_log.txt"):
        return "log"
    return None


def _walk(root: Path, links: list[str] | None = None) -> list[str]:
    """Relative posix paths of all files under root (no .git), sorted. Symlinked folders are
    not entered; their relative paths go to `links`."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        rel_dir = Path(dirpath).relative_to(root)
        for d in dirnames:
            if links is not None and os.path.islink(os.path.join(dirpath, d)):
                links.append((rel_dir / d).as_posix())
        for f in filenames:
            out.append((rel_dir / f).as_posix())
    return sorted(out)


def _split_result_path(rest: list[str]) -> tuple[tuple[str, ...], str, tuple[str, ...]] | None:
    """[system..., benchmark, variant...] -> (system parts, benchmark folder, variant parts)."""
    if len(rest) < 2:
        return None
    for i in range(1, len(rest)):
        if _is_benchmark_folder(rest[i]):
            return tuple(rest[:i]), rest[i], tuple(rest[i + 1 :])
    return (rest[0],), rest[1], tuple(rest[2:])


# ---------------------------------------------------------------------- system JSON


@dataclass
class _System:
    rel: str
    fields: dict[str, Any]
    lenient: bool  # parsed by the field-by-field fallback


_JSON_FIELD = re.compile(r'"((?:[^"\\]|\\.)+)"\s*:\s*"((?:[^"\\]|\\.)*)"')


def load_system_json(data: bytes) -> tuple[dict[str, Any] | None, bool]:
    """A system description -> (fields, parsed leniently?).

    Falls back to reading the flat ``"key": "value"`` pairs when the file is not valid JSON
    (truncated files, missing commas, raw newlines in strings all occur upstream).
    """
    text = data.decode("utf-8-sig", errors="replace")
    try:
        obj = json.loads(text, strict=False)
        if isinstance(obj, dict):
            return obj, False
    except (json.JSONDecodeError, RecursionError, ValueError):
        pass  # ValueError: an integer too long to convert
    fields: dict[str, Any] = {}
    for k, v in _JSON_FIELD.findall(text):
        fields.setdefault(k, v)
    return (fields, True) if fields else (None, True)


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.lower())


def _json_stem_norm(stem: str) -> str:
    return _norm(stem).replace("systemdescription", "")


def _match_system(parts: tuple[str, ...], stems: list[str]) -> str | None:
    """The systems/<stem>.json that describes results/<parts...>/, if exactly one fits."""
    joined = "/".join(parts)
    for s in stems:
        if s in (joined, parts[-1]) or s == "_".join(parts):
            return s
    want = [_norm(p) for p in parts]
    equal = [
        s
        for s in stems
        if all(w in _json_stem_norm(s) for w in want)
        and len(_json_stem_norm(s)) == sum(len(w) for w in want)
    ]
    if len(equal) == 1:
        return equal[0]
    full = "".join(want)
    prefix = [
        s
        for s in stems
        if len(_json_stem_norm(s)) >= 3
        and (full.startswith(_json_stem_norm(s)) or _json_stem_norm(s).startswith(full))
    ]
    return prefix[0] if len(prefix) == 1 else None


def _text(v: Any) -> str | None:
    if not isinstance(v, str):
        return None
    s = " ".join(v.split())
    return None if s.lower() in _NONE_TEXT else s


# ---------------------------------------------------------------------------- read


def read_tiny_round(
    root: Path, version: str, source_repo: str, commit: str, log: Log | None = None
) -> RoundTable:
    """The validated TinyResults rows (one per system x benchmark) of tiny round `version`.

    `root` is a checkout of ``tiny_results_<version>`` with `SPARSE_PATTERNS`; `log`
    receives progress messages. Bad files and results become problems, never exceptions.
    """
    say = log or (lambda _msg: None)
    problems = ProblemLog("tiny", version)
    root = Path(root)
    files = RoundFiles(root)
    results: dict[tuple, _Result] = {}
    systems: dict[tuple[str, str], dict[str, _System]] = {}
    mac_forks: list[str] = []

    links: list[str] = []
    for rel in _walk(root, links):
        parts = rel.split("/")
        if parts[-1].startswith("._"):
            mac_forks.append(rel)
            continue
        if len(parts) == 4 and parts[2] == "systems" and parts[3].lower().endswith(".json"):
            div, sub = parts[0], parts[1]
            try:
                fields, lenient = load_system_json(files.read(rel, "system_json"))
            except FileRefused as e:
                problems.skip(rel, e.kind, str(e))
                continue
            except OSError as e:
                problems.skip(rel, "unreadable_file", f"{rel}: {e.strerror or e}")
                continue
            except Exception as e:  # one bad file must not sink the round
                problems.skip(rel, "bad_system_json", f"{rel}: {reason(e)}")
                continue
            if fields is None:
                problems.skip(rel, "bad_system_json", f"{rel}: not a readable system JSON")
                continue
            if lenient:
                problems.flag(
                    rel,
                    "malformed_system_json",
                    f"{rel}: invalid JSON; flat fields read one by one",
                )
            systems.setdefault((div, sub), {})[Path(parts[3]).stem] = _System(rel, fields, lenient)
            continue
        if len(parts) < 5 or parts[2] != "results":
            continue
        role = _file_role(parts[-1])
        if role is None:
            continue
        mode_dir = parts[-2]
        mode = MODE_FOLDERS.get(mode_dir.lower())
        split = _split_result_path(parts[3:-2]) if mode else None
        if mode is None or split is None:
            problems.skip(rel, "unexpected_layout", f"{rel}: not <system>/<benchmark>/<mode>/")
            continue
        sys_parts, bench_folder, variant = split
        key = (parts[0], parts[1], sys_parts, bench_folder, variant)
        res = results.setdefault(key, _Result(parts[0], parts[1], sys_parts, bench_folder, variant))
        if mode_dir != mode:
            res.mode_aliases.add(mode_dir)
        slot = res.files.setdefault(mode, {})
        if role in slot:
            problems.flag(
                rel, "multiple_files", f"{rel}: second {role} file for {mode}; using {slot[role]}"
            )
            continue
        slot[role] = rel

    for rel in sorted(links):
        problems.skip(rel, "symlinked_folder", f"{rel}: a symbolic link to a folder; not entered")
    for rel in mac_forks:
        problems.skip(rel, "mac_resource_fork", f"{rel}: mac resource-fork file (._*) ignored")

    system_meta = _system_metadata(results.values(), systems, problems)
    energy_systems = {
        (r.division, r.submitter, r.system_dir) for r in results.values() if "energy" in r.files
    }
    rows: list[dict[str, Any]] = []
    seen: dict[tuple, str] = {}
    unknown: dict[str, list[str]] = {}
    stats = {"json_energy_checked": 0, "json_perf_checked": 0}
    for key in sorted(results, key=lambda k: results[k].folder.lower()):
        res = results[key]
        try:
            row = _result_row(res, files, problems, stats)
        except FileRefused as e:
            problems.skip(res.folder, e.kind, f"{e}; result skipped")
            continue
        except OSError as e:
            problems.skip(res.folder, "unreadable_file", f"{res.folder}: {e}; skipped")
            continue
        except Exception as e:  # one bad result must not sink the round
            problems.skip(res.folder, "unreadable_result", f"{res.folder}: {reason(e)}; skipped")
            continue
        if row is None:
            continue
        meta = system_meta.get((res.division, res.submitter, res.system_dir), {})
        row.update(meta)
        row.update(
            round=version,
            source_repo=source_repo,
            source_path=res.folder,
            source_commit=commit,
        )
        if "energy" not in res.files and (res.division, res.submitter, res.system_dir) in (
            energy_systems
        ):
            problems.flag(
                res.folder,
                "missing_energy",
                f"{res.folder}: no energy run, though this system has energy results for "
                "other benchmarks; energy left empty",
            )
        uk = (row["division"], row["submitter"], row["system"], row["benchmark"])
        if uk in seen:
            problems.skip(
                res.folder,
                "duplicate_result",
                f"{res.folder}: same system and benchmark as {seen[uk]}; skipped",
            )
            continue
        seen[uk] = res.folder
        if not row["benchmark_known"]:
            unknown.setdefault(row["benchmark"], []).append(res.folder)
        rows.append(row)

    for name, folders in sorted(unknown.items()):
        problems.flag(
            folders[0],
            "unknown_benchmark",
            f"benchmark {name!r} is not one of {', '.join(TINY_BENCHMARKS)} "
            f"({len(folders)} results kept with benchmark_known=False)",
        )
    if not results:
        problems.skip(".", "no_results", f"no <division>/<submitter>/results/ files under {root}")
    df = finish(rows, TinyResults, problems)
    n_energy = int(df["energy_per_inference_uj"].notna().sum())
    say(
        f"tiny {version}: {len(df)} results, {n_energy} with energy per inference; "
        f"results.json checked: {stats['json_energy_checked']} energy, "
        f"{stats['json_perf_checked']} performance; problems {problems.counts()}"
    )
    return RoundTable(results=df, problems=problems.frame())


def _system_metadata(
    results: Any, systems: dict[tuple[str, str], dict[str, _System]], problems: ProblemLog
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """(division, submitter, system dir) -> system_name, processor, accelerator."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    for res in results:
        k = (res.division, res.submitter, res.system_dir)
        if k in out:
            continue
        cands = systems.get((res.division, res.submitter), {})
        stem = _match_system(res.system_parts, sorted(cands))
        if stem is None:
            problems.flag(
                f"{res.division}/{res.submitter}/systems",
                "missing_system_json",
                f"{res.division}/{res.submitter}/results/{res.system_dir}: no matching "
                f"systems/*.json (have {sorted(cands) or 'none'}); metadata left empty",
            )
            out[k] = {"system_name": None, "processor": None, "accelerator": None}
            continue
        sysj = cands[stem]
        f = sysj.fields
        out[k] = {
            "system_name": _text(f.get("Board Name")),
            "processor": _text(f.get("Processor(s) Name")),
            "accelerator": _text(f.get("Accelerator")),
        }
        div = _text(f.get("Division"))
        if div is not None and div.lower() != res.division.lower():
            problems.flag(
                sysj.rel,
                "system_json_division_mismatch",
                f"{sysj.rel}: Division {brief(div)} but results are under {res.division}/; "
                "the folder is used",
            )
        sub = _text(f.get("Submitter"))
        if sub is not None and not (
            _norm(res.submitter) in _norm(sub) or _norm(sub) in _norm(res.submitter)
        ):
            problems.flag(
                sysj.rel,
                "system_json_submitter_mismatch",
                f"{sysj.rel}: Submitter {brief(sub)} under {res.submitter}/; the folder is used",
            )
    return out


def _report(problems: ProblemLog, rel: str, issues: list[Issue]) -> None:
    for i in issues:
        problems.flag(rel, i.kind, f"{rel}: {i.message}")


def _read_text(files: RoundFiles, rel: str) -> str:
    return files.read_text(rel, "tiny_text")


def _read_json(files: RoundFiles, rel: str, problems: ProblemLog) -> Any | None:
    try:
        return json.loads(files.read(rel, "tiny_json"))
    except FileRefused as e:
        problems.flag(rel, e.kind, str(e))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        problems.flag(rel, "bad_json", f"{rel}: not valid JSON ({e.__class__.__name__})")
    except (RecursionError, ValueError):  # ValueError: an integer too long to convert
        problems.flag(rel, "bad_json", f"{rel}: not readable JSON (too deep or a number too long)")
    return None


def _performance(
    res: _Result, rfiles: RoundFiles, problems: ProblemLog, stats: dict[str, int]
) -> PerformanceRun | None:
    files = res.files.get("performance", {})
    if "text" in files:
        rel = files["text"]
        run = parse_performance_text(_read_text(rfiles, rel))
    elif "log" in files:
        rel = files["log"]
        run = parse_runner_log(_read_text(rfiles, rel))
        if run.throughput_ips is not None:
            problems.flag(
                rel,
                "throughput_from_log",
                f"{rel}: no results.txt; median throughput {run.throughput_ips:.3f} inf/s "
                f"recomputed from {len(run.windows)} window(s) of the raw runner log",
            )
    else:
        return None
    _report(problems, rel, run.issues)
    rec = run.recomputed_median_ips
    if run.median_ips is None and rec is not None and run.fmt != "runner_log":
        problems.flag(
            rel,
            "median_recomputed",
            f"{rel}: no 'Median throughput' line; median of "
            f"{sum(w.is_perf_complete for w in run.windows)} window(s) used",
        )
    elif (
        run.median_ips is not None
        and rec is not None
        and not agrees(rec, run.median_ips, precision(run.median_decimals, run.windows))
    ):
        problems.flag(
            rel,
            "median_mismatch",
            f"{rel}: printed median throughput {run.median_ips} but windows give {rec:.4f}",
        )
    bad = run.windows_below_minimum
    if bad:
        problems.flag(
            rel,
            "performance_runtime_not_met",
            f"{rel}: {bad} of {len(run.windows)} performance window(s) below the runtime "
            "requirement; result kept as published",
        )
    if "json" in files and run.median_ips is not None:
        data = _read_json(rfiles, files["json"], problems)
        if data is not None:
            vals, issues = throughputs_from_results_json(data)
            _report(problems, files["json"], issues)
            if vals:
                stats["json_perf_checked"] += 1
                med = statistics.median(vals)
                if not agrees(med, run.median_ips, run.median_decimals):
                    problems.flag(
                        files["json"],
                        "json_mismatch",
                        f"{files['json']}: median throughput {med:.4f} from the JSON windows, "
                        f"{run.median_ips} in results.txt",
                    )
    return run


def _energy(
    res: _Result, rfiles: RoundFiles, problems: ProblemLog, stats: dict[str, int]
) -> EnergyRun | None:
    files = res.files.get("energy", {})
    if "text" not in files:
        if files:
            rel = next(iter(files.values()))
            problems.flag(
                rel,
                "energy_log_only",
                f"{rel}: energy folder without a results file; energy left empty",
            )
        return None
    rel = files["text"]
    run = parse_energy_text(_read_text(rfiles, rel))
    _report(problems, rel, run.issues)
    for alias in sorted(res.mode_aliases):
        problems.flag(
            rel, "mode_folder_alias", f"{rel}: energy-mode output in a folder named {alias!r}"
        )
    rec = run.recomputed_median_uj
    if run.median_uj is None and rec is not None:
        problems.flag(
            rel,
            "median_recomputed",
            f"{rel}: no 'Median energy cost' line; median of "
            f"{sum(w.is_energy_complete for w in run.windows)} window(s) used",
        )
    elif (
        run.median_uj is not None
        and rec is not None
        and not agrees(rec, run.median_uj, precision(run.median_decimals, run.windows))
    ):
        problems.flag(
            rel,
            "median_mismatch",
            f"{rel}: printed median energy {run.median_uj} uJ but windows give {rec:.4f}",
        )
    if run.energy_per_inference_uj is None and run.power_w is None:
        problems.flag(rel, "no_energy_value", f"{rel}: no readable energy; energy left empty")
    bad = run.windows_below_minimum
    if bad or any("at least 10 seconds" in e for e in run.runner_errors):
        n = max(len(run.windows), len(run.perf_windows))
        problems.flag(
            rel,
            "energy_runtime_not_met",
            f"{rel}: {bad or 'some'} of {n} energy window(s) below the runtime requirement"
            + (" (none met it)" if bad and bad == n else "")
            + "; result kept as published",
        )
    other = [e for e in run.runner_errors if "at least 10 seconds" not in e]
    for e in other:
        problems.flag(rel, "runner_error", f"{rel}: {e}")
    if "json" in files and run.median_uj is not None:
        data = _read_json(rfiles, files["json"], problems)
        if data is not None:
            je = energy_from_results_json(data)
            _report(problems, files["json"], je.issues)
            if je.median_uj is not None:
                stats["json_energy_checked"] += 1
                if not agrees(je.median_uj, run.median_uj, run.median_decimals):
                    problems.flag(
                        files["json"],
                        "json_mismatch",
                        f"{files['json']}: median energy {je.median_uj:.4f} uJ from the raw "
                        f"samples, {run.median_uj} uJ in results.txt",
                    )
    return run


def _accuracy(res: _Result, rfiles: RoundFiles, problems: ProblemLog) -> AccuracyResult | None:
    files = res.files.get("accuracy", {})
    if "text" not in files:
        return None
    rel = files["text"]
    acc = parse_accuracy_text(_read_text(rfiles, rel))
    _report(problems, rel, acc.issues)
    return acc


def _result_row(
    res: _Result, rfiles: RoundFiles, problems: ProblemLog, stats: dict[str, int]
) -> dict[str, Any] | None:
    bench, known = canonical_tiny_benchmark(res.bench_folder)
    perf = _performance(res, rfiles, problems, stats)
    energy = _energy(res, rfiles, problems, stats)
    acc = _accuracy(res, rfiles, problems)
    if perf is None and energy is None:
        modes = ", ".join(sorted(res.files)) or "none"
        problems.skip(
            res.folder,
            "no_performance_or_energy",
            f"{res.folder}: no performance or energy results (modes: {modes}); skipped",
        )
        return None
    throughput = perf.throughput_ips if perf else None
    if throughput is not None and throughput <= 0:
        problems.flag(res.folder, "bad_value", f"{res.folder}: throughput {throughput} <= 0")
        throughput = None
    if perf is None:
        problems.flag(
            res.folder,
            "missing_performance",
            f"{res.folder}: energy run without a performance run; throughput left empty",
        )
    elif throughput is None:
        problems.flag(
            res.folder, "no_throughput", f"{res.folder}: no readable throughput; left empty"
        )

    epi = power = None
    if energy is not None:
        epi, power = energy.energy_per_inference_uj, energy.power_w
        streaming = energy.streaming is not None or bench in NEW_BENCHMARKS
        if streaming and epi is not None:
            secs = energy.windows[0].seconds if energy.windows else None
            problems.flag(
                res.folder,
                "streaming_energy_per_run",
                f"{res.folder}: the 'per inference' energy {epi} uJ is the energy of the whole "
                f"{secs or '?'} s streaming run; energy per inference left empty, power kept",
            )
            epi = None
        if power is None and epi is not None and energy.median_ips:
            power = epi * 1e-6 * energy.median_ips
            problems.flag(
                res.folder,
                "power_from_throughput",
                f"{res.folder}: no logged power; energy per inference x energy-run throughput",
            )
        for name, v in (("energy per inference", epi), ("power", power)):
            if v is not None and v <= 0:
                problems.flag(res.folder, "bad_value", f"{res.folder}: {name} {v} <= 0; dropped")
        epi = epi if epi is not None and epi > 0 else None
        power = power if power is not None and power > 0 else None

    accuracy = None
    detections = any(
        r is not None and r.streaming is not None and r.streaming.true_positives is not None
        for r in (perf, energy)
    )
    if acc is None and not detections:
        problems.flag(res.folder, "missing_accuracy", f"{res.folder}: no accuracy results")
    elif bench == "ad":
        accuracy = acc.auc
    elif known:
        accuracy = acc.top1_pct
    if acc is not None and accuracy is None and known:
        problems.flag(res.folder, "no_accuracy_value", f"{res.folder}: no readable accuracy")

    row = {
        "division": res.division,
        "submitter": res.submitter,
        "system": res.system,
        "benchmark": bench,
        "benchmark_known": known,
        "latency_ms": 1000.0 / throughput if throughput else None,
        "throughput_ips": throughput,
        "energy_per_inference_uj": epi,
        "power_w": power,
        "inferences_per_joule": 1e6 / epi if epi else None,
        "accuracy": accuracy,
    }
    for col in _VALUE_COLUMNS:
        v = row[col]
        if v is not None and not (math.isfinite(v) and (col == "accuracy" or v > 0)):
            problems.flag(res.folder, "bad_value", f"{res.folder}: {col} out of range; left empty")
            row[col] = None
    return row


_VALUE_COLUMNS = (
    "latency_ms",
    "throughput_ips",
    "energy_per_inference_uj",
    "power_w",
    "inferences_per_joule",
    "accuracy",
)
