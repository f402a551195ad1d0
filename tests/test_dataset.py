"""The Parquet dataset: typed per-round files, atomic replacement, manifest, dictionary, views."""

from __future__ import annotations

import json
import os

import duckdb
import fsspec
import pandas as pd
import pandera.pandas as pa
import pyarrow.parquet as pq
import pytest
from pandera.typing import Series
from upath import UPath

from mlperf_power_dag import dataset, schemas, warehouse


class Toy(pa.DataFrameModel):
    """A toy per-round table."""

    round: Series[str] = pa.Field(description="MLPerf round")
    name: Series[str] = pa.Field(nullable=True, description="a name")
    power_w: Series[float] = pa.Field(nullable=True, description="average power")
    count: Series[pd.Int64Dtype] = pa.Field(nullable=True)
    ok: Series[bool]

    class Config:
        strict = True
        ordered = True
        coerce = True


def toy(rnd: str, n: int, **over) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "round": [rnd] * n,
            "name": [f"s{i}" for i in range(n)],
            "power_w": [float(i) + 0.5 for i in range(n)],
            "count": pd.array(list(range(n)), dtype="Int64"),
            "ok": [True] * n,
        }
    )
    for k, v in over.items():
        df[k] = v
    return Toy.validate(df)


def test_file_is_typed_from_the_schema_and_round_is_the_folder(tmp_path):
    base = UPath(tmp_path)
    # all-null text and integer columns keep their declared types
    df = toy("v1.0", 2, name=[None, None], count=pd.array([None, None], dtype="Int64"))
    path = dataset.write_partition(base, "toy", "v1.0", df, Toy, {"source_commit": "a" * 40})
    assert path == base / "toy" / "round=v1.0" / "part-0.parquet"
    schema = pq.read_schema(str(path))
    assert [(f.name, str(f.type)) for f in schema] == [
        ("name", "string"),
        ("power_w", "double"),
        ("count", "int64"),
        ("ok", "bool"),
    ]
    info = dataset.footer(path)
    assert info["rows"] == 2 and info["source_commit"] == "a" * 40
    assert info["schema_version"] == dataset.schema_version(Toy)
    back = dataset.read_partition(base, "toy", "v1.0", Toy)
    assert list(back.columns) == ["round", "name", "power_w", "count", "ok"]
    assert back["count"].dtype == "Int64" and back["name"].isna().all()
    # read without this package: pandas and DuckDB see every round with its round column
    dataset.write_partition(base, "toy", "v1.1", toy("v1.1", 3), Toy)
    pdf = pd.read_parquet(tmp_path / "toy")
    assert sorted(pdf["round"].astype(str).value_counts().items()) == [("v1.0", 2), ("v1.1", 3)]
    n = duckdb.sql(
        f"select count(*) from read_parquet('{tmp_path}/toy/*/*.parquet', hive_partitioning=true)"
        " where round = 'v1.1'"
    ).fetchall()[0][0]
    assert n == 3


def test_replacing_a_round_touches_only_that_file_and_leaves_no_temp(tmp_path):
    base = UPath(tmp_path)
    dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 2), Toy)
    other = dataset.write_partition(base, "toy", "v2.0", toy("v2.0", 4), Toy)
    before = (other.stat().st_mtime_ns, other.read_bytes())
    dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 5), Toy)
    assert (other.stat().st_mtime_ns, other.read_bytes()) == before
    frame, missing = dataset.read_partitions(base, "toy", None, Toy)
    assert frame.groupby("round").size().to_dict() == {"v1.0": 5, "v2.0": 4}
    assert missing == []
    leftovers = [p for p in (tmp_path / "toy").rglob("*") if p.name.startswith(".tmp")]
    assert leftovers == []


def test_a_failed_write_keeps_the_old_file(tmp_path):
    base = UPath(tmp_path)
    dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 2), Toy)
    bad = toy("v1.0", 1).drop(columns=["ok"])
    with pytest.raises(dataset.DatasetError, match="missing columns"):
        dataset.write_partition(base, "toy", "v1.0", bad, Toy)
    with pytest.raises(dataset.DatasetError, match="other rounds"):
        dataset.write_partition(base, "toy", "v1.0", toy("v2.0", 1), Toy)
    assert len(dataset.read_partition(base, "toy", "v1.0", Toy)) == 2
    assert not [p for p in (tmp_path / "toy").rglob(".tmp*")]


