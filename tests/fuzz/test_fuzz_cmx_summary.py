"""Fuzz the CMX and summary_results.json parsers and their readers."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from fuzzlib import COMMIT, check_round, counted, fuzz_settings, mutated_json, pick, write_tree
from hypothesis import given
from hypothesis import strategies as st

from mlperf_power_dag.parsers.cmx import (
    CmxFormatError,
    integer,
    load_rows,
    number,
    parse_location,
    performance_unit,
    power_unit,
    row_kind,
    text,
)
from mlperf_power_dag.parsers.summary_results import (
    SummaryFormatError,
    categories,
    load_summary,
    row_parts,
    tokens_per_sample,
)
from mlperf_power_dag.readers.inference_cmx import read_cmx_round
from mlperf_power_dag.readers.inference_summary import read_summary_round


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


def _finite_or_none(x: float | None) -> bool:
    return x is None or (x == x and abs(x) != float("inf"))


def test_cmx_parser(budget, fuzz_long, cmx_samples):
    """cm-result.json: only CmxFormatError escapes; row helpers never raise, return finite."""
    files = [rows for tree in cmx_samples.values() for rows in tree.values()]

    @fuzz_settings(budget(150), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        doc = mutated_json(data.draw, pick(data.draw, files))
        try:
            rows = load_rows(_bytes(doc))
        except CmxFormatError:
            return
        for row in rows:
            row_kind(row)
            power_unit(row)
            performance_unit(row)
            loc = text(row.get("Location"))
            if loc is not None:
                parse_location(loc)
            for key in ("Result", "Result_Power", "accelerators_per_node", "number_of_nodes"):
                assert _finite_or_none(number(row.get(key)))
                n = integer(row.get(key))
                assert n is None or -(2**63) <= n < 2**63

    run()


def test_summary_parser(budget, fuzz_long, summary_sample):
    """summary_results.json: only SummaryFormatError escapes; entry helpers never raise."""

    @fuzz_settings(budget(150), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        doc = mutated_json(data.draw, summary_sample, max_ops=4)
        try:
            entries = load_summary(_bytes(doc))
        except SummaryFormatError:
            return
        for entry in entries:
            perf, power = row_parts(entry)
            for part in (perf, power):
                assert part is None or _finite_or_none(part["value"])
            assert _finite_or_none(tokens_per_sample(entry.get("Accuracy")))
            categories(entry.get("Suite"))

    run()


def test_cmx_reader(budget, fuzz_long, cmx_samples):
    """A small CMX tree (v4.0 or v3.1) with 1-2 files mutated: the reader never raises."""
    rounds = sorted(cmx_samples)

    @fuzz_settings(budget(30), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        rnd = pick(data.draw, rounds)
        tree = {p: json.dumps(rows) for p, rows in cmx_samples[rnd].items()}
        for _ in range(data.draw(st.integers(1, 2))):
            path = pick(data.draw, sorted(tree))
            tree[path] = mutated_json(data.draw, cmx_samples[rnd][path])
        with tempfile.TemporaryDirectory() as d:
            write_tree(Path(d), tree)
            table = read_cmx_round(Path(d), rnd, "mlcommons/cm4mlperf-results", COMMIT)
        check_round(table)

    run()


def test_summary_reader(budget, fuzz_long, summary_sample):
    """v4.1 summary entries with mutations: the reader never raises."""

    @fuzz_settings(budget(30), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        doc = mutated_json(data.draw, summary_sample, max_ops=6)
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "summary_results.json"
            path.write_bytes(_bytes(doc))
            table = read_summary_round(path, "v4.1", "mlcommons/inference_results_v4.1", COMMIT)
        check_round(table)

    run()
