"""Local submission trees: unpublished results laid out like an MLCommons results repository.

A local submission has a name (its partition is `local-<name>`), a suite, a folder (or a git
repository) and the published round whose reader rules apply to it. This module checks a
tree before it is registered, fingerprints its content (the commit of a clean git
repository, else a hash of its files) and keeps the list of registered submissions in
`local.json` under the home. Pure functions over paths; no Dagster.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

PREFIX = "local-"
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")

# What a results tree of each suite holds (relative globs; the first match is enough).
LAYOUT = {
    "inference": ("*/*/results/*/*/*/performance/run_1/mlperf_log_summary.txt",
                  "*/*/results/*/*/*/performance/run_1/mlperf_log_detail.txt"),
    "tiny": ("*/*/results/*/*/*/results.txt", "*/*/results/*/*/*/*/results.txt",
             "*/*/results/*/*/*/results.json"),
    "training": ("*/results/*/*/result_*.txt",),
}  # fmt: skip


class LocalError(ValueError):
    """A local submission that cannot be registered or read; the message says why."""


@dataclass(frozen=True)
class LocalSubmission:
    """One registered local submission tree."""

    name: str
    suite: str
    path: str  # absolute folder
    rules: str  # the published round whose reader rules apply, e.g. v4.1

    @property
    def key(self) -> str:
        """Its partition key in the suite's round partitions."""
        return PREFIX + self.name


def is_local(key: str) -> bool:
    """True for the partition key of a local submission."""
    return key.startswith(PREFIX)


def check_name(name: str) -> str:
    """`name` if it can name a local submission (lower-case letters, digits, `_.-`)."""
    if not isinstance(name, str) or not _NAME.match(name) or ".." in name:
        raise LocalError(
            f"invalid name {name!r}: use up to 40 lower-case letters, digits, '.', '_' or '-'"
        )
    return name


def suites_in(root: Path) -> list[str]:
    """The suites whose results layout `root` holds."""
    found = []
    for suite, globs in LAYOUT.items():
        if any(next(root.glob(g), None) is not None for g in globs):
            found.append(suite)
    return found


def check_tree(path: Path, suite: str) -> Path:
    """The absolute folder of a tree that holds `suite` results; LocalError naming the problem
    (missing, not a folder, no results, another suite's layout) otherwise."""
    root = Path(path).expanduser()
    if not root.exists():
        raise LocalError(f"{root}: no such folder")
    if root.is_symlink() or not root.is_dir():
        raise LocalError(f"{root}: not a folder")
    root = root.resolve()
    found = suites_in(root)
    if suite not in found:
        other = f"; it holds {' and '.join(found)} results" if found else ""
        want = LAYOUT[suite][0]
        raise LocalError(f"{root}: no {suite} results (expected files like {want}){other}")
    return root


def _git_commit(root: Path) -> str | None:
    """HEAD of a git work tree at `root` with no uncommitted change, else None."""
    if not (root / ".git").exists():
        return None
    git = ["git", "-C", str(root)]
    try:
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True)
        dirty = subprocess.run([*git, "status", "--porcelain"], capture_output=True, text=True)
    except OSError:
        return None
    if head.returncode or dirty.returncode or dirty.stdout.strip():
        return None
    return head.stdout.strip()


def fingerprint(root: Path) -> str:
    """The commit of a clean git repository at `root`, else `sha256:<hex>` of every regular
    file's relative path and content (symbolic links and `.git` are not followed)."""
    commit = _git_commit(root)
    if commit:
        return commit
    h = hashlib.sha256()
    for top, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d != ".git")
        for name in sorted(files):
            p = Path(top) / name
            if p.is_symlink() or not p.is_file():
                continue
            h.update(p.relative_to(root).as_posix().encode() + b"\0")
            with p.open("rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
            h.update(b"\0")
    return "sha256:" + h.hexdigest()


def registry_path(home: Path) -> Path:
    return home / "local.json"


def load(home: Path) -> dict[str, LocalSubmission]:
    """Registered local submissions by name (an unreadable file reads as none, with a
    LocalError naming it)."""
    path = registry_path(home)
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        subs = [LocalSubmission(**entry) for entry in data]
    except (OSError, ValueError, TypeError) as e:
        raise LocalError(f"{path}: not a list of local submissions ({e})") from None
    return {s.name: s for s in subs}


def save(home: Path, subs: dict[str, LocalSubmission]) -> None:
    """Write the registry atomically."""
    path = registry_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps([asdict(s) for s in sorted(subs.values(), key=lambda s: s.name)]))
    os.replace(tmp, path)


def lookup(home: Path, key: str) -> LocalSubmission:
    """The registered submission behind partition key `local-<name>`."""
    name = key.removeprefix(PREFIX)
    sub = load(home).get(name)
    if sub is None:
        raise LocalError(f"{key}: no local submission named {name!r} (mlperf-power add-local)")
    return sub


def snapshot(sub: LocalSubmission) -> tuple[Path, str]:
    """(folder, commit or content hash) of a registered submission as it is now."""
    root = check_tree(Path(sub.path), sub.suite)
    return root, fingerprint(root)


READER_COMMIT = "0" * 40  # what readers record as commit; replaced by the tree's fingerprint


def as_local(table_results, table_problems, sub: LocalSubmission, commit: str):
    """A round table read from a local tree, relabelled: round `local-<name>`, the tree's
    repository (`local/<name>`) and fingerprint as provenance, `official` false."""
    results = table_results.assign(
        round=sub.key, source_repo=f"local/{sub.name}", source_commit=commit, official=False
    )
    problems = table_problems.assign(round=sub.key)
    return results, problems
