"""What a user sees when a round cannot be fetched: one line with the root cause, no trace."""

from __future__ import annotations

import os
import subprocess
import sys

from mlperf_power_dag import cli, settings

ROUND = ["build", "--suite", "tiny", "--round", "v0.5", "--no-discover"]


def _build(home, base, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPERF_POWER", "DAGSTER"))}
    env.update(MLPERF_POWER_HOME=str(home), MLPERF_POWER_GIT_BASE=base)
    cmd = [sys.executable, "-m", "mlperf_power_dag.cli", *ROUND, *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def test_offline_the_cause_is_one_line_and_secrets_stay_out(tmp_path, monkeypatch, capsys, caplog):
    # the command as a user runs it: its exit code and all it prints
    proc = _build(tmp_path, "https://user:s3cret@mlperf-test.invalid")
    out = proc.stdout + proc.stderr
    assert proc.returncode == 1
    failed = [line for line in out.splitlines() if "FAILED" in line]
    assert len(failed) == 1
    assert "tiny v0.5: FAILED" in failed[0]
    assert (
        "cannot reach https://***@mlperf-test.invalid/mlcommons/tiny_results_v0.5.git "
        "(DNS; offline? set MLPERF_POWER_GIT_BASE to a mirror)"
    ) in failed[0]
    assert "Traceback" not in out and "Stack Trace" not in out and "KeyError" not in out
    assert "s3cret" not in out
    assert len(out.splitlines()) < 20
    leaked = subprocess.run(["grep", "-rl", "s3cret", str(tmp_path)], capture_output=True)
    assert leaked.stdout == b""  # not in the Dagster event log, metadata or stamps either
    # --verbose shows the whole trace (called in this process; the variables it sets are undone)
    for name in settings.WORKER_VARS:
        monkeypatch.setenv(name, "")
    monkeypatch.setenv(settings.HOME_VAR, str(tmp_path))
    monkeypatch.setenv(settings.GIT_BASE_VAR, "https://mlperf-test.invalid")
    monkeypatch.setenv(settings.DAGSTER_HOME_VAR, str(tmp_path / "dagster"))
    monkeypatch.delenv(settings.DATASET_VAR)
    assert cli.main([*ROUND, "--verbose"]) == 1
    assert "Stack Trace:" in caplog.text + "".join(capsys.readouterr())