@pytest.mark.parametrize("key", ["..", "../x", "a/b", "", "v1 .0"])
def test_unsafe_keys_are_refused(tmp_path, key):
    with pytest.raises(dataset.DatasetError, match="unsafe"):
        dataset.write_partition(UPath(tmp_path), "toy", key, toy("v1.0", 0), Toy)


def test_missing_rounds_and_empty_tables(tmp_path):
    base = UPath(tmp_path)
    frame, missing = dataset.read_partitions(base, "toy", ["v1.0", "v9.9"], Toy)
    assert frame.empty and missing == ["v1.0", "v9.9"]
    assert list(frame.columns) == ["round", "name", "power_w", "count", "ok"]
    assert str(frame["power_w"].dtype) == "float64" and str(frame["count"].dtype) == "Int64"


def test_in_memory_filesystem():
    fs = fsspec.filesystem("memory")
    base = UPath("memory://mlperf-test/dataset")
    try:
        dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 2), Toy, {"source": "tree"})
        dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 3), Toy)
        dataset.write_partition(base, "toy", "v2.0", toy("v2.0", 1), Toy)
        dataset.write_single(base, "summary", pd.DataFrame({"round": ["v1.0"], "x": [1.5]}))
        frame, _ = dataset.read_partitions(base, "toy", None, Toy)
        assert frame.groupby("round").size().to_dict() == {"v1.0": 3, "v2.0": 1}
        assert dataset.read_single(base, "summary")["x"].tolist() == [1.5]
        m = dataset.write_manifest(base)
        assert m["tables"]["toy"]["rounds"]["v1.0"]["rows"] == 3
        assert m["tables"]["summary"]["rows"] == 1
        assert json.loads(fs.cat("/mlperf-test/dataset/manifest.json"))["tables"].keys() == {
            "toy",
            "summary",
        }
        assert not [p for p in fs.find("/mlperf-test") if ".tmp" in p]
    finally:
        fs.rm("/mlperf-test", recursive=True)


def test_manifest_and_dictionary(tmp_path):
    base = UPath(tmp_path)
    info = {"source_repo": "mlcommons/x", "source_commit": "b" * 40, "code_version": "c0de"}
    dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 2), Toy, info)
    m = dataset.write_manifest(base)
    entry = m["tables"]["toy"]["rounds"]["v1.0"]
    assert entry["file"] == "toy/round=v1.0/part-0.parquet"
    assert entry["rows"] == 2 and entry["source_repo"] == "mlcommons/x"
    assert entry["source_commit"] == "b" * 40 and entry["code_version"] == "c0de"
    assert entry["schema_version"] == dataset.schema_version(Toy) and entry["built_at"]
    assert json.loads((tmp_path / "manifest.json").read_text())["tables"] == m["tables"]
    dataset.write_dictionary(base, {"toy": Toy})
    text = (tmp_path / "README.md").read_text()
    assert "## toy" in text
    assert "| `power_w` | DOUBLE | W | yes | average power |" in text
    assert "| `count` | BIGINT |  | yes |  |" in text
    assert "| `ok` | BOOLEAN |  | no |  |" in text


def test_views_are_typed_when_empty_and_follow_new_files(tmp_path):
    db, ds = tmp_path / "warehouse.duckdb", tmp_path / "dataset"
    assert warehouse.refresh_views(db, ds, {"toy": Toy}) == ["toy"]
    con = duckdb.connect(str(db), read_only=True)
    assert con.sql("describe mlperf.toy").fetchall()[1][:2] == ("name", "VARCHAR")
    assert con.sql("select count(*) from mlperf.toy").fetchall() == [(0,)]
    con.close()
    dataset.write_partition(UPath(ds), "toy", "v1.0", toy("v1.0", 2), Toy)
    assert warehouse.refresh_views(db, ds, {"toy": Toy}) == ["toy"]
    assert warehouse.refresh_views(db, ds, {"toy": Toy}) == []  # nothing to change
    # a reader holds the file open read-only while a new round is written: it sees it
    con = duckdb.connect(str(db), read_only=True)
    dataset.write_partition(UPath(ds), "toy", "v2.0", toy("v2.0", 3), Toy)
    assert warehouse.refresh_views(db, ds, {"toy": Toy}) == []
    rows = con.sql("select round, count(*) from mlperf.toy group by 1 order by 1").fetchall()
    assert rows == [("v1.0", 2), ("v2.0", 3)]
    types = dict(con.sql("select column_name, column_type from (describe mlperf.toy)").fetchall())
    assert types == {
        "round": "VARCHAR",
        "name": "VARCHAR",
        "power_w": "DOUBLE",
        "count": "BIGINT",
        "ok": "BOOLEAN",
    }
    con.close()


