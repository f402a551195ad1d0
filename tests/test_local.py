"""Local submission trees: checks before registration, fingerprints, the registry file."""

from __future__ import annotations

import subprocess

import pytest

from mlperf_power_dag import local
from mlperf_power_dag.local import LocalError, LocalSubmission


def tree(root, rel: str, text: str = "x") -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


INF = "closed/Lab/results/sys1/resnet50/Offline/performance/run_1/mlperf_log_summary.txt"
TINY = "closed/Lab/results/board/ic/performance/results.txt"
TRAIN = "lab/results/sys1/bert/result_0.txt"


@pytest.mark.parametrize(
    ("rel", "suite"), [(INF, "inference"), (TINY, "tiny"), (TRAIN, "training")]
)
def test_each_suite_layout_is_recognized(tmp_path, rel, suite):
    tree(tmp_path, rel)
    assert local.suites_in(tmp_path) == [suite]
    assert local.check_tree(tmp_path, suite) == tmp_path.resolve()


def test_bad_trees_are_refused_with_the_reason(tmp_path):
    with pytest.raises(LocalError, match="no such folder"):
        local.check_tree(tmp_path / "missing", "inference")
    tree(tmp_path, "README.md")
    with pytest.raises(LocalError, match="no inference results"):
        local.check_tree(tmp_path, "inference")
    tree(tmp_path, TINY)
    with pytest.raises(LocalError, match="it holds tiny results"):
        local.check_tree(tmp_path, "inference")
    (tmp_path / "link").symlink_to(tmp_path)
    with pytest.raises(LocalError, match="not a folder"):
        local.check_tree(tmp_path / "link", "tiny")


@pytest.mark.parametrize("name", ["", "A", "a/b", "..", "a..b", "-x", "x" * 41, "v4.1 x"])
def test_names_are_checked(name):
    with pytest.raises(LocalError, match="invalid name"):
        local.check_name(name)


def test_fingerprint_follows_content_and_not_links(tmp_path):
    root = tmp_path / "t"
    tree(root, INF, "a")
    first = local.fingerprint(root)
    assert first.startswith("sha256:") and local.fingerprint(root) == first
    outside = tmp_path / "secret.txt"
    outside.write_text("token")
    (root / "closed" / "link.txt").symlink_to(outside)
    assert local.fingerprint(root) == first  # links are not followed
    tree(root, INF, "b")
    assert local.fingerprint(root) != first


def test_a_clean_git_repository_is_named_by_its_commit(tmp_path):
    tree(tmp_path, INF)
    env = ["-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    subprocess.run(["git", "-C", str(tmp_path), "add", "."], check=True)
    subprocess.run(["git", "-C", str(tmp_path), *env, "commit", "-qm", "x"], check=True)
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    assert local.fingerprint(tmp_path) == head
    tree(tmp_path, INF, "changed")  # uncommitted change: the content decides
    assert local.fingerprint(tmp_path).startswith("sha256:")


def test_registry_round_trip_and_bad_file(tmp_path):
    sub = LocalSubmission("lab", "inference", str(tmp_path), "v4.1")
    local.save(tmp_path, {"lab": sub})
    assert local.load(tmp_path) == {"lab": sub} and sub.key == "local-lab"
    assert local.is_local("local-lab") and not local.is_local("v4.1")
    local.registry_path(tmp_path).write_text("{")
    with pytest.raises(LocalError, match="local.json"):
        local.load(tmp_path)
