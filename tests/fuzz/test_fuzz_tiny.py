"""Fuzz the Tiny parsers (runner text, raw logs, results.json) and the Tiny reader."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fuzzlib import (
    COMMIT,
    assert_finite_numbers,
    check_round,
    counted,
    fuzz_settings,
    mutated_json,
    mutated_text,
    pick,
    write_tree,
)
from hypothesis import given
from hypothesis import strategies as st

from mlperf_power_dag.parsers.guards import ParseError, load_json
from mlperf_power_dag.parsers.tiny_results import (
    energy_from_results_json,
    parse_accuracy_text,
    parse_energy_text,
    parse_performance_text,
    parse_runner_log,
    throughputs_from_results_json,
)
from mlperf_power_dag.readers.tiny import load_system_json, read_tiny_round

# The Tiny text parsers never raise: what they cannot read comes back as issues.
TEXT_PARSERS = {
    "energy": parse_energy_text,
    "performance": parse_performance_text,
    "accuracy": parse_accuracy_text,
    "log": parse_runner_log,
}


def test_text_parsers(budget, fuzz_long, tiny_samples):
    """Every text parser on mutations of every text role: no exception, finite values."""
    roles = sorted(TEXT_PARSERS)

    @fuzz_settings(budget(200), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        role = pick(data.draw, roles)
        text = mutated_text(data.draw, pick(data.draw, tiny_samples[role]))
        parser = pick(data.draw, [TEXT_PARSERS[role], *TEXT_PARSERS.values()])
        result = parser(text)
        assert_finite_numbers(result)

    run()


def test_results_json_parsers(budget, fuzz_long, tiny_samples):
    """results.json (energy samples, performance windows): no exception, finite values."""

    @fuzz_settings(budget(100), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        kind = pick(data.draw, ["energy_json", "performance_json"])
        text = mutated_json(data.draw, pick(data.draw, tiny_samples[kind]))
        try:
            obj = load_json(text)
        except ParseError:
            return  # undecodable: the reader's case (test_tiny_reader)
        energy = energy_from_results_json(obj)
        assert_finite_numbers(energy.trials_uj + energy.trial_seconds)
        vals, _ = throughputs_from_results_json(obj)
        assert_finite_numbers(vals)

    run()


def test_system_json(budget, fuzz_long, tiny_tree):
    """The lenient system JSON loader never raises."""
    samples = [json.loads(b) for p, b in sorted(tiny_tree.items()) if "/systems/" in p]

    @fuzz_settings(budget(60), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        text = mutated_json(data.draw, pick(data.draw, samples))
        fields, _ = load_system_json(text.encode("utf-8", errors="surrogatepass"))
        assert fields is None or isinstance(fields, dict)

    run()


def test_tiny_reader(budget, fuzz_long, tiny_tree):
    """A small real round with one file mutated: the reader never raises, every number in
    the table is finite, problems are valid and quote no input."""
    names = sorted(tiny_tree)

    @fuzz_settings(budget(60), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        name = pick(data.draw, names)
        blob = tiny_tree[name]
        if name.endswith(".json"):
            new = mutated_json(data.draw, json.loads(blob))
        else:
            new = mutated_text(data.draw, blob.decode("utf-8", errors="replace"))
        with tempfile.TemporaryDirectory() as d:
            write_tree(Path(d), {**tiny_tree, name: new})
            table = read_tiny_round(Path(d), "v1.3", "mlcommons/tiny_results_v1.3", COMMIT)
        check_round(table)

    run()
