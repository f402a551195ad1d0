"""The open dataset: one Parquet file per table and round (hive layout), typed from pandera.

Layout under a base path (a local folder or any fsspec URL such as ``s3://bucket/mlperf``):

- ``<table>/round=<version>/part-0.parquet`` for the per-round tidy tables; the ``round``
  column lives in the folder name (hive partitioning), not in the file;
- ``<table>.parquet`` for cross-round tables (metrics, cross-check);
- ``manifest.json`` (per table and round: rows, source, build time, schema and code version)
  and ``README.md`` (the data dictionary).

Every write goes to a temporary name in the same folder and is then renamed into place, so a
reader sees the old file or the new one, never half of one. Pure functions over paths and
frames; the Dagster IO manager in ``defs/io.py`` only wires them.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa
import pyarrow as pyarrow
import pyarrow.parquet as pq
from upath import UPath

PARTITION_COLUMN = "round"
PART_FILE = "part-0.parquet"
FOOTER_KEY = b"mlperf"
MANIFEST = "manifest.json"
DICTIONARY = "README.md"

_ARROW_TYPES: dict[str, pyarrow.DataType] = {
    "str": pyarrow.string(),
    "string": pyarrow.string(),
    "Int64": pyarrow.int64(),
    "int64": pyarrow.int64(),
    "float64": pyarrow.float64(),
    "bool": pyarrow.bool_(),
    "boolean": pyarrow.bool_(),
    "date": pyarrow.date32(),
}
_SQL_TYPES = {
    pyarrow.string(): "VARCHAR",
    pyarrow.int64(): "BIGINT",
    pyarrow.float64(): "DOUBLE",
    pyarrow.bool_(): "BOOLEAN",
    pyarrow.date32(): "DATE",
}
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.-]+$")

# Units by column-name suffix, for the data dictionary.
UNITS = {
    "_w": "W",
    "_j": "J",
    "_uj": "µJ",
    "_ms": "ms",
    "_min": "min",
    "_ips": "inferences/s",
    "samples_per_second": "samples/s",
    "samples_per_joule": "samples/J",
    "inferences_per_joule": "inferences/J",
    "tokens_per_sample": "tokens/sample",
}


class DatasetError(RuntimeError):
    """A dataset file or key is unusable (bad partition key, unknown column type)."""


def check_key(key: str) -> str:
    """A partition key or table name that is safe as one path segment."""
    if not _SAFE_KEY.match(key) or ".." in key:
        raise DatasetError(f"unsafe dataset key {key!r}: use letters, digits, '_', '.' or '-'")
    return key


def arrow_type(dtype: Any) -> pyarrow.DataType:
    """Arrow type of a pandera column dtype."""
    name = str(dtype)
    if name not in _ARROW_TYPES:
        raise DatasetError(f"no Parquet type for pandera dtype {name!r}")
    return _ARROW_TYPES[name]


def arrow_schema(model: type[pa.DataFrameModel], drop: tuple[str, ...] = ()) -> pyarrow.Schema:
    """The Parquet schema of a pandera model (columns in the model's order)."""
    cols = model.to_schema().columns
    return pyarrow.schema(
        [
            pyarrow.field(name, arrow_type(col.dtype), nullable=bool(col.nullable))
            for name, col in cols.items()
            if name not in drop
        ]
    )


def frame_schema(df: pd.DataFrame) -> pyarrow.Schema:
    """The Parquet schema of a frame without a model (object columns are text)."""
    fields = []
    for name, dtype in df.dtypes.items():
        if pd.api.types.is_bool_dtype(dtype):
            t = pyarrow.bool_()
        elif pd.api.types.is_integer_dtype(dtype):
            t = pyarrow.int64()
        elif pd.api.types.is_float_dtype(dtype):
            t = pyarrow.float64()
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            t = pyarrow.timestamp("us")
        else:
            t = pyarrow.string()
        fields.append(pyarrow.field(str(name), t))
    return pyarrow.schema(fields)


def schema_version(model: type[pa.DataFrameModel]) -> str:
    """Short hash of the model's columns, types and nullability."""
    cols = model.to_schema().columns
    text = "\n".join(f"{n}:{c.dtype}:{c.nullable}" for n, c in cols.items())
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def table_dir(base: UPath, table: str) -> UPath:
    return base / check_key(table)


def partition_path(base: UPath, table: str, key: str) -> UPath:
    """``<base>/<table>/round=<key>/part-0.parquet``."""
    return table_dir(base, table) / f"{PARTITION_COLUMN}={check_key(key)}" / PART_FILE


def single_path(base: UPath, table: str) -> UPath:
    """``<base>/<table>.parquet`` (cross-round tables)."""
    return base / f"{check_key(table)}.parquet"


def _to_pandas(table: pyarrow.Table) -> pd.DataFrame:
    return table.to_pandas(types_mapper={pyarrow.int64(): pd.Int64Dtype()}.get)


def _atomic_write(table: pyarrow.Table, path: UPath) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}.partial"
    try:
        with tmp.open("wb") as fh:
            pq.write_table(table, fh, compression="zstd")
        tmp.fs.mv(tmp.path, path.path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _remove_stale_temporaries(path)


STALE_TEMPORARY_S = 3600  # a temporary file this old was left by a killed writer


def _remove_stale_temporaries(path: UPath) -> None:
    """Delete temporary files of `path` that a killed writer left (older than an hour, so a
    concurrent writer's file is never touched); readers ignore them in any case."""
    if path.protocol not in ("", "file", "local"):
        return
    now = dt.datetime.now().timestamp()
    for old in Path(path.path).parent.glob(f".tmp-*-{path.name}.partial"):
        try:
            if now - old.stat().st_mtime > STALE_TEMPORARY_S:
                old.unlink()
        except OSError:
            pass


def _footer(info: Mapping[str, Any]) -> dict[bytes, bytes]:
    return {FOOTER_KEY: json.dumps(dict(info), sort_keys=True, default=str).encode()}


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def write_partition(
    base: UPath,
    table: str,
    key: str,
    df: pd.DataFrame,
    model: type[pa.DataFrameModel],
    info: Mapping[str, Any] | None = None,
) -> UPath:
    """Replace one round of a table; returns the file written.

    `df` must hold the model's columns; its partition column must equal `key` (or be absent).
    `info` (source, commit, code version, ...) goes into the file's footer and the manifest.
    """
    check_key(key)
    if PARTITION_COLUMN in df.columns:
        other = set(df[PARTITION_COLUMN].dropna().astype(str)) - {key}
        if other:
            raise DatasetError(f"{table} round={key}: rows of other rounds {sorted(other)}")
    schema = arrow_schema(model, drop=(PARTITION_COLUMN,))
    names = [f.name for f in schema]
    missing = [c for c in names if c not in df.columns]
    if missing:
        raise DatasetError(f"{table} round={key}: missing columns {missing}")
    arrow = pyarrow.Table.from_pandas(df[names], schema=schema, preserve_index=False)
    meta = {
        "table": table,
        PARTITION_COLUMN: key,
        "rows": len(df),
        "schema_version": schema_version(model),
        "built_at": now_iso(),
        **(info or {}),
    }
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **_footer(meta)})
    path = partition_path(base, table, key)
    _atomic_write(arrow, path)
    return path


