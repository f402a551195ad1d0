"""Fetch one round's files and read them into tables (the work behind the round assets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from mlperf_power_dag import settings
from mlperf_power_dag.rounds import download
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.rounds.download import FetchError, FetchResult
from mlperf_power_dag.rounds.sources import source_format
from mlperf_power_dag.tables import RoundTable

Log = Callable[[str], None]


class EmptyRoundError(RuntimeError):
    """A round's files yielded no results at all (a changed layout, an empty repository)."""


def round_checkout_dir(rnd: Round) -> Path:
    fmt = source_format(rnd.suite, rnd.source)
    return download.checkout_dir(
        settings.cache_dir(), rnd.owner, rnd.repo_name, fmt.patterns, rnd.ref
    )


def fetch_round(rnd: Round, log: Log | None = None) -> FetchResult:
    """Fetch (or confirm the cache of) the files of `rnd` its reader needs."""
    fmt = source_format(rnd.suite, rnd.source)
    url = download.repo_url(settings.git_base(), rnd.owner, rnd.repo_name)
    return download.fetch(url, rnd.ref, fmt.patterns, round_checkout_dir(rnd), log=log)


def cached_checkout(rnd: Round) -> tuple[Path, str]:
    """(checkout folder, commit) of a round fetched before; FetchError if it never was."""
    dest = round_checkout_dir(rnd)
    stamp = dest / download.STAMP
    if not stamp.exists():
        raise FetchError(
            f"{rnd.suite} {rnd.version}: no checkout in {dest}; materialize the raw asset first"
        )
    return dest, json.loads(stamp.read_text())["commit"]


def read_round(rnd: Round, log: Log | None = None) -> RoundTable:
    """Read a fetched round into its validated table and problems."""
    root, commit = cached_checkout(rnd)
    fmt = source_format(rnd.suite, rnd.source)
    return fmt.read(root, rnd.version, rnd.slug, commit, log=log)
