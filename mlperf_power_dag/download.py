"""Sparse, partial git fetches of MLCommons results repositories into a local cache."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

STAMP = ".mlperf-fetch.json"
GIT_TIMEOUT_S = 600


class FetchError(RuntimeError):
    """A repository or ref could not be fetched; the message names the URL."""


@dataclass(frozen=True)
class FetchResult:
    """A checked-out round: where it is, which commit, and what the fetch cost."""

    url: str
    ref: str
    commit: str
    path: Path
    files: int
    bytes: int
    seconds: float
    reused: bool  # True: the cache already held this commit with these patterns


def repo_url(base: str, owner: str, repo: str) -> str:
    """`<base>/<owner>/<repo>.git`."""
    return f"{base.rstrip('/')}/{owner}/{repo}.git"


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
        GCM_INTERACTIVE="never",
        LC_ALL="C",
    )
    return env


def _git(args: Sequence[str], cwd: Path | None = None, url: str = "") -> str:
    cmd = ["git", "-c", "credential.helper=", "-c", "protocol.file.allow=always", *args]
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=_git_env(),
            capture_output=True,
            text=True,
            timeout=GIT_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        raise FetchError(f"git {args[0]} timed out after {GIT_TIMEOUT_S}s for {url}") from e
    if proc.returncode != 0:
        msg = [m for m in (proc.stderr or proc.stdout).strip().splitlines() if m.strip()]
        tail = " | ".join(msg[-3:]) if msg else f"exit {proc.returncode}"
        raise FetchError(f"git {args[0]} failed for {url or cwd}: {tail}")
    return proc.stdout


def resolve_ref(url: str, ref: str = "main") -> str:
    """The commit a remote ref points to, by `git ls-remote` (no prompts)."""
    out = _git(["ls-remote", url, ref], url=url)
    wanted = {ref, f"refs/heads/{ref}", f"refs/tags/{ref}"}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name in wanted:
            return sha
    raise FetchError(f"ref {ref!r} not found at {url}")


def checkout_dir(cache: Path, owner: str, repo: str, patterns: Sequence[str], ref: str) -> Path:
    """Cache folder of one (repository, file selection, ref)."""
    digest = hashlib.sha256("\n".join([ref, *patterns]).encode()).hexdigest()[:10]
    return cache / owner / f"{repo}@{digest}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _worktree_size(root: Path) -> tuple[int, int]:
    files = size = 0
    for dirpath, dirnames, filenames in os.walk(root):
        if ".git" in dirnames:
            dirnames.remove(".git")
        for name in filenames:
            if name == STAMP:
                continue
            files += 1
            size += os.path.getsize(os.path.join(dirpath, name))
    return files, size


def fetch(
    url: str,
    ref: str,
    patterns: Sequence[str],
    dest: Path,
    log: Callable[[str], None] | None = None,
) -> FetchResult:
    """Check out `patterns` of `url` at `ref` into `dest`: partial clone, sparse, depth 1.

    If `dest` already holds the commit `ref` points to with the same patterns, nothing
    but the ref lookup is done.
    """
    say = log or (lambda _m: None)
    start = time.monotonic()
    commit = resolve_ref(url, ref)
    stamp_path = dest / STAMP
    with _locked(dest):
        if stamp_path.exists():
            stamp = json.loads(stamp_path.read_text())
            if stamp.get("commit") == commit and stamp.get("patterns") == list(patterns):
                say(f"{url}@{ref}: cached at {commit[:12]}, nothing to fetch")
                return FetchResult(
                    url,
                    ref,
                    commit,
                    dest,
                    stamp["files"],
                    stamp["bytes"],
                    time.monotonic() - start,
                    True,
                )
        say(f"{url}@{ref}: fetching {commit[:12]} ({len(patterns)} path patterns)")
        if not (dest / ".git").is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            _git(["init", "-q", str(dest)], url=url)
            _git(["remote", "add", "origin", url], cwd=dest, url=url)
        else:
            _git(["remote", "set-url", "origin", url], cwd=dest, url=url)
        _git(
            [
                "fetch",
                "-q",
                "--filter=blob:none",
                "--depth=1",
                "origin",
                f"+{commit}:refs/mlperf/fetched",
            ],
            cwd=dest,
            url=url,
        )
        _git(["sparse-checkout", "set", "--no-cone", *patterns], cwd=dest, url=url)
        _git(["checkout", "-q", "--detach", "--force", commit], cwd=dest, url=url)
        head = _git(["rev-parse", "HEAD"], cwd=dest, url=url).strip()
        if head != commit:
            raise FetchError(f"{url}: checked out {head}, expected {commit}")
        files, size = _worktree_size(dest)
        result = FetchResult(url, ref, commit, dest, files, size, time.monotonic() - start, False)
        stamp = {k: v for k, v in asdict(result).items() if k not in ("path", "seconds", "reused")}
        stamp["patterns"] = list(patterns)
        stamp_path.write_text(json.dumps(stamp, indent=1))
        say(f"{url}@{ref}: {files} files, {size / 1e6:.1f} MB in {result.seconds:.1f}s")
        return result
