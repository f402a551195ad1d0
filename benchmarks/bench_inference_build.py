"""Cold build of every inference round from a git base, and parse throughput vs raw reads.

Usage: python benchmarks/bench_inference_build.py [--base file:///path/to/github-mirror]

Prints, per round: fetch seconds, files and MB fetched, parse seconds, rows, and the ratio
of parse time to the time it takes just to read the same bytes from disk (lower is better;
1.0 would mean parsing costs no more than reading).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path


def read_all_bytes(root: Path) -> tuple[int, float]:
    t0 = time.perf_counter()
    n = 0
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            n += len((Path(dirpath) / name).read_bytes())
    return n, time.perf_counter() - t0


def main() -> None:
    default_base = "file://" + str(Path(__file__).resolve().parents[2] / "shared" / "github-mirror")
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=os.environ.get("MLPERF_POWER_GIT_BASE", default_base))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="mlperf-bench-") as home:
        os.environ["MLPERF_POWER_HOME"] = home
        os.environ["MLPERF_POWER_GIT_BASE"] = args.base
        from mlperf_power_dag import registry, rounds_io

        print(
            f"{'round':6} {'source':7} {'fetch_s':>8} {'files':>6} {'MB':>8} "
            f"{'parse_s':>8} {'rows':>6} {'power':>6} {'read_s':>7} {'parse/read':>10}"
        )
        tot_fetch = tot_parse = tot_read = 0.0
        tot_mb = 0.0
        for rnd in registry.all_rounds("inference"):
            fetched = rounds_io.fetch_round(rnd)
            t0 = time.perf_counter()
            table = rounds_io.read_round(rnd)
            parse_s = time.perf_counter() - t0
            # second pass over the same (now cached) bytes: the floor for any parser
            nbytes, read_s = read_all_bytes(fetched.path)
            power = int(table.results["power_w"].notna().sum())
            print(
                f"{rnd.version:6} {rnd.source:7} {fetched.seconds:8.2f} {fetched.files:6d} "
                f"{nbytes / 1e6:8.1f} {parse_s:8.2f} {len(table.results):6d} {power:6d} "
                f"{read_s:7.2f} {parse_s / max(read_s, 1e-9):10.1f}"
            )
            tot_fetch += fetched.seconds
            tot_parse += parse_s
            tot_read += read_s
            tot_mb += nbytes / 1e6
        print(
            f"cold build (fetch + parse) of all inference rounds: {tot_fetch + tot_parse:.1f}s "
            f"(fetch {tot_fetch:.1f}s, parse {tot_parse:.1f}s)"
        )
        print(
            f"parse throughput {tot_mb / tot_parse:.0f} MB/s vs read {tot_mb / tot_read:.0f} MB/s:"
            f" parse/read time ratio {tot_parse / tot_read:.1f}"
        )


if __name__ == "__main__":
    main()
