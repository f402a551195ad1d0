"""The report asset: the static site with every figure and the state of the dataset."""

import dagster as dg
import pandas as pd

from mlperf_power_dag import report
from mlperf_power_dag.asset_inputs import (
    CROSSCHECK_KEY,
    FIGURE_SUITES,
    REPORT_KEY,
    REPORT_TABLES,
    ROUNDS_KEY,
    TINY_CROSSCHECK_KEY,
)
from mlperf_power_dag.buildstate import FINGERPRINT_KEY
from mlperf_power_dag.defs.automation import DOWNSTREAM
from mlperf_power_dag.defs.fingerprint import current_fingerprint
from mlperf_power_dag.defs.freshness import freshness_states
from mlperf_power_dag.defs.known_rounds import ROUNDS_IN, rounds_input
from mlperf_power_dag.defs.resources import MlperfHome
from mlperf_power_dag.rounds.catalog import SUITES


@dg.asset(
    name=REPORT_KEY,
    group_name="report",
    deps=[*FIGURE_SUITES, CROSSCHECK_KEY, TINY_CROSSCHECK_KEY, *REPORT_TABLES],
    ins={ROUNDS_KEY: ROUNDS_IN},
    kinds={"html"},
    description=(
        "Static site under $MLPERF_POWER_HOME/report: index.html with every figure (each point "
        "linked to its result), data.html with counts, problems and the cross-checks."
    ),
    automation_condition=DOWNSTREAM,
)
def report_site(
    context: dg.AssetExecutionContext, rounds: pd.DataFrame | None, mlperf_home: MlperfHome
) -> dg.MaterializeResult:
    fingerprint = current_fingerprint(REPORT_TABLES, home=mlperf_home)
    root = mlperf_home.root()
    known = rounds_input(rounds, mlperf_home)
    index = report.build_report(
        mlperf_home.report_dir(),
        mlperf_home.figures_dir(),
        mlperf_home.dataset_dir(),
        link_base=mlperf_home.links(),
        known_rounds={s: known.loc[known["suite"] == s, "version"].tolist() for s in SUITES},
        freshness=freshness_states(context.instance, assets=list(FIGURE_SUITES), home=root),
    )
    context.log.info(f"report: {index}")
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(index)),
            FINGERPRINT_KEY: fingerprint,
        }
    )
