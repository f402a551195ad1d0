"""Fetch one round's files and read them into tables (the work behind the round assets)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

from mlperf_power_dag import settings
from mlperf_power_dag.rounds import download
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.rounds.download import FetchError, FetchResult
from mlperf_power_dag.rounds.sources import SourceFormat, source_format
from mlperf_power_dag.tables import RoundTable

Log = Callable[[str], None]


class EmptyRoundError(RuntimeError):
    """A round's files yielded no results at all (a changed layout, an empty repository)."""


def round_checkout_dir(
    rnd: Round, cache: Path | None = None, fmt: SourceFormat | None = None
) -> Path:
    """The cache folder of a round's files (`cache` default: `$MLPERF_POWER_HOME/cache`;
    `fmt` default: the format the round's suite declares for its source kind)."""
    fmt = fmt or source_format(rnd.suite, rnd.source)
    return download.checkout_dir(
        cache or settings.cache_dir(), rnd.owner, rnd.repo_name, fmt.patterns, rnd.ref
    )


def fetch_round(
    rnd: Round,
    log: Log | None = None,
    *,
    cache: Path | None = None,
    git_base: str | None = None,
    timeout_s: int = download.GIT_TIMEOUT_S,
    fmt: SourceFormat | None = None,
    patterns: Sequence[str] | None = None,
) -> FetchResult:
    """Fetch (or confirm the cache of) the files of `rnd` its reader needs (`patterns`, default
    those of its format `fmt`), from repositories under `git_base` (default
    `$MLPERF_POWER_GIT_BASE`)."""
    if patterns is None:
        patterns = (fmt or source_format(rnd.suite, rnd.source)).patterns
    patterns = tuple(patterns)
    url = download.repo_url(git_base or settings.git_base(), rnd.owner, rnd.repo_name)
    dest = download.checkout_dir(
        cache or settings.cache_dir(), rnd.owner, rnd.repo_name, patterns, rnd.ref
    )
    return download.fetch(url, rnd.ref, patterns, dest, log=log, timeout_s=timeout_s)


def cached_checkout(
    rnd: Round, cache: Path | None = None, fmt: SourceFormat | None = None
) -> tuple[Path, str]:
    """(checkout folder, commit) of a round fetched before; FetchError if it never was."""
    dest = round_checkout_dir(rnd, cache, fmt)
    return checkout_commit(rnd, dest)


def checkout_commit(rnd: Round, dest: Path) -> tuple[Path, str]:
    """(dest, commit) of a complete checkout at `dest`; FetchError if there is none."""
    stamp = dest / download.STAMP
    if not stamp.exists():
        raise FetchError(
            f"{rnd.suite} {rnd.version}: no checkout in {dest}; materialize the raw asset first"
        )
    return dest, json.loads(stamp.read_text())["commit"]


def read_round(rnd: Round, log: Log | None = None, cache: Path | None = None) -> RoundTable:
    """Read a fetched round into its validated table and problems."""
    root, commit = cached_checkout(rnd, cache)
    return read_checkout(rnd, root, commit, log=log)


def read_checkout(
    rnd: Round,
    root: Path,
    commit: str,
    log: Log | None = None,
    fmt: SourceFormat | None = None,
) -> RoundTable:
    """Read the checkout of `rnd` at `root` (fetched at `commit`) into its table and problems."""
    fmt = fmt or source_format(rnd.suite, rnd.source)
    return fmt.read(root, rnd.version, rnd.slug, commit, log=log)
