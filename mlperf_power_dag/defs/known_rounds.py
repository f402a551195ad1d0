"""The `rounds` asset: every known round of every suite as one table of the dataset."""

from collections.abc import Collection

import dagster as dg
import pandas as pd
from upath import UPath

from mlperf_power_dag import buildstate
from mlperf_power_dag.asset_inputs import ROUNDS_KEY, ROUNDS_TABLES, fingerprint_args
from mlperf_power_dag.buildstate import FINGERPRINT_KEY
from mlperf_power_dag.defs.automation import DOWNSTREAM
from mlperf_power_dag.defs.fingerprint import current_fingerprint
from mlperf_power_dag.defs.io import OPTIONAL_KEY, SCHEMA_KEY, model_ref
from mlperf_power_dag.defs.resources import MlperfHome
from mlperf_power_dag.defs.rounds import dagster_type
from mlperf_power_dag.rounds import catalog, registry
from mlperf_power_dag.rounds.table import known_rounds
from mlperf_power_dag.schemas import Rounds, conform

RoundsType = dagster_type(Rounds)
# The rounds table as an input; None when it was never written (a reader launched alone).
ROUNDS_IN = dg.AssetIn(ROUNDS_KEY, metadata={OPTIONAL_KEY: True})
# suite -> the results table whose files name the commit each of its rounds was built from
SUITE_TABLES = {table.removesuffix("_results"): table for table in ROUNDS_TABLES}


def current_rounds(home: MlperfHome) -> pd.DataFrame:
    """The rounds table of a home as it is now: the catalog, the rounds discovered into the
    home (`rounds.json`) and the commit of every round built into its dataset."""
    base = UPath(home.dataset_dir())
    return known_rounds(
        [r for suite in catalog.SUITES for r in catalog.rounds(suite)],
        registry.discovered(home=home.root()),
        buildstate.built_commits(base, SUITE_TABLES),
    )


def rounds_input(rounds: pd.DataFrame | None, home: MlperfHome) -> pd.DataFrame:
    """The rounds table an asset was given, typed; computed as the `rounds` asset would when
    it was never written."""
    return current_rounds(home) if rounds is None else conform(Rounds, rounds)


def _preview(frame: pd.DataFrame) -> str:
    shown = frame.assign(commit=frame["commit"].map(lambda c: c[:12] if isinstance(c, str) else ""))
    return shown.fillna("").to_markdown(index=False)


def rounds_asset(tables: Collection[str] = ROUNDS_TABLES) -> dg.AssetsDefinition:
    """The `rounds` asset, downstream of the results tables among `tables` (those whose files
    it reads the commits from)."""

    @dg.asset(
        name=ROUNDS_KEY,
        group_name="rounds",
        deps=[dg.AssetKey(t) for t in ROUNDS_TABLES if t in tables],
        dagster_type=RoundsType,
        metadata={
            SCHEMA_KEY: model_ref(Rounds),
            "dagster/column_schema": RoundsType.metadata["schema"].schema,
        },
        kinds={"parquet", "pandas"},
        description=(
            "Every known round of every suite (the catalog and the rounds discovery recorded "
            "in rounds.json): version, source kind, publication date and the commit its tables "
            "were built from (empty until built). Metrics, figures and the report read it."
        ),
        automation_condition=DOWNSTREAM,
    )
    def rounds(context: dg.AssetExecutionContext, mlperf_home: MlperfHome) -> pd.DataFrame:
        fingerprint = current_fingerprint(
            ROUNDS_TABLES, home=mlperf_home, **fingerprint_args(ROUNDS_KEY)
        )
        frame = current_rounds(mlperf_home)
        context.add_output_metadata(
            {
                FINGERPRINT_KEY: fingerprint,
                "built": int(frame["commit"].notna().sum()),
                "preview": dg.MetadataValue.md(_preview(frame)),
            }
        )
        return frame

    return rounds
