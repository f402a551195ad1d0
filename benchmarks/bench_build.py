"""Whole-command costs of `mlperf-power`: cold, warm, one figure, a new round; parse throughput.

Usage: python benchmarks/bench_build.py [--base file:///path/to/github-mirror] [--jobs N]
                                         [--home DIR] [--keep]

Runs every command as a user would, in a fresh `MLPERF_POWER_HOME`, and prints for each the
wall time, the CPU seconds of the whole command (the process and its workers), and the peak
memory of the largest process, next to the project's target. CPU seconds are the honest part
on a shared machine; the wall time depends on the load. No assertion is made: read the ratios.

1. cold: `mlperf-power build --no-discover` of every suite and all figures, and its ratio to
   the floor: a plain `git clone` of the same repositories plus `cat` of the files read;
2. warm: the same command again, nothing changed;
3. figure: `mlperf-power figure fig5a` with the tables built, in a fresh process and handed to
   a running `mlperf-power serve` (its CPU counted too); and the render alone;
4. new round: inference v4.1 removed from the dataset, then the build (one round + downstream);
5. parse throughput of the inference tree rounds against plain reads of the same bytes.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Cost:
    wall: float
    cpu: float
    peak_mb: float
    code: int


def run(cmd: list[str], env: dict[str, str]) -> Cost:
    """Run a command; its wall time, CPU seconds (with its children) and peak RSS."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-5:]
        print(f"  ! {' '.join(cmd)} exited {proc.returncode}: {' | '.join(tail)}")
    return Cost(wall, cpu, after.ru_maxrss / 1024, proc.returncode)


