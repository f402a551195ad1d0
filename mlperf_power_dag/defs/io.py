"""The dataset IO manager: Parquet per table and round on any fsspec path, DuckDB views beside."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from upath import UPath

from mlperf_power_dag import dataset, local, warehouse
from mlperf_power_dag.defs.resources import MlperfHome
from mlperf_power_dag.schemas import LOCAL_MODELS

SCHEMA_KEY = "mlperf/schema"  # definition metadata: "module:Model" of a per-round table
# Input metadata: True adds the local submissions' rows (with `official` false; published rows
# get `official` true) to a per-round table; by default they are left out.
WITH_LOCAL_KEY = "mlperf/with_local"
INFO_KEYS = ("source", "source_repo", "source_commit", "code_version")
# Input metadata: True hands None to an input whose cross-round table was never written (the
# asset then computes what it would have read) instead of failing.
OPTIONAL_KEY = "mlperf/optional"


def model_ref(model: type[pa.DataFrameModel]) -> str:
    """`module:Class` of a pandera model, for asset metadata."""
    return f"{model.__module__}:{model.__name__}"


def load_model(ref: str) -> type[pa.DataFrameModel]:
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


def _plain(value: Any) -> Any:
    return getattr(value, "value", value)


class ParquetDatasetIOManager(dg.UPathIOManager):
    """Per-round tables as ``<table>/round=<key>/part-0.parquet`` (typed from the pandera model
    named in the output's ``mlperf/schema`` metadata), cross-round tables as
    ``<table>.parquet`` (typed from its model too when it names one); every write is atomic
    and replaces only its own file.

    A downstream asset reading a per-round table gets one frame of every materialized round
    (an empty frame with the model's columns when there is none); registered rounds with no
    file are skipped with a warning. After each write the manifest, the data dictionary and
    (for a local dataset) the DuckDB views are brought up to date.

    Partitions of local submissions (`local-<name>`) are written under `local_path`, apart
    from the published dataset, and read only by inputs that ask for them (WITH_LOCAL_KEY).
    """

    extension = ".parquet"

    def __init__(
        self,
        base_path: UPath,
        warehouse_path: Path | None = None,
        tables: dict[str, type[pa.DataFrameModel]] | None = None,
        local_path: UPath | None = None,
        single_tables: dict[str, type[pa.DataFrameModel]] | None = None,
    ):
        super().__init__(base_path=base_path)
        self.warehouse_path = warehouse_path
        self.tables = dict(tables or {})
        self.local_path = local_path
        self.single_tables = dict(single_tables or {})
        # table -> (files' identity, frame, missing keys): the last read of each per-round
        # table, handed out again (as a copy) while its files are unchanged
        self._frames: dict[str, tuple[tuple, pd.DataFrame, list[str]]] = {}

    def _read_rounds(
        self, table: str, keys: list[str], model: type[pa.DataFrameModel]
    ) -> tuple[pd.DataFrame, list[str]]:
        """`dataset.read_partitions`, read once per run for a local dataset while its files
        are unchanged (many assets read the same table)."""
        base = self._base_path
        if base.protocol not in ("", "file", "local"):
            return dataset.read_partitions(base, table, keys, model)
        identity = [table, model_ref(model)]
        for key in keys:
            try:
                st = dataset.partition_path(base, table, key).stat()
                identity.append((key, st.st_ino, st.st_mtime_ns, st.st_size))
            except FileNotFoundError:
                identity.append((key, None))
        hit = self._frames.get(table)
        if hit is None or hit[0] != tuple(identity):
            frame, missing = dataset.read_partitions(base, table, keys, model)
            hit = self._frames[table] = (tuple(identity), frame, missing)
        return hit[1].copy(), list(hit[2])

    def _local_base(self) -> UPath:
        if self.local_path is None:
            raise dataset.DatasetError("local submissions need the IO manager's local_path")
        return self.local_path

    # paths: <base>/<table>/round=<key>/part-0.parquet and <base>/<table>.parquet
    def get_path_for_partition(self, context, path: UPath, partition: str) -> UPath:
        return path / f"{dataset.PARTITION_COLUMN}={dataset.check_key(partition)}" / "part-0"

    def _model(self, metadata: Any, table: str) -> type[pa.DataFrameModel] | None:
        ref = _plain((metadata or {}).get(SCHEMA_KEY))
        if ref:
            return load_model(str(ref))
        return self.tables.get(table)

    def dump_to_path(self, context: dg.OutputContext, obj: pd.DataFrame, path: UPath) -> None:
        table = context.asset_key.path[-1]
        info = {k: _plain(v) for k, v in (context.output_metadata or {}).items() if k in INFO_KEYS}
        if context.has_asset_partitions:
            model = self._model(context.definition_metadata, table)
            if model is None:
                raise dataset.DatasetError(
                    f"{table}: per-round table without a pandera model ({SCHEMA_KEY} metadata)"
                )
            key = context.asset_partition_key
            if local.is_local(key):
                base = self._local_base()
                dataset.write_partition(base, table, key, obj, LOCAL_MODELS[model], info)
                dataset.write_manifest(base)
                return
            dataset.write_partition(self._base_path, table, key, obj, model, info)
        else:
            model = self._model(context.definition_metadata, table)
            dataset.write_single(self._base_path, table, obj, info, model=model)
        self._after_write(context)

    def _after_write(self, context: dg.OutputContext) -> None:
        dataset.write_manifest(self._base_path)
        dataset.write_dictionary(self._base_path, self.tables, self.single_tables)
        if self.warehouse_path is None or self._base_path.protocol not in ("", "file", "local"):
            return
        try:
            warehouse.refresh_views(self.warehouse_path, Path(self._base_path.path), self.tables)
        except warehouse.WarehouseBusy as e:
            context.log.warning(f"DuckDB views not refreshed (the data is written): {e}")

    def get_metadata(self, context: dg.OutputContext, obj: pd.DataFrame) -> dict[str, Any]:
        key = "dagster/partition_row_count" if context.has_partition_key else "dagster/row_count"
        return {key: len(obj), "dagster/storage_kind": "parquet"}

    def load_from_path(self, context: dg.InputContext, path: UPath) -> pd.DataFrame:
        table = context.asset_key.path[-1]
        try:
            return dataset.read_single(self._base_path, table)
        except FileNotFoundError as e:
            raise FileNotFoundError(
                f"{table} was never materialized ({path} does not exist); materialize it first"
            ) from e

    def load_input(self, context: dg.InputContext) -> pd.DataFrame | None:
        if not (context.has_asset_key and context.has_asset_partitions):
            optional = _plain((context.definition_metadata or {}).get(OPTIONAL_KEY))
            if optional and context.has_asset_key:
                table = context.asset_key.path[-1]
                if not dataset.single_path(self._base_path, table).exists():
                    context.log.info(f"{table} not written yet: computed where it is read")
                    return None
            return super().load_input(context)
        table = context.asset_key.path[-1]
        upstream = context.upstream_output
        model = self._model(upstream.definition_metadata if upstream else None, table)
        if model is None:
            raise dataset.DatasetError(f"{table}: no pandera model to read it with")
        keys = list(context.asset_partition_keys)
        published = [k for k in keys if not local.is_local(k)]
        frame, missing = self._read_rounds(table, published, model)
        if missing:
            context.log.warning(
                f"{table}: {len(missing)} registered round(s) not built yet, left out: "
                f"{', '.join(missing)}"
            )
        if not _plain((context.definition_metadata or {}).get(WITH_LOCAL_KEY)):
            return frame
        mine = [k for k in keys if local.is_local(k)]
        theirs, _ = dataset.read_partitions(self._local_base(), table, mine, LOCAL_MODELS[model])
        if "official" in theirs.columns:
            frame = frame.assign(official=True)
        return pd.concat([frame, theirs], ignore_index=True) if len(theirs) else frame


class DatasetIOManager(dg.ConfigurableIOManagerFactory):
    """The open dataset at `base_path` (a folder or an fsspec URL such as ``s3://bucket/x``),
    with DuckDB views in `warehouse` (a local file; omitted for remote datasets)."""

    base_path: str
    warehouse: str | None = None
    storage_options: dict[str, Any] = {}
    tables: dict[str, str] = {}  # per-round table -> "module:Model", for views and dictionary
    local_path: str | None = None  # where local submissions' partitions go (a local folder)
    # cross-round table -> "module:Model", for the dictionary (its asset names it as well)
    single_tables: dict[str, str] = {}

    def create_io_manager(self, context) -> ParquetDatasetIOManager:
        return ParquetDatasetIOManager(
            UPath(self.base_path, **self.storage_options),
            Path(self.warehouse) if self.warehouse else None,
            {t: load_model(ref) for t, ref in self.tables.items()},
            UPath(self.local_path) if self.local_path else None,
            {t: load_model(ref) for t, ref in self.single_tables.items()},
        )


class HomeDatasetIOManager(DatasetIOManager):
    """The dataset of an `MlperfHome` (its dataset path and warehouse), read when a run starts."""

    base_path: str = ""
    home: MlperfHome

    def create_io_manager(self, context) -> ParquetDatasetIOManager:
        base = self.base_path or self.home.dataset_dir()
        return ParquetDatasetIOManager(
            UPath(base, **self.storage_options),
            Path(self.warehouse) if self.warehouse else self.home.warehouse_path(),
            {t: load_model(ref) for t, ref in self.tables.items()},
            UPath(self.home.local_dir()),
            {t: load_model(ref) for t, ref in self.single_tables.items()},
        )


class LocalDatasetIOManager(dg.ConfigurableIOManagerFactory):
    """Tables about local submission trees (the comparison), under the home's `local/` folder,
    apart from the published dataset and without DuckDB views."""

    home: MlperfHome

    def create_io_manager(self, context) -> ParquetDatasetIOManager:
        return ParquetDatasetIOManager(UPath(self.home.local_dir()))
