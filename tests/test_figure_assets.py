"""Figure assets in Dagster: config variants from the launchpad, and `mlperf-power figure`."""

from __future__ import annotations

import dagster as dg
import pandas as pd

from mlperf_power_dag import cli
from mlperf_power_dag.definitions import make_definitions
from mlperf_power_dag.defs.figures import FIGURES, config_class


def test_every_figure_has_config_with_the_papers_defaults():
    specs = {f.key: f for f in FIGURES}
    assert sorted(specs) == sorted(
        ["fig1", "fig2", "fig5a", "fig5b", "fig5c", "fig6", "fig7", "fig8", "fig9", "fig10",
         "fig11a"]
    )  # fmt: skip
    cfg = config_class(specs["fig5b"])()
    assert cfg.division == "closed" and cfg.category == "edge"
    assert cfg.benchmarks == ["resnet50", "retinanet", "bert-99", "rnnt"]
    assert config_class(specs["fig6"])().benchmark == "llama2_70b_lora"


def test_variant_from_config_and_figure_command(tmp_path, monkeypatch, mirror_url):
    home = tmp_path / "home"
    (home / "dagster").mkdir(parents=True)
    monkeypatch.setenv("MLPERF_POWER_HOME", str(home))
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", mirror_url)
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    defs = make_definitions()
    instance = dg.DagsterInstance.get()
    instance.add_dynamic_partitions("inference_rounds", ["v1.0", "v1.1"])
    for v in ("v1.0", "v1.1"):
        job = defs.resolve_job_def("inference_round")
        assert job.execute_in_process(partition_key=v, instance=instance).success
    # a variant, as from the launchpad: one benchmark only
    job = defs.resolve_job_def("downstream").get_subset(asset_selection={dg.AssetKey("fig5b")})
    result = job.execute_in_process(
        instance=instance,
        run_config={"ops": {"fig5b": {"config": {"benchmarks": ["resnet50"]}}}},
    )
    assert result.success
    variant = pd.read_csv(home / "figures" / "fig5b.csv")
    assert set(variant["benchmark"]) == {"resnet50"} and set(variant["x"]) == {"v1.0", "v1.1"}
    # the command line rebuilds just the figure asked for, from the existing tables
    assert cli.main(["figure", "fig5b"]) == 0
    default = pd.read_csv(home / "figures" / "fig5b.csv")
    assert set(default["benchmark"]) > {"resnet50"}
    assert sorted(p.name for p in (home / "figures").glob("*.png")) == ["fig5b.png"]
    assert cli.main(["figure", "fig99"]) == 2
