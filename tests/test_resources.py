"""Runtime state as resources: the environment is read in one place, when a run starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagster as dg

from mlperf_power_dag.defs.resources import GitSource, MlperfHome, env_resources, resolved

PACKAGE = Path(__file__).resolve().parents[1] / "mlperf_power_dag"


def test_only_settings_reads_the_environment():
    hits = sorted(
        str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py") if "os.environ" in p.read_text()
    )
    assert hits == ["settings.py"]


def test_importing_the_code_location_builds_nothing(tmp_path):
    code = (
        "import mlperf_power_dag.definitions as d, dagster as dg; "
        "assert not isinstance(d.defs, dg.Definitions); print(type(d.defs()).__name__)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "MLPERF_POWER_HOME": str(tmp_path / "home")},
    )
    assert out.stdout.strip() == "Definitions"
    assert list(tmp_path.iterdir()) == []  # no folder made by importing or loading


def test_env_resources_are_env_vars_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path / "a"))
    monkeypatch.delenv("MLPERF_POWER_DATASET", raising=False)
    monkeypatch.delenv("MLPERF_POWER_GIT_BASE", raising=False)
    res = env_resources()
    assert isinstance(res["mlperf_home"].path, dg.EnvVar)
    assert res["mlperf_home"].dataset == "" and res["git"].base == "https://github.com"
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path / "b"))  # read when used, not before
    home = resolved(res["mlperf_home"])
    assert home.root() == tmp_path / "b"
    assert home.dataset_dir() == str(tmp_path / "b" / "dataset")
    assert home.rounds_file() == tmp_path / "b" / "rounds.json"


def test_resources_are_passed_to_assets(tmp_path):
    seen = {}

    @dg.asset
    def probe(mlperf_home: MlperfHome, git: GitSource) -> None:
        seen["figures"] = mlperf_home.figures_dir()
        seen["url"] = git.repo_url("mlcommons", "tiny_results_v1.0")

    home = MlperfHome(path=str(tmp_path))
    git = GitSource(base="file:///mirror/")
    assert dg.materialize([probe], resources={"mlperf_home": home, "git": git}).success
    assert seen == {
        "figures": tmp_path / "figures",
        "url": "file:///mirror/mlcommons/tiny_results_v1.0.git",
    }
