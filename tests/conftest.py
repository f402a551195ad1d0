"""Shared fixtures: the offline mirror of the MLCommons repositories and sparse checkouts of it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlperf_power_dag import cli
from mlperf_power_dag.rounds import catalog, registry
from mlperf_power_dag.rounds.catalog import Round

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


@pytest.fixture
def github(tmp_path: Path, mirror_root: Path) -> Path:
    """A GitHub-like folder (`<tmp>/gh`, a git base as `file://...`) whose `mlcommons/` links
    every repository of the mirror: the catalog's rounds as published. Tests publish rounds
    the catalog does not know into it with `publish`; the mirror itself is never written."""
    gh = tmp_path / "gh" / "mlcommons"
    gh.mkdir(parents=True)
    for repo in sorted((mirror_root / "mlcommons").glob("*.git")):
        (gh / repo.name).symlink_to(repo)
    return gh.parent


@pytest.fixture
def publish(github: Path, mirror_root: Path) -> Callable[[str], str]:
    """`publish(suite)`: MLCommons publishes the round after the catalog's newest one of `suite`
    in `github` (a bare clone of the newest round's mirror repository under the next version's
    name). Returns that version."""

    def _publish(suite: str) -> str:
        newest = catalog.rounds(suite)[-1]
        major, minor = newest.sort_key[:2]
        version = f"v{major}.{minor + 1}"  # a round the catalog does not know
        subprocess.run(
            ["git", "clone", "-q", "--bare", "--no-hardlinks",
             str(mirror_root / newest.owner / f"{newest.repo_name}.git"),
             str(github / newest.owner / f"{suite}_results_{version}.git")],
            check=True, capture_output=True, env=_GIT_ENV,
        )  # fmt: skip
        return version

    return _publish


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


READER = """
import sys, time, duckdb
db, stop = sys.argv[1], sys.argv[2]
ok = locked = 0
counts = []
import os
while not os.path.exists(stop):
    try:
        con = duckdb.connect(db, read_only=True)
    except Exception as e:  # no file yet, or a view being replaced this instant
        locked += 1
        time.sleep(0.2)
        continue
    try:
        n = con.sql(
            "select count(*) from information_schema.tables where table_schema = 'mlperf'"
        ).fetchall()[0][0]
        if n:
            counts.append(con.sql("select count(*) from mlperf.inference_results").fetchall()[0][0])
        ok += 1
    finally:
        con.close()
    time.sleep(0.2)
print(ok, locked, max(counts or [0]))
"""


@pytest.fixture(scope="session")
def built(tmp_path_factory, mirror_url):
    """One home built the way a user would, step by step, with `mlperf-power build`:

    1. `--suite tiny` on a fresh home; 2. `--suite training` (inference never built);
    3. `--suite inference` (tiny and training unchanged), while another process queries the
    warehouse read-only; 4. every suite, with one unreachable inference round added (it must
    fail alone; the rest is unchanged); 5. the same again (warm).

    Yields the home, the exit code of step 4, the log messages of steps 3 and 4, each
    single-suite step's code and log, the warm step, and what the reader saw.
    """
    home = tmp_path_factory.mktemp("home")
    mp = pytest.MonkeyPatch()
    mp.setenv("MLPERF_POWER_HOME", str(home))
    mp.setenv("MLPERF_POWER_GIT_BASE", mirror_url)
    mp.delenv("DAGSTER_HOME", raising=False)
    mp.delenv("MLPERF_POWER_DATASET", raising=False)
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(record)

    def step(*args: str) -> tuple[int, list[str]]:
        start = len(records)
        code = cli.main(["build", "--no-discover", *args])
        return code, [r.getMessage() for r in records[start:]]

    handler = Keep()
    logging.getLogger("mlperf-power").addHandler(handler)
    stop = home / "reader.stop"
    try:
        tiny = step("--suite", "tiny")
        training = step("--suite", "training")
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(home / "warehouse.duckdb"), str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            inference = step("--suite", "inference")
        finally:
            stop.touch()
            out, err = reader.communicate(timeout=120)
        # A round whose repository does not exist: it must fail alone.
        registry.record([Round("inference", "v0.6", None, repo="inference_results_v0.6")])
        code, log = step()
        warm = step()
    finally:
        logging.getLogger("mlperf-power").removeHandler(handler)
        mp.undo()  # later tests see the environment they started with
    ok, locked, most = (int(x) for x in out.split()) if out.strip() else (0, 0, 0)
    return {
        "home": home,
        "code": code,
        "log": inference[1] + log,
        "suite_alone": {"tiny": tiny, "training": training, "inference": inference},
        "warm": warm,
        "reader": {"ok": ok, "locked": locked, "most_rows": most, "stderr": err},
    }


MIRROR_FIXTURES = {"mirror_root", "mirror_url", "checkout", "built"}


def pytest_collection_modifyitems(config, items):
    """Tests that read the offline mirror (directly or through a fixture) are marked `mirror`:
    `pytest -m "not mirror"` runs the fast tier alone."""
    for item in items:
        if MIRROR_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.mirror)


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--fuzz-long`: the fuzz suite (tests/fuzz) runs its long profile, >= 1,000 cases per
    parser, instead of the quick default."""
    parser.addoption(
        "--fuzz-long",
        action="store_true",
        default=False,
        help="run tests/fuzz with at least 1,000 cases per parser (default: a quick profile)",
    )
