"""Parsing stays linear in the input: lines built to make a backtracking pattern retry at every
position cost no more than ordinary lines of the same length."""

from __future__ import annotations

import time

import pytest

from mlperf_power_dag.limits import DEFAULT
from mlperf_power_dag.parsers.loadgen import parse_mllog
from mlperf_power_dag.parsers.training_logs import ResultLogError, read_result_log

HEAD = ':::MLLOG {"namespace": "", "time_ms": 1, "event_type": "POINT", "key": "x", "value": '


def test_training_lines_with_many_metadata_keys_are_linear(tmp_path):
    width = DEFAULT.training_result.max_line - 1
    line = HEAD + ', "metadata": {' * ((width - len(HEAD)) // 15)
    assert len(line) <= width
    path = tmp_path / "result_0.txt"
    path.write_text((line + "\n") * 100)  # quadratic before: about 16 s
    t = time.perf_counter()
    with pytest.raises(ResultLogError) as e:
        read_result_log(path, "4.0.0")
    assert time.perf_counter() - t < 3
    assert e.value.kind == "compliance_failed"


def test_loadgen_lines_with_repeated_tails_are_linear():
    tail = (
        ', "time_ms": 1, "namespace": "", "event_type": "", "metadata": {"is_error": true, '
        '"is_warning": true, "file": "x", "line_no": 1, "pid": 1, "tid": 1}}x'
    )
    times = []
    for n in (4_000, 16_000):
        text = ':::MLLOG {"key": "k", "value": [' + tail * n + "\n"
        t = time.perf_counter()
        log = parse_mllog(text)
        times.append(time.perf_counter() - t)
        assert log.malformed == 1 and not log.keys()
    assert times[1] < 1.0