def write_single(
    base: UPath,
    table: str,
    df: pd.DataFrame,
    info: Mapping[str, Any] | None = None,
    model: type[pa.DataFrameModel] | None = None,
) -> UPath:
    """Replace a cross-round table (one file), typed from `model` when it has one."""
    df = df.reset_index(drop=True)
    schema = frame_schema(df) if model is None else arrow_schema(model)
    if model is not None:
        missing = [f.name for f in schema if f.name not in df.columns]
        if missing:
            raise DatasetError(f"{table}: missing columns {missing}")
        df = df[[f.name for f in schema]]
    arrow = pyarrow.Table.from_pandas(df, schema=schema, preserve_index=False)
    meta = {"table": table, "rows": len(df), "built_at": now_iso(), **(info or {})}
    if model is not None:
        meta["schema_version"] = schema_version(model)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **_footer(meta)})
    path = single_path(base, table)
    _atomic_write(arrow, path)
    return path


def read_partition(
    base: UPath, table: str, key: str, model: type[pa.DataFrameModel]
) -> pd.DataFrame:
    """One round of a table with the model's columns in order (FileNotFoundError if absent)."""
    path = partition_path(base, table, key)
    with path.open("rb") as fh:
        df = _to_pandas(pq.read_table(fh))
    if PARTITION_COLUMN in model.to_schema().columns:
        df.insert(0, PARTITION_COLUMN, key)
    cols = list(model.to_schema().columns)
    return df[[c for c in cols if c in df.columns]]


