"""The warehouse IO manager: typed tables, inserts by name, empty and all-null partitions."""

import dagster as dg
import duckdb
import pandas as pd

from mlperf_power_dag.defs.io import WarehouseIOManager

P = dg.DynamicPartitionsDefinition(name="io_test_rounds")
FRAMES = {
    # first partition: empty, so the table must be typed from dtypes alone
    "v1": pd.DataFrame(
        {
            "round": pd.Series([], dtype=object),
            "name": pd.Series([], dtype=object),
            "watts": pd.Series([], dtype=float),
        }
    ),
    # an all-null text column, in a different column order
    "v2": pd.DataFrame({"watts": [1.5], "name": [None], "round": ["v2"]}),
    # a column a newer schema adds
    "v3": pd.DataFrame({"round": ["v3"], "name": ["b"], "watts": [2.0], "extra": [7]}),
}


@dg.asset(partitions_def=P, metadata={"partition_expr": "round"})
def frames(context: dg.AssetExecutionContext) -> pd.DataFrame:
    return FRAMES[context.partition_key]


def test_typed_by_name_inserts(tmp_path):
    db = tmp_path / "w.duckdb"
    res = {"io_manager": WarehouseIOManager(database=str(db), schema="mlperf")}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(P.name, list(FRAMES))
        for key in FRAMES:
            assert dg.materialize(
                [frames], partition_key=key, instance=instance, resources=res
            ).success
    con = duckdb.connect(str(db), read_only=True)
    types = dict(
        con.sql(
            "select column_name, data_type from information_schema.columns "
            "where table_name = 'frames'"
        ).fetchall()
    )
    assert types == {"round": "VARCHAR", "name": "VARCHAR", "watts": "DOUBLE", "extra": "BIGINT"}
    rows = con.sql("select round, name, watts, extra from mlperf.frames order by round").fetchall()
    assert rows == [("v2", None, 1.5, None), ("v3", "b", 2.0, 7)]


def test_missing_table_loads_empty(tmp_path):
    res = {"io_manager": WarehouseIOManager(database=str(tmp_path / "w.duckdb"), schema="mlperf")}

    @dg.asset(ins={"frames": dg.AssetIn("frames")})
    def consumer(frames: pd.DataFrame) -> None:
        assert frames.empty and len(frames.columns) == 0

    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(P.name, ["v1"])
        result = dg.materialize(
            [frames, consumer], selection=[consumer], instance=instance, resources=res
        )
        assert result.success
