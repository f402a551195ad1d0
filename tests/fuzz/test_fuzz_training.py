"""Fuzz the training result and power log parsers (mlperf-logging underneath) and the reader."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

from fuzzlib import COMMIT, check_round, counted, fuzz_settings, mutated_mllog, pick, write_tree
from hypothesis import given
from hypothesis import strategies as st

from mlperf_power_dag.parsers.training_logs import (
    ResultLogError,
    node_energy,
    read_result_log,
    switch_energy,
)
from mlperf_power_dag.readers.training import read_training_round

RULESET = "4.0.0"
TTT_MS = 2_172_524.0  # a real time to train of the sample (ssd, 1xSMC)


def _samples(tree: dict[str, str], kind: str) -> list[str]:
    def is_kind(p: str) -> bool:
        name = p.rsplit("/", 1)[-1]
        return name.startswith(kind) and ("/power/" in p) == (kind != "result_")

    return [text for p, text in sorted(tree.items()) if is_kind(p)]


def test_result_log(budget, fuzz_long, training_tree):
    """Only ResultLogError escapes; a counted run has finite start and stop."""
    samples = _samples(training_tree, "result_")[:2]

    @fuzz_settings(budget(50), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        text = mutated_mllog(data.draw, pick(data.draw, samples))
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "result_0.txt"
            path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
            try:
                log = read_result_log(path, RULESET)
            except ResultLogError as e:
                assert len(str(e)) < 400
                return
        assert math.isfinite(log.run_start_ms) and math.isfinite(log.run_stop_ms)

    run()


def test_power_logs(budget, fuzz_long, training_tree, switch_sample):
    """Node and switch logs never raise; an energy is finite or None (with an issue)."""
    nodes = _samples(training_tree, "node_")[:2]

    @fuzz_settings(budget(150), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        switch = data.draw(st.booleans())
        sample = switch_sample if switch else pick(data.draw, nodes)
        text = mutated_mllog(data.draw, sample)
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / ("sw_0.txt" if switch else "node_1.txt")
            path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
            log = (switch_energy if switch else node_energy)(path, TTT_MS, RULESET)
        for e in (log.energy_j, log.readings_energy_j):
            assert e is None or math.isfinite(e)
        if log.energy_j is None:
            assert log.issues

    run()


def test_training_reader(budget, fuzz_long, training_tree):
    """One real power result (5 runs) with 1-2 files mutated: the reader never raises."""
    names = sorted(training_tree)

    @fuzz_settings(budget(12), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        tree = dict(training_tree)
        for _ in range(data.draw(st.integers(1, 2))):
            name = pick(data.draw, names)
            tree[name] = mutated_mllog(data.draw, training_tree[name])
        with tempfile.TemporaryDirectory() as d:
            write_tree(Path(d), tree)
            table = read_training_round(Path(d), "v4.0", "mlcommons/training_results_v4.0", COMMIT)
        check_round(table)

    run()
