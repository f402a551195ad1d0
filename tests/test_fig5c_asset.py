"""The fig5c asset reads the tiny problems table, so include_flagged_runtime=False takes
effect in the pipeline (injected resources, synthetic tables, no mirror)."""

from __future__ import annotations

import dagster as dg
import pandas as pd
from test_fig5c import frame, problems, tiny_row
from upath import UPath

from mlperf_power_dag import dataset
from mlperf_power_dag.definitions import DOWNSTREAM_JOB, make_definitions
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.schemas import Problems, TinyResults


def _build_fig5c(defs, instance, config=None) -> None:
    job = defs.resolve_job_def(DOWNSTREAM_JOB).get_subset(asset_selection={dg.AssetKey("fig5c")})
    run_config = {"ops": {"fig5c": {"config": config}}} if config else None
    assert job.execute_in_process(instance=instance, run_config=run_config).success


def test_fig5c_drops_flagged_runs_on_request(tmp_path):
    home = MlperfHome(path=str(tmp_path))
    defs = make_definitions(resources={"mlperf_home": home, "git": GitSource()})
    base = UPath(home.dataset_dir())
    tiny = frame(
        [
            tiny_row("v0.5", "ic", 1000.0, system="ref"),
            tiny_row("v0.7", "ic", 500.0, system="next"),
        ]
    )
    flagged = problems(("v0.5", "closed/acme/results/ref/ic/energy/results.txt"))
    for v in ("v0.5", "v0.7"):
        rows = tiny[tiny["round"] == v]
        dataset.write_partition(base, "tiny_results", v, rows, TinyResults)
        dataset.write_partition(base, "tiny_problems", v, flagged[flagged["round"] == v], Problems)
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("tiny_rounds", ["v0.5", "v0.7"])
        _build_fig5c(defs, instance)
        kept = pd.read_csv(tmp_path / "figures" / "fig5c.csv")
        assert kept["x"].tolist() == ["v0.5", "v0.7"]
        assert kept["runtime_flagged"].tolist() == [True, False]
        _build_fig5c(defs, instance, {"include_flagged_runtime": False})
        strict = pd.read_csv(tmp_path / "figures" / "fig5c.csv")
        assert strict["x"].tolist() == ["v0.7"]
