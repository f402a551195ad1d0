"""Adding a suite is one spec: a toy suite registered from a fixture gets its partitions, round
assets and checks, job, schedule and CLI choice, and one of its rounds builds end to end from a
small git repository."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import pandera.pandas as pa
import pytest
from pandera.typing import Series
from upath import UPath

from mlperf_power_dag import cli, dataset
from mlperf_power_dag.definitions import make_definitions
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.rounds.catalog import TREE
from mlperf_power_dag.rounds.sources import SourceFormat, source_format
from mlperf_power_dag.schemas import Problems
from mlperf_power_dag.suites import SPECS, SuiteSpec
from mlperf_power_dag.tables import ProblemLog, RoundTable, finish

FIXTURE = Path(__file__).parent / "fixtures" / "toy" / "round_v1.0"
GIT = [
    "git",
    "-c",
    "user.name=toy",
    "-c",
    "user.email=toy@example.org",
    "-c",
    "init.defaultBranch=main",
]


class ToyResults(pa.DataFrameModel):
    """One row per toy result."""

    round: Series[str] = pa.Field(str_matches=r"^v\d+\.\d+$")
    system: Series[str]
    benchmark: Series[str]
    joules: Series[float] = pa.Field(gt=0)
    source_repo: Series[str]
    source_path: Series[str]
    source_commit: Series[str]

    class Config:
        strict = True
        ordered = True
        coerce = True
        unique = ["round", "system", "benchmark"]


def read_toy_round(root: Path, version: str, source_repo: str, commit: str, log=None):
    """The toy reader: one JSON object per file under results/; unreadable files skipped."""
    problems = ProblemLog("toy", version)
    rows = []
    for path in sorted((root / "results").glob("*.json")):
        rel = str(path.relative_to(root))
        try:
            data = json.loads(path.read_text())
        except ValueError as e:
            problems.skip(rel, "bad_json", str(e))
            continue
        rows.append(
            {
                "round": version,
                **data,
                "source_repo": source_repo,
                "source_path": rel,
                "source_commit": commit,
            }
        )
    return RoundTable(finish(rows, ToyResults, problems), problems.frame())


def toy_format() -> SourceFormat:
    return SourceFormat(("/results/*.json",), read_toy_round)


TOY = SuiteSpec(name="toy", results=ToyResults, sources={TREE: toy_format}, build_cost=5)


@pytest.fixture
def toy_mirror(tmp_path: Path) -> str:
    """A git base URL holding `mlcommons/toy_results_v1.0.git`, made from the fixture."""
    repo = tmp_path / "mirror" / "mlcommons" / "toy_results_v1.0.git"
    shutil.copytree(FIXTURE, repo)
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "toy round v1.0"]):
        subprocess.run([*GIT, "-C", str(repo), *args], check=True, capture_output=True)
    return "file://" + str(tmp_path / "mirror")


def test_the_spec_generates_partitions_assets_jobs_and_cli_choice():
    defs = make_definitions(
        resources={"mlperf_home": MlperfHome(), "git": GitSource()}, specs=(*SPECS, TOY)
    )
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert {"toy_raw", "toy_results", "toy_problems"} <= keys
    assert {"inference_results", "fig5a", "report"} <= keys  # the real suites are untouched
    assert defs.resolve_assets_def("toy_results").partitions_def == TOY.partitions
    assert TOY.partitions.name == "toy_rounds"
    job = defs.resolve_job_def("toy_round")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "toy_raw",
        "toy_results",
        "toy_problems",
    }
    assert defs.resolve_schedule_def("refresh_toy_rounds")
    checks = {k.name for k in defs.resolve_assets_def("toy_results").check_keys}
    assert {
        "unique_result_keys",
        "provenance_complete",
        "row_count_kept",
        "skipped_share",
    } <= checks
    assert source_format("toy", TREE, specs=[TOY]).read is read_toy_round
    with pytest.raises(ValueError, match="no reader for toy"):
        source_format("toy", TREE)  # not one of the pipeline's own suites
    args = cli.build_parser((*SPECS, TOY)).parse_args(["build", "--suite", "toy"])
    assert args.suite == ["toy"]
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["build", "--suite", "toy"])


def test_a_toy_round_builds_from_its_repository(tmp_path, toy_mirror):
    home = MlperfHome(path=str(tmp_path / "home"))
    defs = make_definitions(
        resources={"mlperf_home": home, "git": GitSource(base=toy_mirror)}, specs=[TOY]
    )
    keys = {k.to_user_string() for k in defs.resolve_all_asset_keys()}
    assert keys == {"toy_raw", "toy_results", "toy_problems"}  # no figure reads toy results
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("toy_rounds", ["v1.0"])
        result = defs.resolve_job_def("toy_round").execute_in_process(
            partition_key="v1.0", instance=instance
        )
        assert result.success
        raw = result.asset_materializations_for_node("toy_raw")[0].metadata
        commit = raw["commit"].value
        assert raw["url"].value.endswith("/mlcommons/toy_results_v1.0.git")
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == {
            "unique_result_keys": True,
            "provenance_complete": True,
            "row_count_kept": True,
            "skipped_share": True,
            "problems_of_round": True,
        }
    # the tables read the checkout the raw asset recorded
    with dg.DagsterInstance.ephemeral() as fresh:
        fresh.add_dynamic_partitions("toy_rounds", ["v1.0"])
        tables_only = defs.resolve_job_def("toy_round").get_subset(
            asset_selection={dg.AssetKey("toy_results"), dg.AssetKey("toy_problems")}
        )
        failed = tables_only.execute_in_process(
            partition_key="v1.0", instance=fresh, raise_on_error=False
        )
        assert not failed.success
        error = next(e for e in failed.all_events if e.is_step_failure).step_failure_data.error
        assert "toy_raw was never materialized" in error.to_string()
    base = UPath(str(tmp_path / "home" / "dataset"))
    results, _ = dataset.read_partitions(base, "toy_results", None, ToyResults)
    assert sorted(results["system"]) == ["alpha-board", "beta-board"]
    assert set(results["source_commit"]) == {commit}
    assert set(results["source_repo"]) == {"mlcommons/toy_results_v1.0"}
    problems, _ = dataset.read_partitions(base, "toy_problems", None, Problems)
    assert problems[["source_path", "kind"]].values.tolist() == [
        ["results/broken.json", "bad_json"]
    ]
