"""The pipeline's runtime state as Dagster resources: where its data lives, where git fetches."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import dagster as dg

from mlperf_power_dag import settings, transient
from mlperf_power_dag.rounds import download, load
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.rounds.download import FetchError, FetchResult
from mlperf_power_dag.rounds.sources import SourceFormat

Log = Callable[[str], None]


class MlperfHome(dg.ConfigurableResource):
    """The folder of the runtime data (checkouts, figures, report, warehouse, discovered rounds),
    the dataset's base path (a folder or an fsspec URL) and the base URL of result links."""

    path: str = settings.DEFAULT_HOME
    dataset: str = ""  # empty: <path>/dataset
    link_base: str = settings.DEFAULT_LINK_BASE

    def root(self) -> Path:
        """The home folder, absolute."""
        return Path(self.path).absolute()

    def cache_dir(self) -> Path:
        """Sparse checkouts of the rounds and reference tables, one folder per commit set."""
        return self.root() / "cache"

    def figures_dir(self) -> Path:
        return self.root() / "figures"

    def report_dir(self) -> Path:
        return self.root() / "report"

    def local_dir(self) -> Path:
        """Tables and figures of local submission trees, apart from the published dataset."""
        return self.root() / "local"

    def warehouse_path(self) -> Path:
        return self.root() / "warehouse.duckdb"

    def rounds_file(self) -> Path:
        """The rounds found by discovery (`rounds.json`)."""
        return self.root() / "rounds.json"

    def dataset_dir(self) -> str:
        """Base path of the Parquet dataset."""
        return self.dataset or str(self.root() / "dataset")

    def local_dataset_dir(self) -> Path | None:
        """The dataset folder when it is on this machine (None for object storage)."""
        return settings.local_path(self.dataset_dir())

    def links(self) -> str:
        """Base URL of the links to result folders, without a trailing slash."""
        return self.link_base.rstrip("/")


class GitSource(dg.ConfigurableResource):
    """Where MLCommons repositories are fetched from (`<base>/<owner>/<repo>.git`; a local mirror
    as ``file:///...``), how long one git command may take, and how often a fetch that failed
    on the network (DNS, connection, timeout, HTTP 5xx) is retried within the same run.
    `fetch_round` is the one way the assets fetch a round or a published table."""

    base: str = settings.DEFAULT_GIT_BASE
    timeout_s: int = download.GIT_TIMEOUT_S
    retries: int = 0  # `MLPERF_POWER_FETCH_RETRIES`; deploy/ sets 3
    retry_wait_s: int = transient.RETRY_WAIT_S

    def base_url(self) -> str:
        return self.base.rstrip("/")

    def repo_url(self, owner: str, repo: str) -> str:
        """The URL of one repository."""
        return download.repo_url(self.base_url(), owner, repo)

    def fetch_round(
        self,
        rnd: Round,
        cache: Path | None = None,
        log: Log | None = None,
        *,
        fmt: SourceFormat | None = None,
        patterns: Sequence[str] | None = None,
        warn: Log | None = None,
    ) -> FetchResult:
        """Fetch (or confirm the cache of) the files of `rnd` (`patterns`, default those of its
        format `fmt`) from this source into `cache`, each git command within `timeout_s`.

        A fetch that failed on the network is tried again, up to `retries` times `retry_wait_s`
        apart, each retry said to `warn` (default `log`); any other FetchError, or the last
        one, is raised.
        """
        tried = 0
        while True:
            try:
                return load.fetch_round(
                    rnd,
                    log=log,
                    cache=cache,
                    git_base=self.base_url(),
                    timeout_s=self.timeout_s,
                    fmt=fmt,
                    patterns=patterns,
                )
            except FetchError as e:
                if tried >= self.retries or not transient.is_transient(str(e)):
                    raise
                tried += 1
                (warn or log or _quiet)(
                    f"{rnd.suite} {rnd.version} ({rnd.slug}@{rnd.ref}): failed on the network, "
                    f"retry {tried} of {self.retries} in {self.retry_wait_s} s: {e}"
                )
                time.sleep(self.retry_wait_s)


def _quiet(_message: str) -> None:
    pass


R = TypeVar("R", bound=dg.ConfigurableResource)


def resolved(resource: R) -> R:
    """`resource` with every `dg.EnvVar` field replaced by the variable's value now (for code
    that runs outside a Dagster run, such as a sensor built around the resource)."""
    values = {}
    for name in type(resource).model_fields:
        value = getattr(resource, name)
        if hasattr(value, "env_var_name"):  # dg.EnvVar, or the int one of dg.EnvVar.int
            default = type(resource).model_fields[name].default
            got = value.get_value(default)
            value = default if got is None else got  # the int kind gives None for a 0 default
        values[name] = value
    return type(resource)(**values)


def env_resources() -> dict[str, dg.ConfigurableResource]:
    """`mlperf_home` and `git` configured from the environment: each variable that is set
    becomes a `dg.EnvVar` (read when a run starts), the others take their defaults."""
    return {
        "mlperf_home": MlperfHome(
            path=settings.resource_value(settings.HOME_VAR, settings.DEFAULT_HOME),
            dataset=settings.resource_value(settings.DATASET_VAR, ""),
            link_base=settings.resource_value(settings.LINK_BASE_VAR, settings.DEFAULT_LINK_BASE),
        ),
        "git": GitSource(
            base=settings.resource_value(settings.GIT_BASE_VAR, settings.DEFAULT_GIT_BASE),
            retries=settings.resource_value(settings.FETCH_RETRIES_VAR, 0),
        ),
    }


def home_from_env() -> MlperfHome:
    """The home as the environment describes it now (for code outside a Dagster run)."""
    return MlperfHome(
        path=str(settings.home()), dataset=settings.dataset_dir(), link_base=settings.link_base()
    )


def git_from_env() -> GitSource:
    """The git source as the environment describes it now (for code outside a Dagster run)."""
    return GitSource(base=settings.git_base())
