"""pandera models that fix the column order and types of the tidy tables."""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa
from pandera.engines.pandas_engine import Date
from pandera.typing import Series

from mlperf_power_dag.benchmark_ids import CATEGORIES, SCENARIOS

SOURCES = ["tree", "cmx", "summary"]


class InferenceResults(pa.DataFrameModel):
    """One row per MLPerf Inference result and category (a system in both appears twice)."""

    round: Series[str] = pa.Field(str_matches=r"^v\d+\.\d+$", description="MLPerf round")
    category: Series[str] = pa.Field(isin=CATEGORIES, description="datacenter or edge")
    division: Series[str] = pa.Field(description="closed, open or network")
    submitter: Series[str] = pa.Field(description="submitting organization")
    system: Series[str] = pa.Field(description="system id: systems/<id>.json, results/<id>/")
    system_name: Series[str] = pa.Field(nullable=True, description="system name as published")
    accelerator: Series[str] = pa.Field(nullable=True, description="accelerator model name")
    accelerators: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="accelerators in the whole system (per node x nodes)"
    )
    nodes: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1, description="nodes in the system")
    host_processor: Series[str] = pa.Field(nullable=True, description="host CPU model name")
    availability: Series[str] = pa.Field(
        nullable=True, description="available, preview or rdi (research)"
    )
    benchmark: Series[str] = pa.Field(description="canonical lower-case MLCommons id")
    benchmark_known: Series[bool] = pa.Field(description="False: name not in the known list")
    scenario: Series[str] = pa.Field(isin=SCENARIOS, description="loadgen scenario")
    valid: Series[bool] = pa.Field(description="loadgen result_validity is VALID")
    performance: Series[float] = pa.Field(nullable=True, description="headline result")
    performance_unit: Series[str] = pa.Field(
        nullable=True, description="samples/s, queries/s, tokens/s or ms (latency)"
    )
    samples_per_second: Series[float] = pa.Field(
        nullable=True, ge=0, description="Offline/Server throughput in samples/s"
    )
    tokens_per_sample: Series[float] = pa.Field(
        nullable=True, gt=0, description="mean output tokens per sample (LLM benchmarks)"
    )
    power_w: Series[float] = pa.Field(
        nullable=True, gt=0, description="average system power over the power window"
    )
    energy_per_query_j: Series[float] = pa.Field(
        nullable=True, gt=0, description="SingleStream/MultiStream energy per query"
    )
    samples_per_joule: Series[float] = pa.Field(
        nullable=True, gt=0, description="energy efficiency: samples per joule"
    )
    source: Series[str] = pa.Field(
        isin=SOURCES, description="tree (submission tree), cmx or summary (published tables)"
    )
    source_repo: Series[str] = pa.Field(description="owner/repo the row was read from")
    source_path: Series[str] = pa.Field(description="result folder or file inside the repo")
    source_commit: Series[str] = pa.Field(
        str_matches=r"^[0-9a-f]{40}$", description="git commit of source_repo the row was read from"
    )

    class Config:
        strict = True
        ordered = True
        coerce = True
        unique = ["round", "category", "division", "submitter", "system", "benchmark", "scenario"]


