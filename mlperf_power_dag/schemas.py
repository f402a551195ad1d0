"""pandera models that fix the column order and types of the tidy tables."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

CATEGORIES = ["datacenter", "edge"]
SCENARIOS = ["Offline", "Server", "SingleStream", "MultiStream"]
SOURCES = ["tree", "cmx", "summary"]


class InferenceResults(pa.DataFrameModel):
    """One row per MLPerf Inference result and category (a system in both appears twice)."""

    round: Series[str] = pa.Field(str_matches=r"^v\d+\.\d+$", description="MLPerf round")
    category: Series[str] = pa.Field(isin=CATEGORIES)
    division: Series[str] = pa.Field(description="closed, open or network")
    submitter: Series[str]
    system: Series[str] = pa.Field(description="system id: systems/<id>.json, results/<id>/")
    system_name: Series[str] = pa.Field(nullable=True)
    accelerator: Series[str] = pa.Field(nullable=True, description="accelerator model name")
    accelerators: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="accelerators in the whole system (per node x nodes)"
    )
    nodes: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    host_processor: Series[str] = pa.Field(nullable=True)
    availability: Series[str] = pa.Field(nullable=True)
    benchmark: Series[str] = pa.Field(description="canonical lower-case MLCommons id")
    benchmark_known: Series[bool] = pa.Field(description="False: name not in the known list")
    scenario: Series[str] = pa.Field(isin=SCENARIOS)
    valid: Series[bool] = pa.Field(description="loadgen result_validity is VALID")
    performance: Series[float] = pa.Field(nullable=True, description="headline result")
    performance_unit: Series[str] = pa.Field(
        nullable=True, description="samples/s, queries/s, tokens/s or ms (latency)"
    )
    samples_per_second: Series[float] = pa.Field(
        nullable=True, ge=0, description="Offline/Server throughput in samples/s"
    )
    tokens_per_sample: Series[float] = pa.Field(nullable=True, gt=0)
    power_w: Series[float] = pa.Field(
        nullable=True, gt=0, description="average system power over the power window"
    )
    energy_per_query_j: Series[float] = pa.Field(
        nullable=True, gt=0, description="SingleStream/MultiStream energy per query"
    )
    samples_per_joule: Series[float] = pa.Field(nullable=True, gt=0)
    source: Series[str] = pa.Field(isin=SOURCES)
    source_repo: Series[str] = pa.Field(description="owner/repo the row was read from")
    source_path: Series[str] = pa.Field(description="result folder or file inside the repo")
    source_commit: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{40}$")

    class Config:
        strict = True
        ordered = True
        coerce = True
        unique = ["round", "category", "division", "submitter", "system", "benchmark", "scenario"]


class TinyResults(pa.DataFrameModel):
    """One row per MLPerf Tiny result (system x benchmark) of a round."""

    round: Series[str] = pa.Field(str_matches=r"^v\d+\.\d+$")
    division: Series[str]
    submitter: Series[str]
    system: Series[str] = pa.Field(description="system id (systems/<id>.json, results/<id>/)")
    system_name: Series[str] = pa.Field(nullable=True)
    processor: Series[str] = pa.Field(nullable=True)
    accelerator: Series[str] = pa.Field(nullable=True)
    benchmark: Series[str] = pa.Field(description="ic, vww, kws, ad, or a new id (flagged)")
    benchmark_known: Series[bool]
    latency_ms: Series[float] = pa.Field(nullable=True, gt=0)
    throughput_ips: Series[float] = pa.Field(nullable=True, gt=0, description="inferences/s")
    energy_per_inference_uj: Series[float] = pa.Field(nullable=True, gt=0)
    power_w: Series[float] = pa.Field(nullable=True, gt=0, description="average power, energy run")
    inferences_per_joule: Series[float] = pa.Field(nullable=True, gt=0)
    accuracy: Series[float] = pa.Field(nullable=True)
    source_repo: Series[str]
    source_path: Series[str]
    source_commit: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{40}$")

    class Config:
        strict = True
        ordered = True
        coerce = True
        unique = ["round", "division", "submitter", "system", "benchmark"]


class TrainingResults(pa.DataFrameModel):
    """One row per MLPerf Training result with power (system x benchmark) of a round."""

    round: Series[str] = pa.Field(str_matches=r"^v\d+\.\d+$")
    division: Series[str]
    submitter: Series[str]
    system: Series[str]
    system_name: Series[str] = pa.Field(nullable=True)
    accelerator: Series[str] = pa.Field(nullable=True)
    benchmark: Series[str]
    accelerators: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    nodes: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1)
    time_to_train_min: Series[float] = pa.Field(nullable=True, gt=0)
    energy_j: Series[float] = pa.Field(nullable=True, gt=0, description="olympic avg x scaling")
    compute_energy_j: Series[float] = pa.Field(nullable=True, ge=0)
    interconnect_energy_j: Series[float] = pa.Field(nullable=True, ge=0)
    average_power_w: Series[float] = pa.Field(nullable=True, gt=0)
    runs_used: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=0)
    power_measurement: Series[str] = pa.Field(nullable=True, description="AC, DC or unknown")
    source_repo: Series[str]
    source_path: Series[str]
    source_commit: Series[str] = pa.Field(str_matches=r"^[0-9a-f]{40}$")

    class Config:
        strict = True
        ordered = True
        coerce = True
        unique = ["round", "division", "submitter", "system", "benchmark"]


class Problems(pa.DataFrameModel):
    """One row per result or file that was skipped or flagged while reading a round."""

    suite: Series[str]
    round: Series[str]
    source_path: Series[str]
    kind: Series[str] = pa.Field(description="short machine-readable class, e.g. missing_trace")
    severity: Series[str] = pa.Field(isin=["skipped", "flagged"])
    message: Series[str]

    class Config:
        strict = True
        ordered = True
        coerce = True


def columns(model: type[pa.DataFrameModel]) -> list[str]:
    """The model's columns in their fixed order."""
    return list(model.to_schema().columns)


def empty(model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """An empty, validated frame with the model's columns."""
    return model.validate(pd.DataFrame({c: pd.Series(dtype="object") for c in columns(model)}))
