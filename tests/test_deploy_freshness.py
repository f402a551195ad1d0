"""Freshness: figures built before the newest round and a silent discovery turn red, then green."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import dagster as dg
import pytest

from mlperf_power_dag import freshness, report, settings
from mlperf_power_dag.definitions import make_definitions
from mlperf_power_dag.defs.automation import pending_rounds
from mlperf_power_dag.defs.freshness import FRESHNESS_JOB, freshness_states
from mlperf_power_dag.rounds import catalog
from mlperf_power_dag.rounds.download import FetchError

UTC = dt.timezone.utc


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MLPERF_POWER_DATASET", raising=False)
    return tmp_path / "home"


def _checks(defs: dg.Definitions, instance: dg.DagsterInstance) -> dict[tuple[str, str], bool]:
    """Run the freshness job once; (asset, check) -> passed."""
    result = defs.resolve_job_def(FRESHNESS_JOB).execute_in_process(instance=instance)
    return {
        (e.asset_key.to_user_string(), e.check_name): e.passed
        for e in result.get_asset_check_evaluations()
    }


def _built(instance: dg.DagsterInstance, key: str, partition: str | None = None) -> None:
    instance.report_runless_asset_event(dg.AssetMaterialization(key, partition=partition))


def test_a_figure_older_than_the_newest_round_is_red_until_rebuilt(home):
    defs = make_definitions()
    fig = ("fig5c", freshness.FIGURE_CHECK)  # reads tiny_results
    fig1 = ("fig1", freshness.FIGURE_CHECK)  # reads inference_results only
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("tiny_rounds", ["v0.5", "v0.7"])
        states = _checks(defs, instance)
        assert len(states) == len(freshness_states(instance))  # every figure, report, discovery
        assert states[fig] and states[fig1]  # nothing built: nothing stale

        _built(instance, "tiny_results", "v0.5")
        assert not _checks(defs, instance)[fig]  # a round, never a figure
        _built(instance, "fig5c")
        states = _checks(defs, instance)
        assert states[fig] and states[fig1]

        _built(instance, "tiny_results", "v0.7")  # a newer round
        states = _checks(defs, instance)
        assert not states[fig] and states[fig1]
        [state] = [s for s in freshness_states(instance, ["fig5c"]) if s.asset == "fig5c"]
        assert "before the newest tiny_results round" in state.detail

        _built(instance, "fig5c")  # rebuilt
        assert _checks(defs, instance)[fig]
        record = instance.get_latest_asset_check_evaluation_record(
            dg.AssetCheckKey(dg.AssetKey("fig5c"), freshness.FIGURE_CHECK)
        )
        assert record.event.asset_check_evaluation.passed  # what the UI shows


def _bare(base: Path, repo: str) -> None:
    path = base / "mlcommons" / f"{repo}.git"
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True)


def _discovery_ok(instance: dg.DagsterInstance) -> bool:
    return next(s for s in freshness_states(instance, []) if s.check == "discovery_recent").passed


def test_discovery_older_than_two_days_is_red(home, tmp_path, monkeypatch):
    base = tmp_path / "github"
    for suite in catalog.SUITES:  # the host answers: its newest catalog repositories exist
        _bare(base, catalog.rounds(suite)[-1].repo_name)
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", f"file://{base}")
    path = settings.discovery_state_path()
    with dg.DagsterInstance.ephemeral() as instance:
        assert not _discovery_ok(instance)  # never ran
        before = dt.datetime.now(UTC)
        pending_rounds(instance)  # finds nothing new, host reachable: a success
        last = freshness.last_discovery(path)
        assert last is not None and before <= last <= dt.datetime.now(UTC)
        assert _discovery_ok(instance)

        freshness.record_discovery(path, dt.datetime.now(UTC) - dt.timedelta(hours=49))
        assert not _discovery_ok(instance)
        monkeypatch.setenv("MLPERF_POWER_GIT_BASE", f"file://{tmp_path / 'offline'}")
        pending_rounds(instance)  # the host does not answer: not a success
        assert not _discovery_ok(instance)
        assert not _checks(make_definitions(), instance)[("report", freshness.DISCOVERY_CHECK)]
        freshness.record_discovery(path, dt.datetime.now(UTC) - dt.timedelta(hours=47))
        assert _discovery_ok(instance)


def test_discovery_rule_and_state_file(tmp_path):
    now = dt.datetime(2026, 6, 3, 12, tzinfo=UTC)
    ok = freshness.discovery_state("report", now - dt.timedelta(days=2), now)
    late = freshness.discovery_state("report", now - dt.timedelta(days=2, seconds=1), now)
    assert ok.passed and not late.passed and "48 h ago (limit 48 h)" in late.detail
    assert not freshness.discovery_state("report", None, now).passed
    path = tmp_path / "discovery.json"
    assert freshness.last_discovery(path) is None
    freshness.record_discovery(path, now)
    assert freshness.last_discovery(path) == now
    path.write_text("not json")
    assert freshness.last_discovery(path) is None


def test_the_data_page_shows_the_freshness_state(tmp_path):
    t0 = dt.datetime(2026, 6, 1, tzinfo=UTC).timestamp()
    states = [
        freshness.figure_state("fig5c", t0, {"tiny_results": t0 + 60}),
        freshness.figure_state("fig1", t0 + 120, {"inference_results": t0}),
        freshness.discovery_state("report", None),
    ]
    assert [s.passed for s in states] == [False, True, False]
    index = report.build_report(
        tmp_path / "site", tmp_path / "figures", str(tmp_path / "dataset"), freshness=states
    )
    page = (index.parent / "data.html").read_text()
    assert '<h2 id="freshness">Freshness</h2>' in page and 'href="#freshness"' in page
    assert page.count('class="stale">STALE') == 2 and page.count('class="ok">ok') == 1
    assert "built 2026-06-01T00:00:00+00:00, before the newest tiny_results round" in page
    saved = json.loads((index.parent / "report.json").read_text())["freshness"]
    assert [(s["asset"], s["passed"]) for s in saved] == [
        ("fig5c", False),
        ("fig1", True),
        ("report", False),
    ]


def test_reachability_is_asked_of_the_newest_catalog_repository(tmp_path):
    _bare(tmp_path, "tiny_results_v1.3")
    freshness.check_reachable("tiny", f"file://{tmp_path}")  # answers: no error
    with pytest.raises(FetchError, match="training_results_v4.1.git"):
        freshness.check_reachable("training", f"file://{tmp_path}")
    freshness.check_reachable("training", f"file://{tmp_path}", known=[])  # nothing to ask about
