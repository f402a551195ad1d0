"""Published reference tables are read once per commit and reader code, then reused; their
fetch is retried on the network as a round's is."""

from __future__ import annotations

from functools import partial

import dagster as dg
import pandas as pd

from mlperf_power_dag import reference_cache
from mlperf_power_dag.defs.checks import inference_reference_results
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.rounds import load
from mlperf_power_dag.rounds.catalog import CMX_OWNER, CMX_REF, CMX_REPO, SUMMARY_REFERENCES, TREE


def test_reference_table_is_cached_by_commit_and_a_damaged_cache_is_read_again(
    tmp_path, monkeypatch, mirror_url
):
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path))
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", mirror_url)
    ref = SUMMARY_REFERENCES["v4.1"]
    first = reference_cache.reference_results(ref)
    commit = load.cached_checkout(ref)[1]
    path = reference_cache.cache_path(ref, commit)
    assert path.exists() and len(first) > 900
    pd.testing.assert_frame_equal(reference_cache.reference_results(ref), first)
    path.write_bytes(b"not parquet")
    seen: list[str] = []
    pd.testing.assert_frame_equal(reference_cache.reference_results(ref, log=seen.append), first)
    assert any("unreadable cache" in m for m in seen)
    pd.testing.assert_frame_equal(load.read_round(ref).results, first)


def test_a_published_table_is_retried_on_the_network_then_fails_naming_its_repository(tmp_path):
    """The published tables are fetched as the rounds are (`GitSource.fetch_round`): a host that
    never resolves is tried `retries` more times within the run, each retry logged, then the
    asset fails with one line naming the repository."""
    base = "https://mlperf-power.invalid"
    git = GitSource(base=base, retries=2, retry_wait_s=0)
    resources = {
        "mlperf_home": MlperfHome(path=str(tmp_path / "home")),
        "git": git,
        "io_manager": dg.mem_io_manager,
    }

    @dg.asset(name="inference_results")
    def one_round_with_power() -> pd.DataFrame:
        return pd.DataFrame(
            {"round": ["v4.1"], "source": [TREE], "power_w": [90.0], "energy_per_query_j": [None]}
        )

    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            [one_round_with_power, inference_reference_results],
            resources=resources,
            instance=instance,
            raise_on_error=False,
        )
        logged = [e.user_message for e in instance.all_logs(result.run_id)]
    assert not result.success
    repo = f"{base}/mlcommons/{CMX_REPO}.git"
    retried = [m for m in logged if "failed on the network, retry" in m]
    assert [m.split(": ")[:2] for m in retried] == [
        [f"inference v4.1 ({CMX_OWNER}/{CMX_REPO}@{CMX_REF})", f"failed on the network, {n}"]
        for n in ("retry 1 of 2 in 0 s", "retry 2 of 2 in 0 s")
    ]
    [failure] = [e for e in result.all_events if e.is_step_failure]
    error = failure.step_failure_data.error
    while error.cause is not None:  # Dagster's wrapper, then the FetchError
        error = error.cause
    line = error.message.strip()
    assert "\n" not in line and f"FetchError: cannot reach {repo} (DNS" in line

    # the Tiny tables too: each is retried, then left out and named
    warned: list[str] = []
    out = reference_cache.tiny_reference_results(
        ["v1.2"], cache=tmp_path, fetch=partial(git.fetch_round, warn=warned.append),
        warn=warned.append,
    )  # fmt: skip
    assert out.empty
    assert [("retry" in m, "left out" in m) for m in warned] == [(True, False)] * 2 + [
        (False, True)
    ] + [(True, False)] * 2 + [(False, True)]