def files_read(cache: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(cache):
        if ".git" in dirnames:
            dirnames.remove(".git")
        out += [Path(dirpath) / n for n in filenames if not n.startswith(".mlperf-fetch")]
    return out


def floor_cost(home: Path, base: str, tmp: Path) -> Cost:
    """`git clone --depth 1` of every repository the build fetched, then `cat` of its files."""
    from mlperf_power_dag.rounds import download

    repos = sorted({(p.parent.name, p.name.split("@")[0]) for p in (home / "cache").glob("*/*@*")})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    for owner, repo in repos:
        dest = tmp / "clones" / owner / repo
        if dest.exists():
            continue
        url = download.repo_url(base, owner, repo)
        subprocess.run(
            ["git", "-c", "protocol.file.allow=always", "clone", "-q", "--depth", "1",
             "--no-single-branch", url, str(dest)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    paths = files_read(home / "cache")
    for i in range(0, len(paths), 500):
        subprocess.run(["cat", *map(str, paths[i : i + 500])], stdout=subprocess.DEVNULL,
                       check=True)  # fmt: skip
    wall = time.monotonic() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Cost(wall, cpu, 0.0, 0)


def _cpu_of(pid: int) -> float:
    """CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def served_figure(cli: list[str], env: dict[str, str], home: Path) -> tuple[Cost, float]:
    """`mlperf-power figure fig5a` handed to a running `mlperf-power serve` (CPU: client and
    server), and the seconds the server took to start listening."""
    from mlperf_power_dag import server

    sock = server.socket_path(home)
    t0 = time.monotonic()
    proc = subprocess.Popen([*cli, "serve"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)  # fmt: skip
    try:
        while not sock.exists():
            if proc.poll() is not None or time.monotonic() - t0 > 300:
                print("  ! mlperf-power serve did not start")
                return Cost(float("nan"), float("nan"), float("nan"), 1), float("nan")
            time.sleep(0.05)
        ready = time.monotonic() - t0
        before = _cpu_of(proc.pid)
        cost = run([*cli, "figure", "fig5a"], env)
        cost.cpu += _cpu_of(proc.pid) - before
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    if "served by" not in err.decode(errors="replace"):
        print("  ! the figure was not served by mlperf-power serve")
    return cost, ready


def numbers(code: str, env: dict[str, str], n: int, what: str) -> list[float]:
    """The numbers a Python snippet prints, run in its own interpreter (NaNs if it fails)."""
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    if out.returncode != 0:
        print(f"  ! {what} failed:", out.stderr.strip().splitlines()[-1:])
        return [float("nan")] * n
    return [float(x) for x in out.stdout.split()]


def render_alone(env: dict[str, str]) -> tuple[float, float]:
    """CPU and wall seconds of building and drawing fig5a from tables already loaded."""
    code = (
        "import time, matplotlib.pyplot as plt\n"
        "from upath import UPath\n"
        "from mlperf_power_dag import dataset, settings\n"
        "from mlperf_power_dag.defs.figures import FIGURES, typed\n"
        "from mlperf_power_dag.figures import common\n"
        "from mlperf_power_dag.schemas import InferenceResults\n"
        "spec = {f.key: f for f in FIGURES}['fig5a']\n"
        "df, _ = dataset.read_partitions(UPath(settings.dataset_dir()), 'inference_results',"
        " None, InferenceResults)\n"
        "df = typed('inference', df)\n"
        "c0, w0 = time.process_time(), time.perf_counter()\n"
        "data = spec.build(df, spec.params())\n"
        "fig = spec.render(data)\n"
        "common.save(fig, data, settings.figures_dir(), 'fig5a-bench'); plt.close(fig)\n"
        "print(time.process_time() - c0, time.perf_counter() - w0)\n"
    )
    cpu, wall = numbers(code, env, 2, "render alone")
    return cpu, wall


def parse_throughput(env: dict[str, str]) -> tuple[float, float, float]:
    """(MB, parse CPU seconds, read seconds) over the inference tree rounds in the cache."""
    code = (
        "import os, time\n"
        "from mlperf_power_dag.rounds import registry, load\n"
        "tot_mb = tot_parse = tot_read = 0.0\n"
        "for rnd in registry.all_rounds('inference'):\n"
        "    if rnd.source != 'tree':\n"
        "        continue\n"
        "    root, _ = load.cached_checkout(rnd)\n"
        "    c0 = time.process_time(); load.read_round(rnd); tot_parse += "
        "time.process_time() - c0\n"
        "    c0 = time.process_time(); n = 0\n"
        "    for d, ds, fs in os.walk(root):\n"
        "        ds[:] = [x for x in ds if x != '.git']\n"
        "        for f in fs:\n"
        "            with open(os.path.join(d, f), 'rb') as fh: n += len(fh.read())\n"
        "    tot_read += time.process_time() - c0; tot_mb += n / 1e6\n"
        "print(tot_mb, tot_parse, tot_read)\n"
    )
    mb, parse, read = numbers(code, env, 3, "parse throughput")
    return mb, parse, read


def main() -> None:
    default_base = "file://" + str(ROOT.parent / "shared" / "github-mirror")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=os.environ.get("MLPERF_POWER_GIT_BASE", default_base))
    ap.add_argument("--jobs", type=int, default=None, help="passed to mlperf-power build")
    ap.add_argument("--home", help="use this (empty or absent) folder instead of a temporary one")
    ap.add_argument("--keep", action="store_true", help="keep the home afterwards")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="mlperf-bench-"))
    home = Path(args.home).absolute() if args.home else tmp / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPERF_POWER", "DAGSTER"))}
    env.update(MLPERF_POWER_HOME=str(home), MLPERF_POWER_GIT_BASE=args.base)
    cli = [sys.executable, "-m", "mlperf_power_dag"]
    build = [*cli, "build", "--no-discover"] + (["--jobs", str(args.jobs)] if args.jobs else [])
    start = run([sys.executable, "-c", "import mlperf_power_dag.cli"], env)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    print(f"interpreter start + import of the CLI module: {start.wall:.2f}s wall")
    rows = []
    try:
        cold = run(build, env)
        floor = floor_cost(home, args.base, tmp)
        rows.append(("cold build, every suite and figure", cold, "<= 60 s wall"))
        warm = run(build, env)
        rows.append(("warm build, nothing changed", warm, "<= 5 s beyond start"))
        fig = run([*cli, "figure", "fig5a"], env)
        rows.append(("one figure (fig5a), fresh process", fig, "(imports alone ~2.5 s)"))
        served, ready = served_figure(cli, env, home)
        rows.append(("one figure (fig5a), `serve` running", served, "<= 3 s wall"))
        for table_dir in (home / "dataset").glob("inference_*/round=v4.1"):
            shutil.rmtree(table_dir)
        new = run(build, env)
        rows.append(("new round (inference v4.1) + downstream", new, "<= 15 s wall"))
        render_cpu, render_wall = render_alone(env)
        mb, parse, read = parse_throughput(env)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'command':42} {'wall s':>8} {'CPU s':>8} {'peak MB':>8} {'exit':>4}  target")
    for name, c, target in rows:
        print(f"{name:42} {c.wall:8.1f} {c.cpu:8.1f} {c.peak_mb:8.0f} {c.code:>4}  {target}")
    print(f"{'floor: git clone + cat of the same files':42} {floor.wall:8.1f} {floor.cpu:8.1f}")
    print(
        f"cold build / floor: {cold.wall / floor.wall:.1f}x wall, {cold.cpu / floor.cpu:.1f}x CPU"
    )
    print(f"warm build beyond interpreter start: {warm.wall - start.wall:.1f}s wall")
    print(f"mlperf-power serve listening after {ready:.1f}s (once per session)")
    print(f"render alone (fig5a build + draw + save): {render_wall:.2f}s wall, "
          f"{render_cpu:.2f}s CPU (target <= 0.5 s)")  # fmt: skip
    print(
        f"inference tree parse: {mb:.0f} MB, {parse:.1f}s CPU vs {read:.1f}s to read: "
        f"throughput {100 * read / parse:.0f}% of plain reads (target >= 25%)"
    )
    print(f"peak memory of the cold build: {cold.peak_mb:.0f} MB (target < 2048 MB)")


if __name__ == "__main__":
    main()
