"""Build of every inference round from a git base (cold unless --home), and parse vs reads.

Usage: python benchmarks/bench_inference_build.py [--base file:///path/to/github-mirror]
       [--home DIR] [--round v3.0 ...]

Prints, per round: fetch seconds, files and MB fetched, parse seconds (CPU and wall), rows,
the seconds it takes just to read the same bytes from disk (CPU and wall), and the parse
throughput as a share of the plain-read throughput (read s / parse s; higher is better, 100%
would mean parsing costs no more than reading). The files are read once untimed first, so
both timed passes find them in the page cache. `--home` reuses a home folder (and its
fetched checkouts) instead of a fresh temporary one.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def read_all_bytes(root: Path) -> tuple[int, float, float]:
    """Bytes of every file under `root` (not .git), and the CPU and wall seconds to read them."""
    c0, t0 = time.process_time(), time.perf_counter()
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as f:
                n += len(f.read())
    return n, time.process_time() - c0, time.perf_counter() - t0


def _share(read_s: float, parse_s: float) -> str:
    return f"{100 * read_s / max(parse_s, 1e-9):.0f}%"


def main() -> None:
    default_base = "file://" + str(Path(__file__).resolve().parents[2] / "shared" / "github-mirror")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=os.environ.get("MLPERF_POWER_GIT_BASE", default_base))
    ap.add_argument("--home", help="reuse this MLPERF_POWER_HOME (warm cache)")
    ap.add_argument("--round", action="append", help="only these rounds (repeatable)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlperf-bench-") as tmp:
        os.environ["MLPERF_POWER_HOME"] = args.home or tmp
        os.environ["MLPERF_POWER_GIT_BASE"] = args.base
        from mlperf_power_dag.rounds import load, registry

        print(
            f"{'round':6} {'source':7} {'fetch_s':>8} {'files':>6} {'MB':>7} {'parse_cpu':>9} "
            f"{'parse_s':>8} {'rows':>6} {'power':>6} {'read_cpu':>8} {'read_s':>7} "
            f"{'thru_cpu':>8} {'thru':>6}"
        )
        tot = dict.fromkeys(("fetch", "pcpu", "pwall", "rcpu", "rwall", "mb"), 0.0)
        for rnd in registry.all_rounds("inference"):
            if args.round and rnd.version not in args.round:
                continue
            fetched = load.fetch_round(rnd)
            read_all_bytes(fetched.path)  # warm the page cache for both timed passes
            c0, t0 = time.process_time(), time.perf_counter()
            table = load.read_round(rnd)
            pcpu, pwall = time.process_time() - c0, time.perf_counter() - t0
            nbytes, rcpu, rwall = read_all_bytes(fetched.path)
            power = int(table.results["power_w"].notna().sum())
            print(
                f"{rnd.version:6} {rnd.source:7} {fetched.seconds:8.2f} {fetched.files:6d} "
                f"{nbytes / 1e6:7.1f} {pcpu:9.2f} {pwall:8.2f} {len(table.results):6d} "
                f"{power:6d} {rcpu:8.2f} {rwall:7.2f} {_share(rcpu, pcpu):>8} "
                f"{_share(rwall, pwall):>6}",
                flush=True,
            )
            got = (fetched.seconds, pcpu, pwall, rcpu, rwall, nbytes / 1e6)
            for k, v in zip(tot, got, strict=True):
                tot[k] += v
        print(
            f"build (fetch + parse) of these rounds: {tot['fetch'] + tot['pwall']:.1f}s "
            f"(fetch {tot['fetch']:.1f}s, parse {tot['pwall']:.1f}s wall, {tot['pcpu']:.1f}s CPU)"
        )
        print(
            f"parse {tot['mb'] / max(tot['pwall'], 1e-9):.0f} MB/s vs read "
            f"{tot['mb'] / max(tot['rwall'], 1e-9):.0f} MB/s (wall): parse throughput "
            f"{_share(tot['rwall'], tot['pwall'])} of reads; by CPU time "
            f"{_share(tot['rcpu'], tot['pcpu'])}"
        )


if __name__ == "__main__":
    main()