class TinyResults(pa.DataFrameModel):
    """One row per MLPerf Tiny result (system x benchmark) of a round."""

    round: Series[str] = pa.Field(str_matches=r"^v\d+\.\d+$", description="MLPerf Tiny round")
    division: Series[str] = pa.Field(description="closed or open")
    submitter: Series[str] = pa.Field(description="submitting organization")
    system: Series[str] = pa.Field(description="system id (systems/<id>.json, results/<id>/)")
    system_name: Series[str] = pa.Field(nullable=True, description="system name as published")
    processor: Series[str] = pa.Field(nullable=True, description="processor (MCU/SoC) name")
    accelerator: Series[str] = pa.Field(nullable=True, description="accelerator name, if any")
    benchmark: Series[str] = pa.Field(description="ic, vww, kws, ad, or a new id (flagged)")
    benchmark_known: Series[bool] = pa.Field(
        description="False: benchmark id not in the known list"
    )
    latency_ms: Series[float] = pa.Field(
        nullable=True, gt=0, description="median latency per inference (performance run)"
    )
    throughput_ips: Series[float] = pa.Field(nullable=True, gt=0, description="inferences/s")
    energy_per_inference_uj: Series[float] = pa.Field(
        nullable=True, gt=0, description="median energy per inference (energy run)"
    )
    power_w: Series[float] = pa.Field(nullable=True, gt=0, description="average power, energy run")
    inferences_per_joule: Series[float] = pa.Field(
        nullable=True, gt=0, description="energy efficiency: inferences per joule"
    )
    accuracy: Series[float] = pa.Field(
        nullable=True, description="accuracy (top-1 or AUC) as reported"
    )
    source_repo: Series[str] = pa.Field(description="owner/repo the row was read from")
    source_path: Series[str] = pa.Field(description="result folder inside the repo")
    source_commit: Series[str] = pa.Field(
        str_matches=r"^[0-9a-f]{40}$", description="git commit of source_repo the row was read from"
    )

    class Config:
        strict = True
        ordered = True
        coerce = True
        unique = ["round", "division", "submitter", "system", "benchmark"]


class TrainingResults(pa.DataFrameModel):
    """One row per MLPerf Training result with power (system x benchmark) of a round."""

    round: Series[str] = pa.Field(str_matches=r"^v\d+\.\d+$", description="MLPerf Training round")
    division: Series[str] = pa.Field(description="closed or open")
    submitter: Series[str] = pa.Field(description="submitting organization")
    system: Series[str] = pa.Field(description="system id (systems/<id>.json, results/<id>/)")
    system_name: Series[str] = pa.Field(nullable=True, description="system name as published")
    accelerator: Series[str] = pa.Field(nullable=True, description="accelerator model name")
    benchmark: Series[str] = pa.Field(description="MLCommons training benchmark id")
    accelerators: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="accelerators in the whole system"
    )
    nodes: Series[pd.Int64Dtype] = pa.Field(nullable=True, ge=1, description="nodes in the system")
    time_to_train_min: Series[float] = pa.Field(
        nullable=True, gt=0, description="olympic average time to train"
    )
    energy_j: Series[float] = pa.Field(nullable=True, gt=0, description="olympic avg x scaling")
    compute_energy_j: Series[float] = pa.Field(
        nullable=True, ge=0, description="energy of the compute nodes"
    )
    interconnect_energy_j: Series[float] = pa.Field(
        nullable=True, ge=0, description="energy of the interconnect"
    )
    average_power_w: Series[float] = pa.Field(
        nullable=True, gt=0, description="energy_j divided by time to train"
    )
    runs_used: Series[pd.Int64Dtype] = pa.Field(
        nullable=True, ge=0, description="runs in the olympic average"
    )
    power_measurement: Series[str] = pa.Field(nullable=True, description="AC, DC or unknown")
    source_repo: Series[str] = pa.Field(description="owner/repo the row was read from")
    source_path: Series[str] = pa.Field(description="result folder inside the repo")
    source_commit: Series[str] = pa.Field(
        str_matches=r"^[0-9a-f]{40}$", description="git commit of source_repo the row was read from"
    )

    class Config:
        strict = True
        ordered = True
        coerce = True
        unique = ["round", "division", "submitter", "system", "benchmark"]


class Problems(pa.DataFrameModel):
    """One row per result or file that was skipped or flagged while reading a round."""

    suite: Series[str] = pa.Field(description="inference, tiny or training")
    round: Series[str] = pa.Field(description="MLPerf round")
    source_path: Series[str] = pa.Field(description="file or result folder inside the repo")
    kind: Series[str] = pa.Field(description="short machine-readable class, e.g. missing_trace")
    severity: Series[str] = pa.Field(
        isin=["skipped", "flagged"],
        description="skipped (left out of the table) or flagged (kept, worth a look)",
    )
    message: Series[str] = pa.Field(description="why, in one line")

    class Config:
        strict = True
        ordered = True
        coerce = True


