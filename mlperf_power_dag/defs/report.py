"""The report asset: the static site with every figure and the state of the dataset."""

import dagster as dg

from mlperf_power_dag import registry, report, settings
from mlperf_power_dag.asset_inputs import CROSSCHECK_KEY, FIGURE_SUITES, REPORT_KEY, REPORT_TABLES
from mlperf_power_dag.buildstate import FINGERPRINT_KEY
from mlperf_power_dag.catalog import SUITES
from mlperf_power_dag.defs.automation import DOWNSTREAM
from mlperf_power_dag.defs.fingerprint import current_fingerprint
from mlperf_power_dag.defs.freshness import freshness_states


@dg.asset(
    name=REPORT_KEY,
    group_name="report",
    deps=[*FIGURE_SUITES, CROSSCHECK_KEY, *REPORT_TABLES],
    kinds={"html"},
    description=(
        "Static site under $MLPERF_POWER_HOME/report: index.html with every figure (each point "
        "linked to its result), data.html with counts, problems and the cross-check."
    ),
    automation_condition=DOWNSTREAM,
)
def report_site(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    fingerprint = current_fingerprint(REPORT_TABLES)
    index = report.build_report(
        settings.report_dir(),
        settings.figures_dir(),
        settings.dataset_dir(),
        link_base=settings.link_base(),
        known_rounds={s: [r.version for r in registry.all_rounds(s)] for s in SUITES},
        freshness=freshness_states(context.instance, assets=list(FIGURE_SUITES)),
    )
    context.log.info(f"report: {index}")
    return dg.MaterializeResult(
        metadata={
            "index": dg.MetadataValue.path(str(index)),
            FINGERPRINT_KEY: fingerprint,
        }
    )
