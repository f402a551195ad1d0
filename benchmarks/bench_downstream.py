"""Time the downstream stage (metric tables and figures) on an already built warehouse.

    python benchmarks/bench_downstream.py [--home ./data] [--only fig9 --only fig5a]
                                          [--profile [N]]

Loads the tidy tables of ``$MLPERF_POWER_HOME/warehouse.duckdb`` once (read-only, typed as the
assets type them), then computes each metric table the way its asset does (every category and
division slice, the trend of ``inference_best_efficiency`` included) and builds, renders and
saves each figure with its default parameters (files go to a temporary folder). Prints CPU
seconds (``time.process_time``) and wall seconds per step and the totals. ``--profile`` also
prints the top cProfile entries of the whole run, by cumulative and by own time.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

# Category and division slices the metric assets compute, as in defs/metrics.py.
CATEGORIES = ("datacenter", "edge")
DIVISIONS = ("closed", "open", "network")


@dataclass
class Step:
    """One timed step: a metric table, or the build or render of a figure."""

    name: str
    stage: str
    run: Callable[[], Any]


def load_tables(home: Path) -> dict[str, pd.DataFrame]:
    """The tidy tables of a built home, validated by their schemas (missing ones empty)."""
    from mlperf_power_dag.schemas import (
        InferenceResults,
        TinyResults,
        TrainingResults,
        columns,
        empty,
    )

    path = home / "warehouse.duckdb"
    if not path.exists():
        raise SystemExit(f"no warehouse at {path}; run `mlperf-power build` with this home first")
    models = {"inference": InferenceResults, "tiny": TinyResults, "training": TrainingResults}
    con = duckdb.connect(str(path), read_only=True)
    try:
        have = {r[0] for r in con.sql("select table_name from duckdb_tables()").fetchall()}
        out = {}
        for suite, model in models.items():
            table = f"{suite}_results"
            if table not in have:
                out[suite] = empty(model)
                continue
            df = con.sql(f"select * from mlperf.{table}").df()
            out[suite] = model.validate(df[columns(model)])
    finally:
        con.close()
    return out


def _per_slice(results: pd.DataFrame, fn: Callable[..., Any]) -> pd.DataFrame:
    parts = []
    present = set(zip(results["category"], results["division"], strict=True))
    for category in CATEGORIES:
        for division in DIVISIONS:
            if (category, division) in present:
                frame = fn(results, category=category, division=division).frame
                if len(frame):
                    parts.append(frame)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def metric_steps(results: pd.DataFrame) -> list[Step]:
    """The three metric tables, computed as their assets compute them."""
    from mlperf_power_dag import metrics

    def best_efficiency() -> pd.DataFrame:
        best = _per_slice(results, metrics.best_per_round)
        if best.empty:
            return best
        parts = [
            metrics.normalize_to_first(metrics.running_max(grp))
            for _, grp in best.groupby(["category", "division"], sort=False)
        ]
        return pd.concat(parts, ignore_index=True)

    return [
        Step("inference_best_efficiency", "metric", best_efficiency),
        Step(
            "inference_accuracy_pairs",
            "metric",
            lambda: _per_slice(results, metrics.same_system_pairs),
        ),
        Step(
            "inference_software_gains",
            "metric",
            lambda: _per_slice(results, metrics.consecutive_pairs),
        ),
    ]


def figure_steps(tables: dict[str, pd.DataFrame], out_dir: Path) -> list[Step]:
    """Build, then render and save, each figure with its default parameters."""
    from mlperf_power_dag.defs.figures import FIGURES
    from mlperf_power_dag.figures import common

    # key -> (build, render, tables: the first is positional, the others keyword arguments)
    specs = {f.key: (f.build, f.render, f.tables) for f in FIGURES}
    built: dict[str, Any] = {}
    steps = []
    for key, (build, render, names) in specs.items():
        first = tables[names[0]]
        extra = {n: (None if tables[n].empty else tables[n]) for n in names[1:]}

        def do_build(key=key, build=build, first=first, extra=extra) -> Any:
            built[key] = build(first, None, **extra)
            return built[key]

        def do_render(key=key, render=render) -> Any:
            data = built[key]
            return common.save(render(data), data, out_dir, key)

        steps.append(Step(key, "build", do_build))
        steps.append(Step(key, "render", do_render))
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
    # Rounds discovered into this home (rounds.json) take part in the round order.
    os.environ["MLPERF_POWER_HOME"] = str(home)

    cpu, wall = time.process_time(), time.perf_counter()
    tables = load_tables(home)
    load_cpu, load_wall = time.process_time() - cpu, time.perf_counter() - wall
    sizes = ", ".join(f"{k} {len(v)}" for k, v in tables.items())
    print(f"home {home}: rows {sizes}; loaded in {load_cpu:.2f} s CPU, {load_wall:.2f} s wall")

    with tempfile.TemporaryDirectory(prefix="bench_downstream_") as tmp:
        steps = [*metric_steps(tables["inference"]), *figure_steps(tables, Path(tmp))]
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
