"""Discovery by naming convention, and the daily refresh of patched rounds."""

from __future__ import annotations

import subprocess
from pathlib import Path

import dagster as dg

from mlperf_power_dag.definitions import make_definitions
from mlperf_power_dag.defs.automation import changed_round_requests
from mlperf_power_dag.rounds import catalog, discovery, registry


def _git(*args: str, cwd: Path | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_candidates_cover_later_minors_and_majors():
    c = discovery.candidates((4, 1))
    assert c[:3] == ["v4.2", "v4.3", "v4.4"] and "v5.0" in c and "v6.5" in c
    assert "v4.1" not in c and "v7.0" not in c


def test_gaps_are_tolerated(mirror_url):
    found = discovery.discover("inference", ["v0.5", "v0.7", "v1.0", "v1.1"], mirror_url)
    # v3.1 and v4.0 are not mirrored: probing goes on past them
    assert [r.version for r in found] == ["v2.0", "v2.1", "v3.0", "v4.1"]
    assert all(r.source == "tree" and r.ref == "main" for r in found)
    v30 = found[2]
    assert v30.slug == "mlcommons/inference_results_v3.0" and v30.date.isoformat() == "2025-07-01"


def test_summary_round_detected_and_unreachable_base_finds_nothing(tmp_path):
    work = tmp_path / "work"
    _git("init", "-q", "-b", "main", str(work))
    (work / "summary_results.json").write_text("[]\n")
    _git("add", ".", cwd=work)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "v5.0", cwd=work)
    base = tmp_path / "gh"
    _git("clone", "-q", "--bare", str(work), str(base / "mlcommons" / "inference_results_v5.0.git"))
    found = discovery.discover("inference", ["v4.1"], "file://" + str(base))
    assert [(r.version, r.source) for r in found] == [("v5.0", "summary")]
    assert discovery.discover("inference", ["v4.1"], "file://" + str(tmp_path / "none")) == []


def test_refresh_requests_only_rounds_whose_ref_moved(tmp_path, monkeypatch, mirror_root):
    remote = tmp_path / "gh" / "mlcommons" / "tiny_results_v1.2.git"
    _git("clone", "-q", "--bare", str(mirror_root / "mlcommons" / "tiny_results_v1.2.git"),
         str(remote))  # fmt: skip
    (tmp_path / "gh" / "mlcommons" / "tiny_results_v1.1.git").symlink_to(
        mirror_root / "mlcommons" / "tiny_results_v1.1.git"
    )
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", "file://" + str(tmp_path / "gh"))
    defs = make_definitions()
    job = defs.resolve_job_def("tiny_round")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("tiny_rounds", ["v1.1", "v1.2"])
        for v in ("v1.1", "v1.2"):
            assert job.execute_in_process(partition_key=v, instance=instance).success
        assert changed_round_requests(instance, ["tiny"]) == []
        # MLCommons patches v1.2 after publication
        work = tmp_path / "work"
        _git("clone", "-q", str(remote), str(work))
        (work / "ERRATA.md").write_text("fixed a result\n")
        _git("add", ".", cwd=work)
        _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "patch", cwd=work)
        _git("push", "-q", "origin", "HEAD:main", cwd=work)
        requests = changed_round_requests(instance, ["tiny"])
        assert [(r.job_name, r.partition_key) for r in requests] == [("tiny_round", "v1.2")]


def test_discover_command_adds_and_prints_new_rounds(github, publish, monkeypatch, capsys):
    from mlperf_power_dag import cli

    new_version = publish("tiny")  # the round after the catalog's newest tiny one, e.g. v1.4
    home = github.parent / "home"
    monkeypatch.setenv("MLPERF_POWER_HOME", str(home))
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", "file://" + str(github))
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    # a fresh home: every catalog round becomes a partition, and the new round with them
    expected = {s: [r.version for r in catalog.rounds(s)] for s in catalog.SUITES}
    expected["tiny"].append(new_version)
    assert cli.main(["discover"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"{s}: {' '.join(vs)}" for s, vs in expected.items()
    ]
    found = [(r.suite, r.version, r.slug, r.ref) for r in registry.discovered(home=home)]
    assert found == [("tiny", new_version, f"mlcommons/tiny_results_{new_version}", "main")]
    assert cli.main(["discover"]) == 0
    assert capsys.readouterr().out.splitlines() == ["no new rounds"]
    monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
    instance = dg.DagsterInstance.get()
    for suite, versions in expected.items():
        assert sorted(instance.get_dynamic_partitions(f"{suite}_rounds")) == sorted(versions)
