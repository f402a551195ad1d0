"""Sparse, partial git fetches of MLCommons results repositories into a local cache."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from mlperf_power_dag import settings

STAMP = ".mlperf-fetch.json"
GIT_TIMEOUT_S = 600


class FetchError(RuntimeError):
    """A repository or ref could not be fetched; the message names the URL (without
    credentials) and, where git said it, the cause."""


_CREDENTIALS = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")
_SAFE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")

# git's words for a remote that cannot be reached, and what to tell the user.
_CAUSES = (
    ("could not resolve host", "DNS; offline? set MLPERF_POWER_GIT_BASE to a mirror"),
    ("failed to connect", "connection refused or timed out; set MLPERF_POWER_GIT_BASE to a mirror"),
    ("could not read from remote", "remote not readable"),
    ("repository not found", "no such repository"),
    ("does not appear to be a git repository", "no such repository"),
    ("authentication failed", "authentication failed (no credentials are used)"),
    ("terminal prompts disabled", "the remote asks for credentials (none are used)"),
)


def redact(text: str) -> str:
    """`text` with any `user:password@` of a URL removed."""
    return _CREDENTIALS.sub(r"\g<scheme>***@", text)


def check_name(kind: str, value: str) -> str:
    """An owner, repository or version that is safe as a path segment and a URL part."""
    if not isinstance(value, str) or not _SAFE_NAME.match(value) or ".." in value:
        raise ValueError(f"invalid {kind} {value!r}: only letters, digits, '_', '.', '-'")
    return value


def cause(git_output: str) -> str:
    """A short root cause for a failed git call, from what git printed."""
    low = git_output.lower()
    for needle, what in _CAUSES:
        if needle in low:
            return what
    return ""


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
    """`<base>/<owner>/<repo>.git` (owner and repo checked to be plain names)."""
    return f"{base.rstrip('/')}/{check_name('owner', owner)}/{check_name('repository', repo)}.git"


def _git_env() -> dict[str, str]:
    return settings.process_env(
        GIT_TERMINAL_PROMPT="0",
        GIT_ASKPASS="",
        SSH_ASKPASS="",
        GCM_INTERACTIVE="never",
        LC_ALL="C",
    )


def _git(
    args: Sequence[str], cwd: Path | None = None, url: str = "", timeout_s: int = GIT_TIMEOUT_S
) -> str:
    cmd = [
        "git",
        "-c",
        "credential.helper=",
        "-c",
        "protocol.file.allow=always",
        "-c",
        "core.symlinks=false",  # a link in a results repository is checked out as a text file
        *args,
    ]
    try:
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=_git_env(),
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired as e:
        raise FetchError(f"git {args[0]} timed out after {timeout_s}s for {redact(url)}") from e
    if proc.returncode != 0:
        out = proc.stderr or proc.stdout
        msg = [m for m in out.strip().splitlines() if m.strip()]
        tail = " | ".join(msg[-3:]) if msg else f"exit {proc.returncode}"
        why = cause(out)
        head = f"cannot reach {redact(url)} ({why})" if why else f"git {args[0]} failed for"
        where = "" if why else f" {redact(url) if url else cwd}"
        raise FetchError(redact(f"{head}{where}: {tail}"))
    return proc.stdout


def resolve_ref(url: str, ref: str = "main", timeout_s: int = GIT_TIMEOUT_S) -> str:
    """The commit a remote ref points to, by `git ls-remote` (no prompts)."""
    out = _git(["ls-remote", url, ref], url=url, timeout_s=timeout_s)
    wanted = {ref, f"refs/heads/{ref}", f"refs/tags/{ref}"}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        if name in wanted:
            return sha
    raise FetchError(f"ref {ref!r} not found at {redact(url)}")


def checkout_dir(cache: Path, owner: str, repo: str, patterns: Sequence[str], ref: str) -> Path:
    """Cache folder of one (repository, file selection, ref)."""
    digest = hashlib.sha256("\n".join([ref, *patterns]).encode()).hexdigest()[:10]
    return cache / check_name("owner", owner) / f"{check_name('repository', repo)}@{digest}"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _clear_stale_git_locks(dest: Path, say: Callable[[str], None]) -> None:
    """Remove git lock files a killed fetch left behind (we hold the folder's lock, so no
    other fetch of ours is running there)."""
    git_dir = dest / ".git"
    if not git_dir.is_dir():
        return
    for lock in [*git_dir.glob("*.lock"), *git_dir.glob("refs/**/*.lock")]:
        say(f"{dest.name}: removing {lock.name} left by an interrupted fetch")
        lock.unlink(missing_ok=True)


def _damaged(dest: Path, stamp: dict) -> str:
    """Why a cached checkout no longer matches its stamp ('' when it does)."""
    files, size = _worktree_size(dest)
    if (files, size) != (stamp.get("files"), stamp.get("bytes")):
        return (
            f"cache holds {files} files / {size} bytes, the fetch recorded "
            f"{stamp.get('files')} / {stamp.get('bytes')}"
        )
    return ""


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
    timeout_s: int = GIT_TIMEOUT_S,
) -> FetchResult:
    """Check out `patterns` of `url` at `ref` into `dest`: partial clone, sparse, depth 1.

    If `dest` already holds the commit `ref` points to with the same patterns, nothing
    but the ref lookup is done.
    """
    say = log or (lambda _m: None)
    start = time.monotonic()
    commit = resolve_ref(url, ref, timeout_s)
    stamp_path = dest / STAMP
    shown = redact(url)
    with _locked(dest):
        if stamp_path.exists():
            try:
                stamp = json.loads(stamp_path.read_text())
            except (OSError, ValueError):
                stamp = {}
            same = stamp.get("commit") == commit and stamp.get("patterns") == list(patterns)
            damage = _damaged(dest, stamp) if same else ""
            if damage:
                say(f"{shown}@{ref}: cached checkout damaged ({damage}); fetching it again")
                shutil.rmtree(dest, ignore_errors=True)
            elif same:
                say(f"{shown}@{ref}: cached at {commit[:12]}, nothing to fetch")
                return FetchResult(
                    shown,
                    ref,
                    commit,
                    dest,
                    stamp["files"],
                    stamp["bytes"],
                    time.monotonic() - start,
                    True,
                )
        say(f"{shown}@{ref}: fetching {commit[:12]} ({len(patterns)} path patterns)")
        stamp_path.unlink(missing_ok=True)  # no stamp until the checkout is complete
        _clear_stale_git_locks(dest, say)
        if not (dest / ".git").is_dir():
            dest.mkdir(parents=True, exist_ok=True)
            _git(["init", "-q", str(dest)], url=url, timeout_s=timeout_s)
            _git(["remote", "add", "origin", url], cwd=dest, url=url, timeout_s=timeout_s)
        else:
            _git(["remote", "set-url", "origin", url], cwd=dest, url=url, timeout_s=timeout_s)
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
            timeout_s=timeout_s,
        )
        _git(
            ["sparse-checkout", "set", "--no-cone", *patterns],
            cwd=dest,
            url=url,
            timeout_s=timeout_s,
        )
        _git(
            ["checkout", "-q", "--detach", "--force", commit],
            cwd=dest,
            url=url,
            timeout_s=timeout_s,
        )
        head = _git(["rev-parse", "HEAD"], cwd=dest, url=url, timeout_s=timeout_s).strip()
        if head != commit:
            raise FetchError(f"{shown}: checked out {head}, expected {commit}")
        files, size = _worktree_size(dest)
        result = FetchResult(shown, ref, commit, dest, files, size, time.monotonic() - start, False)
        stamp = {k: v for k, v in asdict(result).items() if k not in ("path", "seconds", "reused")}
        stamp["patterns"] = list(patterns)
        tmp = stamp_path.with_name(stamp_path.name + ".partial")
        tmp.write_text(json.dumps(stamp, indent=1))
        os.replace(tmp, stamp_path)
        say(f"{shown}@{ref}: {files} files, {size / 1e6:.1f} MB in {result.seconds:.1f}s")
        return result