def test_a_warehouse_of_the_previous_version_is_moved_aside(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(db))
    con.execute("create schema mlperf; create table mlperf.inference_results (round varchar)")
    con.close()
    said: list[str] = []
    backup = warehouse.migrate_legacy(db, say=said.append)
    assert backup == tmp_path / "warehouse.duckdb.pre-parquet" and backup.exists()
    assert not db.exists() and "earlier version" in said[0] and "rebuilt" in said[0]
    assert warehouse.migrate_legacy(db, say=said.append) is None
    warehouse.refresh_views(db, tmp_path / "dataset", {"toy": Toy})
    assert warehouse.migrate_legacy(db, say=said.append) is None  # views only: current
    assert len(said) == 1 and os.path.exists(db)


KILLED_WRITER = """
import sys
import pandas as pd
from upath import UPath
from mlperf_power_dag import dataset
sys.path.insert(0, sys.argv[2])
from test_dataset import Toy, toy
base = UPath(sys.argv[1])
print("ready", flush=True)
while True:  # rewrite the same round until killed
    dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 200_000), Toy)
"""


@pytest.mark.parametrize("delay", [0.05, 0.4, 1.1])
def test_a_writer_killed_mid_write_leaves_the_round_whole(tmp_path, delay):
    import signal
    import subprocess
    import sys
    import time

    base = UPath(tmp_path / "dataset")
    dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 3), Toy)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path / "dataset"),
         str(os.path.dirname(__file__))],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    # the round is the old file or a complete new one, never a torn one
    frame = dataset.read_partition(base, "toy", "v1.0", Toy)
    assert len(frame) in (3, 200_000) and frame["power_w"].notna().all()
    n = duckdb.sql(
        f"select count(*) from read_parquet('{tmp_path}/dataset/toy/*/*.parquet')"
    ).fetchall()[0][0]
    assert n == len(frame)  # a half-written temporary file is never read
    # the next build writes the round again
    dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 5), Toy)
    assert len(dataset.read_partition(base, "toy", "v1.0", Toy)) == 5
    assert dataset.list_partitions(base, "toy") == ["v1.0"]


def test_temporaries_of_killed_writers_are_removed_once_stale(tmp_path):
    base = UPath(tmp_path)
    path = dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 1), Toy)
    old = path.parent / ".tmp-dead-part-0.parquet.partial"
    fresh = path.parent / ".tmp-live-part-0.parquet.partial"
    old.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.utime(old, (1, 1))
    dataset.write_partition(base, "toy", "v1.0", toy("v1.0", 2), Toy)
    assert not old.exists() and fresh.exists()


@pytest.mark.parametrize(
    "model",
    [
        schemas.InferenceResults, schemas.TinyResults, schemas.TrainingResults, schemas.Problems,
        schemas.Rounds, *schemas.LOCAL_MODELS.values(),
    ],
)  # fmt: skip
def test_a_table_read_back_is_taken_as_typed_without_revalidation(tmp_path, model):
    """The dtypes `conform` accepts as already typed are those pandera gives an empty frame,
    and a round written and read back has them, so it is returned as is."""
    assert schemas._dtypes(model).to_dict() == schemas.empty(model).dtypes.to_dict()
    back = dataset.empty_frame(model)
    assert schemas.conform(model, back) is back
    mixed = back.astype(object)
    if (mixed.dtypes != back.dtypes).any():  # wrong types: coerced and validated
        assert schemas.conform(model, mixed).dtypes.to_dict() == back.dtypes.to_dict()
