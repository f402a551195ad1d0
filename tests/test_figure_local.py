"""`include_local` draws local submission trees beside the published results, apart from the
published figure (injected resources, synthetic tables, no mirror)."""

from __future__ import annotations

import dagster as dg
import pandas as pd
from test_metrics import frame, row
from upath import UPath

from mlperf_power_dag import dataset, local
from mlperf_power_dag.definitions import DOWNSTREAM_JOB, make_definitions
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.schemas import InferenceResults, LocalInferenceResults


def _fig5a(defs, instance, config=None) -> None:
    job = defs.resolve_job_def(DOWNSTREAM_JOB).get_subset(asset_selection={dg.AssetKey("fig5a")})
    run_config = {"ops": {"fig5a": {"config": config}}} if config else None
    assert job.execute_in_process(instance=instance, run_config=run_config).success


def test_local_results_are_drawn_only_on_request_and_apart(tmp_path):
    home = MlperfHome(path=str(tmp_path))
    defs = make_definitions(resources={"mlperf_home": home, "git": GitSource()})
    published = frame(
        [
            row("v4.0", "resnet50", sps=1000, power=100, system="a"),  # 10 samples/J
            row("v4.1", "resnet50", sps=1500, power=100, system="b"),  # 15
        ]
    )
    for v in ("v4.0", "v4.1"):
        part = published[published["round"] == v]
        dataset.write_partition(UPath(home.dataset_dir()), "inference_results", v, part,
                                InferenceResults)  # fmt: skip
    mine = frame([row("v4.1", "resnet50", sps=3000, power=100, system="lab1")])  # 30
    mine = mine.assign(round="local-lab", source_repo="local/lab", official=False)
    dataset.write_partition(UPath(home.local_dir()), "inference_results", "local-lab", mine,
                            LocalInferenceResults)  # fmt: skip
    local.save(tmp_path, {"lab": local.LocalSubmission("lab", "inference", str(tmp_path), "v4.1")})
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("inference_rounds", ["v4.0", "v4.1", "local-lab"])
        _fig5a(defs, instance)
        plain = (tmp_path / "figures" / "fig5a.csv").read_text()
        assert "lab" not in plain
        first = pd.read_csv(tmp_path / "figures" / "fig5a.csv")
        assert first["y"].round(6).tolist() == [1.0, 1.5]  # best so far over v4.0
        _fig5a(defs, instance, {"include_local": True})
        assert (tmp_path / "figures" / "fig5a.csv").read_text() == plain  # untouched
        shown = pd.read_csv(tmp_path / "local" / "figures" / "fig5a.csv")
        assert shown["y"].round(6).tolist() == [1.0, 3.0]
        assert shown["system"].tolist() == ["a", "lab1 [local-lab]"]
        assert shown["url"].isna().tolist() == [False, True]  # a local result has no link
