"""DuckDB IO manager that types columns from the frame and inserts by name."""

import dagster as dg
import pandas as pd
from dagster_duckdb_pandas import DuckDBPandasIOManager, DuckDBPandasTypeHandler


def duckdb_type(dtype) -> str:
    """DuckDB column type for a pandas dtype (object columns are text)."""
    if pd.api.types.is_bool_dtype(dtype):
        return "BOOLEAN"
    if pd.api.types.is_integer_dtype(dtype):
        return "BIGINT"
    if pd.api.types.is_float_dtype(dtype):
        return "DOUBLE"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "TIMESTAMP"
    return "VARCHAR"


class TypedPandasTypeHandler(DuckDBPandasTypeHandler):
    """Creates the table from dtypes (all-null columns keep their type, empty frames still
    create it), adds columns a newer schema brings, and inserts BY NAME, never by position."""

    def handle_output(self, context: dg.OutputContext, table_slice, obj: pd.DataFrame, connection):
        table = f"{table_slice.schema}.{table_slice.table}"
        cols = {str(c): duckdb_type(t) for c, t in obj.dtypes.items()}
        ddl = ", ".join(f'"{c}" {t}' for c, t in cols.items())
        connection.execute(f"create table if not exists {table} ({ddl})")
        have = {
            r[0]
            for r in connection.execute(
                "select column_name from information_schema.columns "
                "where table_schema = ? and table_name = ?",
                [table_slice.schema, table_slice.table],
            ).fetchall()
        }
        for c, t in cols.items():
            if c not in have:
                connection.execute(f'alter table {table} add column "{c}" {t}')
        if not obj.empty:
            connection.register("_mlperf_obj", obj)
            try:
                connection.execute(f"insert into {table} by name select * from _mlperf_obj")
            finally:
                connection.unregister("_mlperf_obj")
        key = "dagster/partition_row_count" if context.has_partition_key else "dagster/row_count"
        context.add_output_metadata({key: len(obj), "dagster/storage_kind": "duckdb"})

    def load_input(self, context: dg.InputContext, table_slice, connection) -> pd.DataFrame:
        exists = connection.execute(
            "select count(*) from information_schema.tables "
            "where table_schema = ? and table_name = ?",
            [table_slice.schema, table_slice.table],
        ).fetchone()[0]
        if not exists:
            context.log.warning(
                f"{table_slice.schema}.{table_slice.table} does not exist yet (its asset was "
                "never materialized): loading an empty frame"
            )
            return pd.DataFrame()
        return super().load_input(context, table_slice, connection)


class WarehouseIOManager(DuckDBPandasIOManager):
    """The warehouse: DuckDB tables of pandas frames, typed and inserted by name."""

    @staticmethod
    def type_handlers():
        return [TypedPandasTypeHandler()]
