"""Shared fixtures: the offline mirror of the MLCommons repositories and sparse checkouts of it."""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from mlperf_power_dag import cli, registry
from mlperf_power_dag.catalog import Round

REPO_ROOT = Path(__file__).resolve().parents[1]


def _mirror_root() -> Path:
    env = os.environ.get("MLPERF_POWER_MIRROR")
    root = Path(env) if env else REPO_ROOT.parent / "shared" / "github-mirror"
    if not (root / "mlcommons").is_dir():
        raise RuntimeError(
            f"offline mirror not found at {root}; set MLPERF_POWER_MIRROR to the folder "
            "that holds mlcommons/<repo>.git"
        )
    return root.resolve()


@pytest.fixture(scope="session")
def mirror_root() -> Path:
    """Folder holding `mlcommons/<repo>.git` bare mirrors (read-only)."""
    return _mirror_root()


@pytest.fixture(scope="session")
def mirror_url(mirror_root: Path) -> str:
    """The mirror as a git base URL (`file://...`), the stand-in for https://github.com."""
    return "file://" + str(mirror_root)


_GIT_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}


@pytest.fixture(scope="session")
def checkout(tmp_path_factory: pytest.TempPathFactory, mirror_root: Path) -> Callable[..., Path]:
    """`checkout(repo, patterns, ref="main")` -> a sparse working tree of a mirror repo.

    Cached per (repo, patterns, ref) for the whole test session.
    """
    cache: dict[tuple, Path] = {}

    def _checkout(repo: str, patterns: list[str] | tuple[str, ...], ref: str = "main") -> Path:
        key = (repo, tuple(patterns), ref)
        if key in cache:
            return cache[key]
        dest = tmp_path_factory.mktemp(repo.replace("/", "_"))
        url = f"file://{mirror_root}/mlcommons/{repo}.git"
        run = lambda *a: subprocess.run(  # noqa: E731
            ["git", *a], check=True, capture_output=True, env=_GIT_ENV
        )
        run("clone", "-q", "--filter=blob:none", "--no-checkout", "--sparse", url, str(dest))
        run("-C", str(dest), "sparse-checkout", "set", "--no-cone", *patterns)
        if ref != "main":
            run("-C", str(dest), "fetch", "-q", "origin", f"{ref}:refs/remotes/origin/extra")
            run("-C", str(dest), "checkout", "-q", "refs/remotes/origin/extra")
        else:
            run("-C", str(dest), "checkout", "-q", "main")
        cache[key] = dest
        return dest

    return _checkout


@pytest.fixture(scope="session")
def built(tmp_path_factory, mirror_url):
    """Every catalog round built once with `mlperf-power build`, plus one unreachable round.

    Yields the home folder, the exit code and the CLI's log messages.
    """
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLPERF_POWER_HOME", str(home))
    mp.setenv("MLPERF_POWER_GIT_BASE", mirror_url)
    mp.delenv("DAGSTER_HOME", raising=False)
    # A round whose repository does not exist: it must fail alone.
    registry.record([Round("inference", "v0.6", None, repo="inference_results_v0.6")])
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    handler = Keep()
    logging.getLogger("mlperf-power").addHandler(handler)
    try:
        code = cli.main(["build", "--no-discover"])
    finally:
        logging.getLogger("mlperf-power").removeHandler(handler)
        mp.undo()  # later tests see the environment they started with
    return {"home": home, "code": code, "log": [r.getMessage() for r in records]}


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--fuzz-long`: the fuzz suite (tests/fuzz) runs its long profile, >= 1,000 cases per
    parser, instead of the quick default."""
    parser.addoption(
        "--fuzz-long",
        action="store_true",
        default=False,
        help="run tests/fuzz with at least 1,000 cases per parser (default: a quick profile)",
    )
