"""Find MLPerf rounds newer than the known ones by the MLCommons repository naming convention."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from mlperf_power_dag.rounds import download
from mlperf_power_dag.rounds.catalog import SUMMARY, TREE, Round, version_tuple
from mlperf_power_dag.rounds.download import FetchError

MINOR_SPAN = 6  # minors probed past the newest known one (gaps tolerated)
MAJOR_SPAN = 2  # majors probed past the newest known one


@dataclass(frozen=True)
class Probe:
    """What `git ls-remote` said of one candidate repository."""

    version: str
    url: str
    exists: bool
    head: str | None  # commit of the default branch, None if the repository is empty
    error: str | None = None
    branch: str = "main"  # the default branch HEAD points to


def candidates(newest: tuple[int, int]) -> list[str]:
    """Versions after `newest` in a bounded window of later minors and majors."""
    major, minor = newest
    out = [f"v{major}.{m}" for m in range(minor + 1, minor + 1 + MINOR_SPAN)]
    for big in range(major + 1, major + 1 + MAJOR_SPAN):
        out += [f"v{big}.{m}" for m in range(MINOR_SPAN)]
    return out


def probe(url: str, version: str) -> Probe:
    """Does `url` exist, and what does its default branch point to?"""
    try:
        out = download._git(["ls-remote", "--symref", url, "HEAD"], url=url)
    except FetchError as e:
        return Probe(version, url, False, None, str(e))
    head, branch = None, "main"
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name != "HEAD":
            continue
        if sha.startswith("ref: refs/heads/"):
            branch = sha.removeprefix("ref: refs/heads/")
        else:
            head = sha
    return Probe(version, url, True, head, branch=branch)


def describe(suite: str, owner: str, repo: str, probe_: Probe) -> Round:
    """A catalog entry for a found repository: source kind and date from its head commit."""
    source, date = TREE, None
    if probe_.head:
        try:
            names, date = _head_listing(probe_.url, probe_.head)
            if suite == "inference" and "summary_results.json" in names:
                source = SUMMARY
        except FetchError:
            pass  # left as a tree round; the raw asset reports the real error
    return Round(
        suite, probe_.version, date, source=source, owner=owner, repo=repo, ref=probe_.branch
    )


def _head_listing(url: str, commit: str) -> tuple[set[str], dt.date]:
    with tempfile.TemporaryDirectory(prefix="mlperf-probe-") as tmp:
        git = Path(tmp)
        download._git(["init", "-q", "--bare", str(git)], url=url)
        download._git(
            ["--git-dir", str(git), "fetch", "-q", "--filter=blob:none", "--depth=1", url, commit],
            url=url,
        )
        names = download._git(["--git-dir", str(git), "ls-tree", "--name-only", commit], url=url)
        stamp = download._git(["--git-dir", str(git), "log", "-1", "--format=%cI", commit], url=url)
    return set(names.split()), dt.datetime.fromisoformat(stamp.strip()).date()


def discover(
    suite: str,
    known: Iterable[str],
    base: str,
    owner: str = "mlcommons",
    log: Callable[[str], None] | None = None,
) -> list[Round]:
    """Rounds of `suite` at `base` newer than every version in `known`, oldest first."""
    say = log or (lambda _m: None)
    seen = set(known)
    newest = max((version_tuple(v)[:2] for v in seen), default=(0, 4))
    found: list[Round] = []
    while True:
        hits = []
        for v in candidates(newest):
            if v in seen:
                continue
            repo = f"{suite}_results_{v}"
            p = probe(download.repo_url(base, owner, repo), v)
            if p.exists:
                say(f"{suite}: found {owner}/{repo} (head {p.head or 'none: empty repository'})")
                hits.append(describe(suite, owner, repo, p))
                seen.add(v)
        if not hits:
            break
        found += hits
        newest = max(version_tuple(r.version)[:2] for r in hits)
    say(
        f"{suite}: {len(found)} new round(s)" + (f": {[r.version for r in found]}" if found else "")
    )
    return sorted(found, key=lambda r: r.sort_key)
