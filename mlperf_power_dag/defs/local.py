"""The comparison of local submission trees with the published inference results."""

import dagster as dg
import pandas as pd

from mlperf_power_dag import local, metrics
from mlperf_power_dag.compare import COLUMNS, compare_local
from mlperf_power_dag.defs.automation import DOWNSTREAM
from mlperf_power_dag.defs.io import WITH_LOCAL_KEY
from mlperf_power_dag.defs.resources import MlperfHome
from mlperf_power_dag.figures.common import save
from mlperf_power_dag.figures.local_compare import build_local_compare, render_local_compare

LOCAL_COMPARISON = "local_comparison"


def figure_key(name: str) -> str:
    return f"compare-{name}"


@dg.asset(
    name=LOCAL_COMPARISON,
    group_name="local",
    ins={"inference_results": dg.AssetIn(metadata={WITH_LOCAL_KEY: True})},
    io_manager_key="local_io_manager",
    kinds={"parquet", "pandas"},
    automation_condition=DOWNSTREAM,
    description=(
        "For each result of a local submission tree (mlperf-power add-local): its rank and "
        "percentile in energy efficiency among the published results of the same benchmark, "
        "scenario, category and division (latest round, all rounds), the best one it beats and "
        "the one it trails, with ratios; one figure per submission under local/figures."
    ),
)
def local_comparison(
    context: dg.AssetExecutionContext, mlperf_home: MlperfHome, inference_results: pd.DataFrame
) -> pd.DataFrame:
    official = inference_results["official"].astype(bool)
    published, mine = inference_results.loc[official], inference_results.loc[~official]
    order = metrics.sort_rounds(published[["round"]].drop_duplicates())["round"].tolist()
    parts = []
    for key, rows in mine.groupby("round", sort=True):
        name = str(key).removeprefix(local.PREFIX)
        table = compare_local(rows, published, order, name)
        parts.append(table)
        data = build_local_compare(rows, published, order, name)
        out = mlperf_home.local_dir() / "figures"
        title = f"{name} among published results"
        paths = save(
            render_local_compare(data),
            data,
            out,
            figure_key(name),
            title=title,
            link_base=mlperf_home.links(),
        )
        context.log.info(f"{key}: {len(table) // 2} results compared; figure {paths['png']}")
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=COLUMNS)
    context.add_output_metadata(
        {"dagster/row_count": len(frame), "submissions": ", ".join(sorted(set(frame["local"])))}
    )
    return frame
