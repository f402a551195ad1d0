"""Time the downstream stage (metric tables and figures) on an already built home.

    python benchmarks/bench_downstream.py [--home ./data] [--only fig9 --only fig5a]
                                          [--profile [N]]

Loads the tidy tables of the home's Parquet dataset once (typed as the assets type them) and
its rounds table (as the `rounds` asset computes it), then computes each metric table with the
function its asset calls and builds, renders and saves each figure with its default
parameters and the inputs its asset gets (files go to a temporary folder). Prints CPU seconds
(``time.process_time``) and wall seconds per step and the totals. ``--profile`` also prints
the top cProfile entries of the whole run, by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass
class Step:
    """One timed unit of work."""

    name: str
    stage: str
    run: Callable[[], Any]


def load_tables(home: Path) -> dict[str, pd.DataFrame]:
    """The tidy tables of a built home's dataset, validated by their schemas (missing ones
    empty)."""
    from mlperf_power_dag import dataset
    from mlperf_power_dag.schemas import InferenceResults, TinyResults, TrainingResults

    base = home / "dataset"
    if not (base / "manifest.json").exists():
        raise SystemExit(f"no dataset at {base}; run `mlperf-power build` with this home first")
    models = {"inference": InferenceResults, "tiny": TinyResults, "training": TrainingResults}
    out = {}
    for suite, model in models.items():
        frame, _ = dataset.read_partitions(dataset.UPath(base), f"{suite}_results", None, model)
        out[suite] = frame
    return out


def known_rounds(home: Path) -> pd.DataFrame:
    """The rounds table the metric and figure assets get, computed as the `rounds` asset
    computes it: catalog + rounds discovered into `home` + the commits of its dataset."""
    from mlperf_power_dag.defs.known_rounds import current_rounds
    from mlperf_power_dag.defs.resources import MlperfHome

    return current_rounds(MlperfHome(path=str(home)))


def metric_steps(
    results: pd.DataFrame, rounds: pd.DataFrame, out: dict[str, pd.DataFrame]
) -> list[Step]:
    """The three metric tables, computed by the functions their assets call (kept in `out`
    for the figures that plot them)."""
    from mlperf_power_dag import metrics

    tables = {
        "inference_best_efficiency": lambda: metrics.best_efficiency_table(results),
        "inference_accuracy_pairs": lambda: metrics.accuracy_pairs_table(results),
        "inference_software_gains": lambda: metrics.software_gains_table(results, rounds),
    }

    def step(name: str, fn: Callable[[], Any]) -> Callable[[], pd.DataFrame]:
        def run() -> pd.DataFrame:
            out[name] = fn().frame
            return out[name]

        return run

    return [Step(name, "metric", step(name, fn)) for name, fn in tables.items()]


def figure_steps(
    tables: dict[str, pd.DataFrame],
    rounds: pd.DataFrame,
    metric_tables: dict[str, pd.DataFrame],
    out_dir: Path,
) -> list[Step]:
    """Build, then render and save, each figure with its default parameters."""
    from mlperf_power_dag.asset_inputs import FIGURE_METRICS
    from mlperf_power_dag.defs.figures import FIGURES
    from mlperf_power_dag.figures import common

    built: dict[str, Any] = {}
    steps = []
    for spec in FIGURES:
        first = tables[spec.tables[0]]
        extra: dict[str, Any] = {
            n: (None if tables[n].empty else tables[n]) for n in spec.tables[1:]
        }
        metric_inputs = FIGURE_METRICS.get(spec.key, {})
        takes_rounds = "rounds" in inspect.signature(spec.build).parameters

        def do_build(spec=spec, first=first, extra=extra, metric_inputs=metric_inputs,
                     takes_rounds=takes_rounds) -> Any:  # fmt: skip
            kw = dict(extra)
            kw.update({k: metric_tables.get(t) for k, t in metric_inputs.items()})
            if takes_rounds:
                kw["rounds"] = rounds
            built[spec.key] = spec.build(first, None, **kw)
            return built[spec.key]

        def do_render(spec=spec) -> Any:
            data = built[spec.key]
            return common.save(spec.render(data), data, out_dir, spec.key)

        steps.append(Step(spec.key, "build", do_build))
        steps.append(Step(spec.key, "render", do_render))
    return steps


def timed(step: Step) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one step."""
    cpu, wall = time.process_time(), time.perf_counter()
    step.run()
    return time.process_time() - cpu, time.perf_counter() - wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=Path("data"), help="MLPERF_POWER_HOME")
    ap.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this metric table or figure key (repeatable)",
    )
    ap.add_argument(
        "--profile",
        type=int,
        nargs="?",
        const=25,
        default=0,
        metavar="N",
        help="print the top N cProfile entries (default 25)",
    )
    args = ap.parse_args(argv)
    home = args.home.absolute()

    cpu, wall = time.process_time(), time.perf_counter()
    tables = load_tables(home)
    rounds = known_rounds(home)
    load_cpu, load_wall = time.process_time() - cpu, time.perf_counter() - wall
    sizes = ", ".join(f"{k} {len(v)}" for k, v in tables.items())
    print(f"home {home}: rows {sizes}; loaded in {load_cpu:.2f} s CPU, {load_wall:.2f} s wall")

    with tempfile.TemporaryDirectory(prefix="bench_downstream_") as tmp:
        metric_tables: dict[str, pd.DataFrame] = {}
        steps = [
            *metric_steps(tables["inference"], rounds, metric_tables),
            *figure_steps(tables, rounds, metric_tables, Path(tmp)),
        ]
        if args.only:
            known = {s.name for s in steps}
            unknown = sorted(set(args.only) - known)
            if unknown:
                ap.error(f"unknown step(s) {', '.join(unknown)}; known: {', '.join(known)}")
            steps = [s for s in steps if s.name in args.only]
        profiler = cProfile.Profile() if args.profile else None
        rows = []
        for step in steps:
            if profiler is not None:
                profiler.enable()
            try:
                cpu_s, wall_s = timed(step)
            finally:
                if profiler is not None:
                    profiler.disable()
            rows.append((step.name, step.stage, cpu_s, wall_s))
            print(f"  {step.stage:<7} {step.name:<26} {cpu_s:8.2f} {wall_s:8.2f}", flush=True)

    print()
    print(f"{'step':<26} {'stage':<7} {'CPU s':>8} {'wall s':>8}")
    for name, stage, cpu_s, wall_s in rows:
        print(f"{name:<26} {stage:<7} {cpu_s:8.2f} {wall_s:8.2f}")
    for stage in ("metric", "build", "render"):
        sel = [r for r in rows if r[1] == stage]
        if sel:
            c, w = sum(r[2] for r in sel), sum(r[3] for r in sel)
            print(f"{'total ' + stage:<26} {'':<7} {c:8.2f} {w:8.2f}")
    print(f"{'total':<26} {'':<7} {sum(r[2] for r in rows):8.2f} {sum(r[3] for r in rows):8.2f}")

    if profiler is not None:
        for key in ("cumulative", "tottime"):
            buf = io.StringIO()
            pstats.Stats(profiler, stream=buf).sort_stats(key).print_stats(args.profile)
            print(f"\n--- cProfile, top {args.profile} by {key} ---")
            print(buf.getvalue().strip("\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
