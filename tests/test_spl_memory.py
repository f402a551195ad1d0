"""Worst-case memory of reading a result: an spl.txt just under its size cap is parsed a chunk
at a time, with a peak under twice its size; a detail log at its cap stays under twice the
largest cap."""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from mlperf_power_dag.limits import DEFAULT, KINDS
from mlperf_power_dag.parsers.spl import TRACE_CHUNK_BYTES, parse_trace, parse_trace_stream
from mlperf_power_dag.readers.inference_tree import read_tree_round

INF = Path(__file__).parent / "fixtures" / "inference"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _tree(root: Path, spl: bytes) -> str:
    (root / "closed/Synth/systems").mkdir(parents=True)
    shutil.copyfile(INF / "system_both.json", root / "closed/Synth/systems/box.json")
    rel = "closed/Synth/results/box/bert-99/Offline"
    run = root / rel / "performance/run_1"
    run.mkdir(parents=True)
    shutil.copyfile(INF / "detail_offline.txt", run / "mlperf_log_detail.txt")
    (run / "spl.txt").write_bytes(spl)
    return rel


def test_a_trace_at_its_cap_is_read_in_under_twice_its_size(tmp_path, monkeypatch):
    monkeypatch.delenv("MLPERF_POWER_LIMITS", raising=False)
    cap = DEFAULT.spl.max_bytes
    sample = (INF / "spl_window.txt").read_bytes()
    copies = (cap - 1) // len(sample)
    _tree(tmp_path / "one", sample)
    one = read_tree_round(tmp_path / "one", "v3.0", "x", COMMIT)
    rel = _tree(tmp_path / "big", sample * copies)
    size = (tmp_path / "big" / rel / "performance/run_1/spl.txt").stat().st_size
    assert cap - len(sample) < size <= cap

    tracemalloc.start()
    try:
        big = read_tree_round(tmp_path / "big", "v3.0", "x", COMMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    print(f"spl.txt of {size / 2**20:.1f} MiB: peak {peak / 2**20:.1f} MiB ({peak / size:.2f}x)")
    assert peak < 2 * cap
    assert peak < 2 * size
    # every copy holds the same samples: the same mean power, from `copies` times the samples
    assert "file_too_large" not in set(big.problems.kind)
    assert big.results.power_w.tolist() == pytest.approx(one.results.power_w.tolist())
    assert big.results.power_w.notna().all()


def _peak(fn) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_detail_log_at_its_cap_stays_under_twice_the_largest_cap(tmp_path, monkeypatch):
    monkeypatch.delenv("MLPERF_POWER_LIMITS", raising=False)
    cap = DEFAULT.loadgen_detail.max_bytes
    largest = max(DEFAULT.of(k).max_bytes for k in KINDS)
    sample = (INF / "detail_offline.txt").read_bytes()
    _tree(tmp_path, b"")
    run = tmp_path / "closed/Synth/results/box/bert-99/Offline/performance/run_1"
    (run / "mlperf_log_detail.txt").write_bytes(sample * ((cap - 1) // len(sample)))
    (run / "spl.txt").unlink()
    tables = []
    peak = _peak(lambda: tables.append(read_tree_round(tmp_path, "v3.0", "x", COMMIT)))
    print(f"detail log at {cap / 2**20:.0f} MiB: peak {peak / 2**20:.1f} MiB")
    assert peak < 2 * largest
    assert "file_too_large" not in set(tables[0].problems.kind)
    assert len(tables[0].results) == 2  # datacenter and edge


def test_streamed_parse_equals_the_whole_parse(tmp_path):
    sample = (INF / "spl_window.txt").read_bytes() + b"Time,garbage\r\n\n"
    data = sample * (3 * TRACE_CHUNK_BYTES // len(sample) // 64)
    path = tmp_path / "spl.txt"
    path.write_bytes(data)
    whole = parse_trace(data)
    for chunk in (1000, 4096, len(data) // 3, TRACE_CHUNK_BYTES):
        with open(path, "rb") as f:
            got = parse_trace_stream(f, chunk, max_line=DEFAULT.spl.max_line)
        assert (got.lines, got.malformed) == (whole.lines, whole.malformed)
        assert np.array_equal(got.time, whole.time)
        assert np.array_equal(got.watts, whole.watts)
