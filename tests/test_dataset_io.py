"""The dataset IO manager in Dagster: partitions as Parquet files, downstream loads, object
storage, and several round partitions materialized at the same time."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import dagster as dg
import duckdb
import fsspec
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from mlperf_power_dag import dataset
from mlperf_power_dag.defs.io import SCHEMA_KEY, DatasetIOManager, model_ref

P = dg.DynamicPartitionsDefinition(name="io_test_rounds")


class Frames(pa.DataFrameModel):
    """Test rows."""

    round: Series[str]
    name: Series[str] = pa.Field(nullable=True)
    watts: Series[float] = pa.Field(nullable=True)

    class Config:
        strict = True
        ordered = True
        coerce = True


FRAMES = {
    "v1": pd.DataFrame({"round": [], "name": [], "watts": []}),  # empty first partition
    "v2": pd.DataFrame({"round": ["v2"], "name": [None], "watts": [1.5]}),  # all-null text
    "v3": pd.DataFrame({"round": ["v3", "v3"], "name": ["a", "b"], "watts": [2.0, None]}),
}


@dg.asset(partitions_def=P, metadata={SCHEMA_KEY: model_ref(Frames)})
def frames(context) -> pd.DataFrame:
    return Frames.validate(FRAMES[context.partition_key])


SEEN: dict[str, pd.DataFrame] = {}


@dg.asset(ins={"frames": dg.AssetIn("frames")})
def consumer(frames: pd.DataFrame) -> pd.DataFrame:
    SEEN["frames"] = frames
    return frames.groupby("round", as_index=False).size()


def _resources(base: str, warehouse: str | None = None) -> dict:
    return {
        "io_manager": DatasetIOManager(
            base_path=base, warehouse=warehouse, tables={"frames": model_ref(Frames)}
        )
    }


def test_partitions_downstream_and_views(tmp_path):
    res = _resources(str(tmp_path / "dataset"), str(tmp_path / "w.duckdb"))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(P.name, [*FRAMES, "v4"])  # v4 registered, never built
        for key in FRAMES:
            r = dg.materialize([frames], partition_key=key, instance=instance, resources=res)
            assert r.success
        r = dg.materialize([frames, consumer], selection=[consumer], instance=instance,
                           resources=res)  # fmt: skip
        assert r.success
    got = SEEN["frames"]
    assert list(got.columns) == ["round", "name", "watts"]
    assert got["round"].tolist() == ["v2", "v3", "v3"] and got["name"].isna().tolist()[0]
    assert (tmp_path / "dataset" / "frames" / "round=v1" / "part-0.parquet").exists()
    assert dataset.read_single(dataset.UPath(tmp_path / "dataset"), "consumer")[
        "size"
    ].tolist() == [
        1,
        2,
    ]
    manifest = json.loads((tmp_path / "dataset" / "manifest.json").read_text())
    assert {k: v["rows"] for k, v in manifest["tables"]["frames"]["rounds"].items()} == {
        "v1": 0,
        "v2": 1,
        "v3": 2,
    }
    con = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    rows = con.sql("select round, name, watts from mlperf.frames order by all").fetchall()
    assert rows == [("v2", None, 1.5), ("v3", "a", 2.0), ("v3", "b", None)]
    assert con.sql("select * from mlperf.consumer order by 1").fetchall() == [("v2", 1), ("v3", 2)]
    con.close()


def test_no_partition_built_loads_an_empty_frame_with_the_columns(tmp_path):
    res = _resources(str(tmp_path / "dataset"))
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(P.name, ["v1"])
        r = dg.materialize([frames, consumer], selection=[consumer], instance=instance,
                           resources=res)  # fmt: skip
        assert r.success
    assert SEEN["frames"].empty and list(SEEN["frames"].columns) == ["round", "name", "watts"]


def test_object_storage_through_fsspec_memory():
    fs = fsspec.filesystem("memory")
    res = _resources("memory://io-test/dataset")
    try:
        with dg.DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions(P.name, list(FRAMES))
            for key in FRAMES:
                assert dg.materialize([frames], partition_key=key, instance=instance,
                                      resources=res).success  # fmt: skip
            assert dg.materialize([frames, consumer], selection=[consumer], instance=instance,
                                  resources=res).success  # fmt: skip
        assert fs.exists("/io-test/dataset/frames/round=v3/part-0.parquet")
        assert fs.exists("/io-test/dataset/consumer.parquet")
        assert SEEN["frames"]["round"].tolist() == ["v2", "v3", "v3"]
    finally:
        fs.rm("/io-test", recursive=True)


CHILD = textwrap.dedent(
    """
    import sys
    import dagster as dg
    import pandas as pd
    import pandera.pandas as pa
    from pandera.typing import Series
    from mlperf_power_dag.defs.io import SCHEMA_KEY, DatasetIOManager, model_ref

    class Rows(pa.DataFrameModel):
        round: Series[str]
        i: Series[pd.Int64Dtype]

    P = dg.DynamicPartitionsDefinition(name="concurrent_rounds")

    @dg.asset(partitions_def=P, metadata={SCHEMA_KEY: "toy_rows:Rows"})
    def rows(context) -> pd.DataFrame:
        key = context.partition_key
        n = 1000 + int(key[1:])
        return Rows.validate(pd.DataFrame({"round": [key] * n, "i": range(n)}))

    if __name__ == "__main__":
        base, db = sys.argv[1], sys.argv[2]
        res = {"io_manager": DatasetIOManager(base_path=base, warehouse=db,
                                              tables={"rows": "toy_rows:Rows"})}
        # what the writers share is the dataset and the warehouse, not the Dagster instance
        instance = dg.DagsterInstance.ephemeral()
        instance.add_dynamic_partitions(P.name, sorted(set(sys.argv[3:])))
        ok = all(
            dg.materialize([rows], partition_key=k, instance=instance, resources=res).success
            for k in sys.argv[3:]
        )
        sys.exit(0 if ok else 1)
    """
)


def test_round_partitions_materialized_at_the_same_time(tmp_path):
    """Two processes write four rounds of one table into one dataset at once, each of its two
    rounds twice (a rematerialization racing the other process): every row arrives exactly
    once."""
    (tmp_path / "toy_rows.py").write_text(CHILD)
    base, db = str(tmp_path / "dataset"), str(tmp_path / "w.duckdb")
    env = {**__import__("os").environ, "PYTHONPATH": str(tmp_path)}
    keys = [f"r{i}" for i in range(4)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(tmp_path / "toy_rows.py"), base, db, *mine, *mine],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        for mine in (keys[:2], keys[2:])
    ]
    outs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0] * 2, [o[-3000:] for o in outs if "Error" in o]
    sys.path.insert(0, str(tmp_path))
    try:
        import toy_rows

        frame, missing = dataset.read_partitions(dataset.UPath(base), "rows", None, toy_rows.Rows)
    finally:
        sys.path.remove(str(tmp_path))
    assert missing == []
    assert frame.groupby("round").size().to_dict() == {k: 1000 + int(k[1:]) for k in keys}
    assert not frame.duplicated().any()
    manifest = json.loads((tmp_path / "dataset" / "manifest.json").read_text())
    assert sorted(manifest["tables"]["rows"]["rounds"]) == keys
    con = duckdb.connect(db, read_only=True)
    assert con.sql("select count(*), count(distinct (round, i)) from mlperf.rows").fetchall() == [
        (4006, 4006)
    ]
    con.close()
