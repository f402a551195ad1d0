"""Fuzz the inference system description parser."""

from __future__ import annotations

import tempfile
from pathlib import Path

from fuzzlib import counted, fuzz_settings, mutated_json, pick
from hypothesis import given
from hypothesis import strategies as st

from mlperf_power_dag.parsers.guards import INT64_MAX
from mlperf_power_dag.parsers.systems import SystemJsonError, read_system


def test_read_system(budget, fuzz_long, system_samples):
    """Only SystemJsonError (a ValueError, which the tree reader catches) escapes; counts
    fit the table's Int64 columns."""

    @fuzz_settings(budget(200), fuzz_long)
    @given(st.data())
    @counted
    def run(data):
        doc = mutated_json(data.draw, pick(data.draw, system_samples))
        with tempfile.TemporaryDirectory() as d:
            path = Path(d) / "system.json"
            path.write_bytes(doc.encode("utf-8", errors="surrogatepass"))
            try:
                info = read_system(path)
            except SystemJsonError as e:
                assert len(str(e)) < 300
                return
        for n in (info.accelerators_per_node, info.nodes, info.accelerators):
            assert n is None or 0 <= n <= INT64_MAX
        for _, message in info.issues:
            assert "9" * 100 not in message and "x" * 100 not in message

    run()