def empty_frame(model: type[pa.DataFrameModel]) -> pd.DataFrame:
    """A frame with no rows and the model's columns and dtypes."""
    schema = arrow_schema(model)
    return _to_pandas(schema.empty_table())


def read_partitions(
    base: UPath,
    table: str,
    keys: list[str] | None,
    model: type[pa.DataFrameModel],
) -> tuple[pd.DataFrame, list[str]]:
    """The given rounds (None: every round on disk) as one frame, and the keys not found."""
    if keys is None:
        keys = list_partitions(base, table)
    frames, missing = [], []
    for key in keys:
        try:
            frames.append(read_partition(base, table, key, model))
        except FileNotFoundError:
            missing.append(key)
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame(model), missing
    return pd.concat(frames, ignore_index=True), missing


def read_single(base: UPath, table: str) -> pd.DataFrame:
    with single_path(base, table).open("rb") as fh:
        return _to_pandas(pq.read_table(fh))


def list_partitions(base: UPath, table: str) -> list[str]:
    """Round keys with a file on disk for a table."""
    root = table_dir(base, table)
    if not root.exists():
        return []
    out = []
    for child in root.iterdir():
        name = child.name
        if name.startswith(f"{PARTITION_COLUMN}=") and (child / PART_FILE).exists():
            out.append(name.split("=", 1)[1])
    return sorted(out)


def footer(path: UPath) -> dict[str, Any]:
    """The mlperf key-value metadata of a dataset file ({} if none)."""
    with path.open("rb") as fh:
        meta = pq.read_schema(fh).metadata or {}
    raw = meta.get(FOOTER_KEY)
    return json.loads(raw) if raw else {}


def partition_info(base: UPath, table: str, key: str) -> dict[str, Any] | None:
    """Footer of one round's file, or None when it does not exist or is unreadable."""
    path = partition_path(base, table, key)
    try:
        return footer(path)
    except (FileNotFoundError, OSError, pyarrow.ArrowException):
        return None


def manifest(base: UPath) -> dict[str, Any]:
    """Per table (and round): the footers of the dataset files, read from disk."""
    tables: dict[str, Any] = {}
    if not base.exists():
        return {"tables": tables}
    for child in sorted(base.iterdir(), key=lambda p: p.name):
        name = child.name
        if name.startswith((".", "_")):
            continue
        if name.endswith(".parquet") and child.is_file():
            try:
                info = footer(child)
            except (OSError, pyarrow.ArrowException):
                continue
            tables[name[: -len(".parquet")]] = {"file": name, **_public(info)}
        elif child.is_dir():
            rounds = {}
            for key in list_partitions(base, name):
                info = partition_info(base, name, key)
                if info is not None:
                    rel = f"{name}/{PARTITION_COLUMN}={key}/{PART_FILE}"
                    rounds[key] = {"file": rel, **_public(info)}
            if rounds:
                tables[name] = {"rounds": rounds}
    return {"tables": tables}


