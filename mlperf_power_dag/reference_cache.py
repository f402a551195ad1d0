"""Published reference tables (CMX, summary_results.json, Tiny summaries) fetched and read.

The cross-checks compare the rounds read from the submission trees with MLCommons' published
tables. Reading the inference ones (hundreds of CMX JSON files) costs seconds on every run
although they change only when their repository does: the table read for one (round, source,
commit) by one version of the reader code is kept as Parquet under the cache folder and reused.
The Tiny ones (a few hundred small rows) are read again whenever they are asked for.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

import pandas as pd

from mlperf_power_dag import settings, suites, tiny_crosscheck, versions
from mlperf_power_dag.rounds import catalog, download, load
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.schemas import conform

Log = Callable[[str], None]
# fetch(rnd, cache, log, patterns=...) -> FetchResult: `load.fetch_round`, or the assets' one
# with its git source's base, timeout and retries (`GitSource.fetch_round`)
Fetch = Callable[..., download.FetchResult]


def cache_path(rnd: Round, commit: str, cache: Path | None = None) -> Path:
    """Where the table of `rnd` read at `commit` by the current reader code is kept."""
    name = f"{rnd.suite}-{rnd.version}-{rnd.source}-{commit[:16]}-{versions.tidy_code_version()}"
    return (cache or settings.cache_dir()) / "tables" / f"{name}.parquet"


def reference_results(
    rnd: Round,
    log: Log | None = None,
    cache: Path | None = None,
    fetch: Fetch | None = None,
) -> pd.DataFrame:
    """The validated results of a published reference table, fetched (or confirmed) by `fetch`
    (default `load.fetch_round`: `$MLPERF_POWER_GIT_BASE`, no retry) and read, or taken from
    the cache when this commit was read by this code before."""
    fetched = (fetch or load.fetch_round)(rnd, cache=cache, log=log)
    path = cache_path(rnd, fetched.commit, cache)
    model = suites.get(rnd.suite).results
    if path.exists():
        try:
            return conform(model, pd.read_parquet(path))
        except Exception as e:  # a damaged cache file: read the source again
            (log or (lambda _m: None))(f"{path.name}: unreadable cache ({e}); reading again")
    results = load.read_round(rnd, log=log, cache=cache).results
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    results.to_parquet(tmp, index=False)
    os.replace(tmp, path)
    return results


def reference_label(rnd: Round) -> str:
    """How a cross-check names a published table: `<source>:<owner>/<repo>@<ref>`."""
    return f"{rnd.source}:{rnd.slug}@{rnd.ref}"


def inference_references(version: str) -> list[Round]:
    """The published tables one inference tree round is checked against: CMX, and its
    summary_results.json where one is published."""
    cmx = Round("inference", version, None, source=catalog.CMX, repo=catalog.CMX_REPO,
                ref=catalog.CMX_REF)  # fmt: skip
    out = [cmx]
    if version in catalog.SUMMARY_REFERENCES:
        out.append(catalog.SUMMARY_REFERENCES[version])
    return out


def tiny_references(rounds: Iterable[str]) -> list[tuple[Round, tuple[str, ...]]]:
    """The published Tiny tables covering some of `rounds`, each with the files it needs: the
    CMX tiny results, and summary.csv of the rounds that publish one."""
    want = set(rounds)
    cmx = Round("tiny", "all", None, source=catalog.CMX, repo=catalog.CMX_REPO,
                ref=catalog.CMX_REF)  # fmt: skip
    out = [(cmx, tiny_crosscheck.CMX_PATTERNS)]
    for version in sorted(want & set(tiny_crosscheck.SUMMARY_ROUNDS), key=catalog.version_tuple):
        rnd = Round("tiny", version, None, source=tiny_crosscheck.SUMMARY_SOURCE)
        out.append((rnd, tiny_crosscheck.SUMMARY_PATTERNS))
    return out


def tiny_reference_results(
    rounds: Iterable[str],
    log: Log | None = None,
    cache: Path | None = None,
    fetch: Fetch | None = None,
    warn: Log | None = None,
) -> pd.DataFrame:
    """Comparable rows (`tiny_crosscheck.COLUMNS`) of MLCommons' published Tiny tables for
    `rounds`, fetched by `fetch` (as in `reference_results`), with the `reference` they come
    from (`reference_label`). A table that cannot be fetched is left out and named to `warn`."""
    rounds = sorted(set(rounds), key=catalog.version_tuple)
    parts = []
    for rnd, patterns in tiny_references(rounds):
        try:
            root = (fetch or load.fetch_round)(rnd, cache=cache, log=log, patterns=patterns).path
        except download.FetchError as e:
            (warn or log or (lambda _m: None))(
                f"{reference_label(rnd)}: not fetched, left out: {e}"
            )
            continue
        if rnd.source == catalog.CMX:
            table = tiny_crosscheck.read_cmx_tiny(root, rounds)
        else:
            table = tiny_crosscheck.read_summary_csv(
                (root / "summary.csv").read_bytes(), rnd.version
            )
        parts.append(table.assign(reference=reference_label(rnd)))
    if not parts:
        return pd.DataFrame(columns=[*tiny_crosscheck.COLUMNS, "reference"])
    return pd.concat(parts, ignore_index=True)
