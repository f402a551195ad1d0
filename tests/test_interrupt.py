"""Ctrl-C and SIGTERM stop `mlperf-power build` promptly, and a rerun heals what was cut."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest


def _start(home, mirror_url, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPERF_POWER", "DAGSTER"))}
    env.update(MLPERF_POWER_HOME=str(home), MLPERF_POWER_GIT_BASE=mirror_url)
    return subprocess.Popen(
        [sys.executable, "-m", "mlperf_power_dag.cli", "build", "--no-discover", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        # as typed in a terminal, even when these tests run in a shell's background job
        # (which starts its commands with SIGINT ignored)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def _wait_for(proc, needle: str, timeout: float = 300) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if needle in line:
            return lines
    raise AssertionError(f"{needle!r} never logged:\n{''.join(lines[-20:])}")


@pytest.mark.parametrize(
    ("sig", "jobs"), [(signal.SIGTERM, "2"), (signal.SIGINT, "1")], ids=["sigterm-jobs2", "sigint"]
)
def test_a_signal_stops_the_build_and_a_rerun_completes(tmp_path, mirror_url, sig, jobs):
    proc = _start(tmp_path, mirror_url, "--suite", "tiny", "--jobs", jobs)
    # stop it while rounds are being built, as soon as the first one is done
    _wait_for(proc, ": done in")
    proc.send_signal(sig)
    t0 = time.monotonic()
    out, _ = proc.communicate(timeout=60)
    stopped_after = time.monotonic() - t0
    assert proc.returncode == 130, out[-2000:]
    assert "interrupted: stopped" in out
    assert "metrics, checks and figures" not in out  # nothing new was started
    assert stopped_after < 30
    leftovers = [p for p in (tmp_path / "dataset").rglob("*") if ".tmp-" in p.name]
    assert leftovers == []
    # the rerun keeps the rounds that were finished and builds the rest
    proc = _start(tmp_path, mirror_url, "--suite", "tiny", "--jobs", jobs)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-2000:]
    assert "unchanged (commit" in out
    rounds = sorted(p.name for p in (tmp_path / "dataset" / "tiny_results").iterdir())
    assert rounds == [f"round={v}" for v in ["v0.5", "v0.7", "v1.0", "v1.1", "v1.2", "v1.3"]]


def test_a_run_leaves_sigterm_to_the_command_when_started_in_the_background():
    """A shell starts a background job with SIGINT ignored; after a Dagster run, Dagster maps
    SIGTERM to that SIGINT handler. The command's own SIGTERM handler must still be in place."""
    import dagster as dg

    from mlperf_power_dag import cli

    @dg.op
    def nothing() -> None:
        return None

    @dg.job
    def one_op():
        nothing()

    old_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
    old_term = signal.signal(signal.SIGTERM, cli._on_sigterm)
    try:
        ok, run_id, why = cli._execute(one_op, dg.DagsterInstance.ephemeral())
        assert ok and run_id and why == ""
        assert signal.getsignal(signal.SIGTERM) is cli._on_sigterm
        with dg.instance_for_test() as instance:  # the bare Dagster call is what loses it
            one_op.execute_in_process(instance=instance)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)


def _stubborn(flag: str) -> None:
    """A worker whose run took SIGTERM and carries on (as a Dagster run's handler does)."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    open(flag, "w").close()
    time.sleep(120)


def test_aborting_kills_a_worker_that_does_not_stop_on_sigterm(tmp_path):
    from mlperf_power_dag import cli

    workers = cli.Workers(2)
    flag = tmp_path / "running"
    workers.pool().submit(_stubborn, str(flag))
    deadline = time.monotonic() + 120
    while not flag.exists():
        assert time.monotonic() < deadline, "the worker never started"
        time.sleep(0.05)
    procs = list(workers._pool._processes.values())
    t0 = time.monotonic()
    workers.abort(grace=0.5)
    assert time.monotonic() - t0 < 10
    for proc in procs:
        proc.join(5)
    assert procs and not any(p.is_alive() for p in procs)
    assert any(p.exitcode == -signal.SIGKILL for p in procs)