def _public(info: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in info.items() if k not in ("table", PARTITION_COLUMN)}


@contextmanager
def _lock(base: UPath) -> Iterator[None]:
    """An exclusive lock on a local dataset folder (no-op on object storage)."""
    if base.protocol not in ("", "file", "local"):
        yield
        return
    base.mkdir(parents=True, exist_ok=True)
    with open(f"{base.path}/.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_text_atomic(path: UPath, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".tmp-{uuid.uuid4().hex}-{path.name}.partial"
    tmp.write_text(text)
    tmp.fs.mv(tmp.path, path.path)


def write_manifest(base: UPath) -> dict[str, Any]:
    """Rewrite ``manifest.json`` from the files on disk (under a lock on local folders)."""
    with _lock(base):
        data = {"generated_at": now_iso(), **manifest(base)}
        write_text_atomic(base / MANIFEST, json.dumps(data, indent=1, sort_keys=True) + "\n")
    return data


def unit(column: str) -> str:
    """Unit of a column by its name ('' when it has none)."""
    if column in UNITS:
        return UNITS[column]
    for suffix, u in UNITS.items():
        if suffix.startswith("_") and column.endswith(suffix):
            return u
    return ""


def dictionary(
    tables: Mapping[str, type[pa.DataFrameModel]],
    single: Mapping[str, type[pa.DataFrameModel]] | None = None,
) -> str:
    """The data dictionary (Markdown) of the per-round `tables` and the cross-round tables
    with a model (`single`)."""
    out = [
        "# MLPerf Power dataset",
        "",
        "Tidy tables of MLCommons' published MLPerf results with power and energy computed "
        "from the raw traces. One Parquet file per table and round (hive layout: "
        "`<table>/round=<version>/part-0.parquet`); cross-round tables are `<table>.parquet`. "
        "`manifest.json` lists every file with its rows, source repository and commit, build "
        "time and schema version. Read it without this package:",
        "",
        "```python",
        "import pandas as pd",
        "df = pd.read_parquet('inference_results')      # every round; 'round' from the folder",
        "```",
        "",
        "```sql",
        "select * from read_parquet('inference_results/*/*.parquet', hive_partitioning = true);",
        "```",
        "",
    ]
    sections = [(t, m, "") for t, m in tables.items()]
    sections += [(t, m, f" One file: `{t}.parquet`.") for t, m in (single or {}).items()]
    for table, model, where in sections:
        schema = model.to_schema()
        doc = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else ""
        out += [
            f"## {table}",
            "",
            doc + where,
            "",
            f"Schema version `{schema_version(model)}`.",
            "",
            "| column | type | unit | nullable | meaning |",
            "|---|---|---|---|---|",
        ]
        for name, col in schema.columns.items():
            sql = _SQL_TYPES[arrow_type(col.dtype)]
            meaning = (col.description or "").replace("|", "\\|")
            if name == PARTITION_COLUMN and not where:
                meaning = (meaning + " (from the folder name round=<version>)").strip()
            nullable = "yes" if col.nullable else "no"
            out.append(f"| `{name}` | {sql} | {unit(name)} | {nullable} | {meaning} |")
        out.append("")
    return "\n".join(out)


def write_dictionary(
    base: UPath,
    tables: Mapping[str, type[pa.DataFrameModel]],
    single: Mapping[str, type[pa.DataFrameModel]] | None = None,
) -> None:
    """Write ``README.md`` if it differs from what the schemas say (`tables`, `single` as in
    `dictionary`)."""
    text = dictionary(tables, single)
    path = base / DICTIONARY
    try:
        if path.exists() and path.read_text() == text:
            return
    except OSError:
        pass
    write_text_atomic(path, text)


def sql_columns(model: type[pa.DataFrameModel]) -> list[tuple[str, str]]:
    """(column, DuckDB type) of a model, in order."""
    return [(n, _SQL_TYPES[arrow_type(c.dtype)]) for n, c in model.to_schema().columns.items()]
