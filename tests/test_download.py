import subprocess
from pathlib import Path

import pytest

from mlperf_power_dag.rounds import download


def _git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def test_sparse_fetch_gets_only_selected_files_and_reuses_cache(mirror_url, mirror_root, tmp_path):
    bare = mirror_root / "mlcommons" / "inference_results_v4.1.git"
    head = _git("--git-dir", str(bare), "rev-parse", "main")
    expected = [
        p
        for p in _git("--git-dir", str(bare), "ls-tree", "-r", "--name-only", "main").splitlines()
        if p.endswith("/spl.txt")
    ]
    url = download.repo_url(mirror_url, "mlcommons", "inference_results_v4.1")
    patterns = ["/*/*/results/*/*/*/performance/run_1/spl.txt"]
    dest = download.checkout_dir(tmp_path, "mlcommons", "inference_results_v4.1", patterns, "main")
    first = download.fetch(url, "main", patterns, dest)
    assert first.commit == head and not first.reused
    got = sorted(str(p.relative_to(dest)) for p in dest.rglob("spl.txt"))
    assert got == sorted(expected) and first.files == len(expected) == 31
    assert first.bytes == sum((dest / p).stat().st_size for p in expected)
    second = download.fetch(url, "main", patterns, dest)
    assert second.reused and second.commit == head and second.files == first.files


def test_non_default_ref_is_fetched(mirror_url, tmp_path):
    url = download.repo_url(mirror_url, "mlcommons", "inference_results_v4.1")
    res = download.fetch(url, "refs/pull/2/head", ["/summary_results.json"], tmp_path / "s")
    assert (res.path / "summary_results.json").stat().st_size == res.bytes > 1_000_000
    assert res.files == 1


def test_unreachable_remote_names_the_url(tmp_path):
    url = "file://" + str(tmp_path / "nowhere" / "mlcommons" / "inference_results_v9.9.git")
    with pytest.raises(download.FetchError, match="inference_results_v9.9.git"):
        download.fetch(url, "main", ["/*.json"], tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_missing_ref_is_a_clear_error(mirror_url):
    url = download.repo_url(mirror_url, "mlcommons", "tiny_results_v0.5")
    with pytest.raises(download.FetchError, match="ref 'nope' not found"):
        download.resolve_ref(url, "nope")


def test_moved_ref_is_fetched_again(mirror_root, tmp_path):
    # A patched round: the remote's main gains a commit after the first fetch.
    remote = tmp_path / "remote.git"
    _git(
        "clone",
        "-q",
        "--bare",
        str(mirror_root / "mlcommons" / "tiny_results_v0.5.git"),
        str(remote),
    )
    url = "file://" + str(remote)
    dest = tmp_path / "co"
    first = download.fetch(url, "main", ["/README.md", "/*/*/systems/*.json"], dest)
    work = tmp_path / "work"
    _git("clone", "-q", str(remote), str(work))
    (work / "README.md").write_text("patched\n")
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "patch", cwd=work)
    _git("push", "-q", "origin", "HEAD:main", cwd=work)
    second = download.fetch(url, "main", ["/README.md", "/*/*/systems/*.json"], dest)
    assert second.commit != first.commit and not second.reused
    assert (dest / "README.md").read_text() == "patched\n"


def test_credentials_never_appear_in_messages():
    assert download.redact("https://user:t0ken@github.com/x.git") == "https://***@github.com/x.git"
    assert download.redact("see file:///a/b and http://h/x") == "see file:///a/b and http://h/x"
    url = "https://user:t0ken@127.0.0.1:9/mlcommons/tiny_results_v0.5.git"  # refused at once
    with pytest.raises(download.FetchError) as e:
        download.resolve_ref(url, "main")
    assert "t0ken" not in str(e.value) and "https://***@127.0.0.1:9/" in str(e.value)
    assert "cannot reach" in str(e.value)


@pytest.mark.parametrize("owner", ["..", "../../etc", "a/b", "-x", "", "x y"])
def test_hostile_owner_or_repo_never_becomes_a_path(tmp_path, owner):
    with pytest.raises(ValueError, match="invalid owner"):
        download.checkout_dir(tmp_path, owner, "tiny_results_v0.5", ["/*"], "main")
    with pytest.raises(ValueError, match="invalid owner"):
        download.repo_url("https://github.com", owner, "tiny_results_v0.5")
    with pytest.raises(ValueError, match="invalid repository"):
        download.checkout_dir(tmp_path, "mlcommons", owner or "..", ["/*"], "main")


def _fetch_tiny(mirror_url, dest):
    url = download.repo_url(mirror_url, "mlcommons", "tiny_results_v0.5")
    return download.fetch(url, "main", ["/README.md", "/*/*/systems/*.json"], dest)


def test_a_killed_checkout_is_healed_by_the_next_fetch(mirror_url, tmp_path):
    dest = tmp_path / "co"
    first = _fetch_tiny(mirror_url, dest)
    # what SIGKILL during `git checkout` leaves: git's lock, and no stamp (written last)
    (dest / ".git" / "index.lock").write_text("")
    (dest / download.STAMP).unlink()
    said: list[str] = []
    url = download.repo_url(mirror_url, "mlcommons", "tiny_results_v0.5")
    again = download.fetch(
        url, "main", ["/README.md", "/*/*/systems/*.json"], dest, log=said.append
    )
    assert not again.reused and again.files == first.files
    assert not (dest / ".git" / "index.lock").exists()
    assert any("index.lock left by an interrupted fetch" in m for m in said)


def test_a_damaged_cache_is_fetched_again(mirror_url, tmp_path):
    dest = tmp_path / "co"
    first = _fetch_tiny(mirror_url, dest)
    victim = next(p for p in dest.rglob("*.json") if p.name != download.STAMP)
    victim.unlink()  # e.g. a disk clean-up removed files from the cached checkout
    said: list[str] = []
    url = download.repo_url(mirror_url, "mlcommons", "tiny_results_v0.5")
    again = download.fetch(
        url, "main", ["/README.md", "/*/*/systems/*.json"], dest, log=said.append
    )
    assert not again.reused and victim.exists() and again.files == first.files
    assert any("cached checkout damaged" in m for m in said)
    assert download.fetch(url, "main", ["/README.md", "/*/*/systems/*.json"], dest).reused


def test_symlinks_in_a_repository_are_checked_out_as_plain_files(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    _git("init", "-q", "-b", "main", cwd=work)
    (work / "results.txt").symlink_to("/etc/hostname")
    (work / "README.md").write_text("x\n")
    _git("add", ".", cwd=work)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "link", cwd=work)
    bare = tmp_path / "remote.git"
    _git("clone", "-q", "--bare", str(work), str(bare))
    res = download.fetch("file://" + str(bare), "main", ["/*"], tmp_path / "co")
    got = res.path / "results.txt"
    assert not got.is_symlink() and got.read_text() == "/etc/hostname"
