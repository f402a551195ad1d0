"""tables.finish with a ProblemLog: rows the model rejects are dropped and recorded, +-inf
becomes null and is flagged; without one it still raises."""

from __future__ import annotations

import math

import pandera.pandas as pa
import pytest

from mlperf_power_dag.schemas import TrainingResults
from mlperf_power_dag.tables import ProblemLog, finish

BASE = {
    "round": "v4.0",
    "division": "closed",
    "submitter": "acme",
    "system": "s1",
    "system_name": None,
    "accelerator": None,
    "benchmark": "ssd",
    "accelerators": 8,
    "nodes": 1,
    "time_to_train_min": 10.0,
    "energy_j": 1e6,
    "compute_energy_j": 1e6,
    "interconnect_energy_j": 0.0,
    "average_power_w": 1666.7,
    "runs_used": 3,
    "power_measurement": "AC",
    "source_repo": "mlcommons/training_results_v4.0",
    "source_path": "acme/results/s1/ssd",
    "source_commit": "0" * 40,
}


def _row(system: str, **changes) -> dict:
    return {**BASE, "system": system, "source_path": f"acme/results/{system}/ssd", **changes}


def test_bad_rows_are_dropped_and_recorded():
    rows = [
        _row("ok"),
        _row("too_many", accelerators=2**70),  # beyond Int64
        _row("negative", energy_j=-1.0),  # fails energy_j > 0
        _row("not_a_count", runs_used="x"),  # fails coercion, and >= 0 with a TypeError
        _row("bad_round", round="4.0"),
        _row("inf", energy_j=math.inf),  # passes > 0: nulled and flagged
    ]
    problems = ProblemLog("training", "v4.0")
    df = finish(rows, TrainingResults, problems)
    assert list(df["system"]) == ["ok", "inf"]
    assert list(df.index) == [0, 1]
    assert math.isnan(df.loc[1, "energy_j"])
    TrainingResults.validate(df)
    kinds = problems.frame().set_index("source_path")["kind"].to_dict()
    assert kinds == {
        "acme/results/too_many/ssd": "invalid_value",
        "acme/results/negative/ssd": "invalid_value",
        "acme/results/not_a_count/ssd": "invalid_value",
        "acme/results/bad_round/ssd": "invalid_value",
        "acme/results/inf/ssd": "non_finite_value",
    }
    messages = " ".join(problems.frame()["message"])
    assert "1180591620717411303424" not in messages  # values are never quoted


def test_duplicate_keys_are_dropped():
    problems = ProblemLog("training", "v4.0")
    df = finish([_row("a"), _row("a"), _row("b")], TrainingResults, problems)
    assert list(df["system"]) == ["b"]
    assert problems.counts() == {"invalid_value": 2}


def test_clean_rows_are_unchanged():
    rows = [_row("a"), _row("b", energy_j=None)]
    problems = ProblemLog("training", "v4.0")
    strict = finish(rows, TrainingResults)
    lenient = finish(rows, TrainingResults, problems)
    assert strict.equals(lenient) and not problems.rows


def test_without_problem_log_it_raises():
    with pytest.raises(pa.errors.SchemaError):
        finish([_row("negative", energy_j=-1.0)], TrainingResults)