class Rounds(pa.DataFrameModel):
    """One row per known round of every suite: the catalog's and those found by discovery."""

    suite: Series[str] = pa.Field(description="inference, tiny or training")
    version: Series[str] = pa.Field(str_matches=r"^v\d+(\.\d+)+$", description="MLPerf round")
    source: Series[str] = pa.Field(
        isin=SOURCES, description="where its results are read: tree, cmx or summary"
    )
    date: Series[Date] = pa.Field(nullable=True, description="publication date, if known")
    commit: Series[str] = pa.Field(
        nullable=True,
        description="commit of the source repository its tables were built from (empty: not built)",
    )

    class Config:
        strict = True
        ordered = True
        coerce = True
        unique = ["suite", "version"]


def columns(model: type[pa.DataFrameModel]) -> list[str]:
    """The model's columns in their fixed order."""
    return list(model.to_schema().columns)


def empty(model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """An empty, validated frame with the model's columns."""
    return model.validate(pd.DataFrame({c: pd.Series(dtype="object") for c in columns(model)}))


def conform(model: type[pa.DataFrameModel], df: pd.DataFrame) -> pd.DataFrame:
    """`df` with the model's columns in order and its types: as is when it already has them
    (a table read back from the dataset), else coerced and validated."""
    cols = columns(model)
    if list(df.columns) == cols and (df.dtypes == _dtypes(model)).all():
        return df
    return model.validate(df[cols])


_DTYPES: dict[type, pd.Series] = {}


def _dtypes(model: type[pa.DataFrameModel]) -> pd.Series:
    """The dtypes of the model's columns as the dataset reads them back (the same as those of
    `empty(model)`, without a pandera validation, which costs a fifth of a second on first use)."""
    if model not in _DTYPES:
        from mlperf_power_dag.dataset import empty_frame

        _DTYPES[model] = empty_frame(model).dtypes
    return _DTYPES[model]


# Local submission trees (`mlperf-power add-local`): the same tables, kept apart from the
# published dataset, with the partition key `local-<name>` as round, the tree's commit or
# content hash as commit, and `official` false on every row.
_LOCAL_ROUND = r"^local-[a-z0-9][a-z0-9_.-]*$"
_LOCAL_COMMIT = r"^([0-9a-f]{40}|sha256:[0-9a-f]{64})$"


class LocalInferenceResults(InferenceResults):
    """InferenceResults rows of a local, unpublished submission tree."""

    round: Series[str] = pa.Field(str_matches=_LOCAL_ROUND, description="local-<name>")
    source_commit: Series[str] = pa.Field(
        str_matches=_LOCAL_COMMIT, description="commit of a clean git tree, else sha256 of files"
    )
    official: Series[bool] = pa.Field(description="false: not a published MLPerf result")


class LocalTinyResults(TinyResults):
    """TinyResults rows of a local, unpublished submission tree."""

    round: Series[str] = pa.Field(str_matches=_LOCAL_ROUND, description="local-<name>")
    source_commit: Series[str] = pa.Field(
        str_matches=_LOCAL_COMMIT, description="commit of a clean git tree, else sha256 of files"
    )
    official: Series[bool] = pa.Field(description="false: not a published MLPerf result")


class LocalTrainingResults(TrainingResults):
    """TrainingResults rows of a local, unpublished submission tree."""

    round: Series[str] = pa.Field(str_matches=_LOCAL_ROUND, description="local-<name>")
    source_commit: Series[str] = pa.Field(
        str_matches=_LOCAL_COMMIT, description="commit of a clean git tree, else sha256 of files"
    )
    official: Series[bool] = pa.Field(description="false: not a published MLPerf result")


LOCAL_MODELS: dict[type[pa.DataFrameModel], type[pa.DataFrameModel]] = {
    InferenceResults: LocalInferenceResults,
    TinyResults: LocalTinyResults,
    TrainingResults: LocalTrainingResults,
    Problems: Problems,
}
