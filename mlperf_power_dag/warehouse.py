"""`warehouse.duckdb`: DuckDB views over the Parquet dataset (the query engine, not the store).

Every per-round table is a view ``mlperf.<table>`` over ``<dataset>/<table>/round=*/*.parquet``
with the pandera model's columns in order; a table with no file yet is an empty view with the
same columns and types. Cross-round tables are views over ``<dataset>/<table>.parquet``. The
database file holds no data, so it is opened for writing only for a moment, when a view must
change, and can be opened read-only while a build runs.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import duckdb
import pandera.pandas as pa

from mlperf_power_dag import dataset

SCHEMA = "mlperf"
LOCK_RETRY_S = 10.0

log = logging.getLogger(__name__)


class WarehouseBusy(RuntimeError):
    """The DuckDB file is held by another process for longer than we wait."""


def _q(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def partitioned_view_sql(dataset_dir: Path, table: str, model: type[pa.DataFrameModel]) -> str:
    """The SELECT behind the view of a per-round table (an empty one when it has no file)."""
    cols = dataset.sql_columns(model)
    if dataset.list_partitions(dataset.UPath(str(dataset_dir)), table):
        glob = str(dataset_dir / table / f"{dataset.PARTITION_COLUMN}=*" / "*.parquet")
        select = ", ".join(f'cast("{c}" as {t}) as "{c}"' for c, t in cols)
        return (
            f"select {select} from read_parquet({_q(glob)}, hive_partitioning = true, "
            f"hive_types = {{'{dataset.PARTITION_COLUMN}': VARCHAR}}, union_by_name = true)"
        )
    select = ", ".join(f'cast(null as {t}) as "{c}"' for c, t in cols)
    return f"select {select} where false"


def _wanted(dataset_dir: Path, tables: Mapping[str, type[pa.DataFrameModel]]) -> dict[str, str]:
    out = {t: partitioned_view_sql(dataset_dir, t, m) for t, m in tables.items()}
    if dataset_dir.is_dir():
        for f in sorted(dataset_dir.glob("*.parquet")):
            out.setdefault(f.stem, f"select * from read_parquet({_q(str(f))})")
    return out


def _connect(db: Path, read_only: bool, wait_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_s
    delay = 0.05
    while True:
        try:
            return duckdb.connect(str(db), read_only=read_only)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower() or time.monotonic() > deadline:
                if "lock" in str(e).lower():
                    raise WarehouseBusy(f"{db} is locked by another process: {e}") from e
                raise
            time.sleep(delay)
            delay = min(delay * 2, 1.0)


def _current(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """View name -> the fingerprint stored in its comment."""
    rows = con.execute(
        "select view_name, comment from duckdb_views() where schema_name = ? and not internal",
        [SCHEMA],
    ).fetchall()
    return {name: comment or "" for name, comment in rows}


def _base_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where schema_name = ?", [SCHEMA]
    ).fetchall()
    return [r[0] for r in rows]


def migrate_legacy(db: Path, say: Callable[[str], None] = log.warning) -> Path | None:
    """Move aside a warehouse written by an earlier version (tables, not views over Parquet).

    Returns the backup path, or None when there was nothing to move. The rounds it held are
    rebuilt into the dataset by the next build (nothing is read from the old file).
    """
    if not db.exists():
        return None
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        legacy = _base_tables(con)
    finally:
        con.close()
    if not legacy:
        return None
    backup = db.with_name(db.name + ".pre-parquet")
    shutil.move(str(db), backup)
    wal = db.with_name(db.name + ".wal")
    if wal.exists():
        shutil.move(str(wal), backup.with_name(backup.name + ".wal"))
    say(
        f"{db} was written by an earlier version of mlperf-power-dag (it holds tables "
        f"{', '.join(sorted(legacy))}; the tables now live as Parquet files in dataset/). "
        f"Moved it to {backup}; rounds missing from dataset/ are rebuilt."
    )
    return backup


def refresh_views(
    db: Path,
    dataset_dir: Path,
    tables: Mapping[str, type[pa.DataFrameModel]],
    wait_s: float = LOCK_RETRY_S,
) -> list[str]:
    """Create or replace the views that differ from what the dataset needs; returns their names.

    Opens the file for writing only when some view must change.
    """
    migrate_legacy(db)
    wanted = _wanted(dataset_dir, tables)
    if db.exists():
        try:
            con = _connect(db, read_only=True, wait_s=wait_s)
        except WarehouseBusy:
            con = None
        if con is not None:
            try:
                have = _current(con)
            finally:
                con.close()
            if not _stale(have, wanted):
                return []
    db.parent.mkdir(parents=True, exist_ok=True)
    con = _connect(db, read_only=False, wait_s=wait_s)
    try:
        con.execute(f"create schema if not exists {SCHEMA}")
        have = _current(con)
        changed = [t for t, s in wanted.items() if have.get(t) != _fingerprint(s)]
        for t in changed:
            con.execute(f"create or replace view {SCHEMA}.{t} as {wanted[t]}")
            con.execute(f"comment on view {SCHEMA}.{t} is {_q(_fingerprint(wanted[t]))}")
        return changed
    finally:
        con.close()


def _fingerprint(select: str) -> str:
    return "mlperf-power-dag view " + hashlib.sha256(select.encode()).hexdigest()[:16]


def _stale(have: Mapping[str, str], wanted: Mapping[str, str]) -> bool:
    return any(have.get(t) != _fingerprint(s) for t, s in wanted.items())
