"""Run-failure alerts: one per failed run, to the log file and a local webhook, never repeated."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import dagster as dg
import pytest

from mlperf_power_dag import alerts, settings, transient
from mlperf_power_dag.definitions import make_definitions
from mlperf_power_dag.defs.alerts import run_failure_alerts
from mlperf_power_dag.defs.resources import GitSource, MlperfHome, env_resources, resolved


class Webhook:
    """An HTTP server on 127.0.0.1 that records every POST body."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict] = []
        received = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                size = int(self.headers["Content-Length"])
                received.append(json.loads(self.rfile.read(size)))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/mlperf"
        # polled every 50 ms, so that close() returns at once (the default is 0.5 s)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def service_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh home whose git base holds no repository: every round fetch fails at once."""
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path / "home"))
    (tmp_path / "no-such-host").mkdir()
    monkeypatch.setenv("MLPERF_POWER_GIT_BASE", f"file://{tmp_path / 'no-such-host'}")
    monkeypatch.setenv("MLPERF_POWER_WEBSERVER_URL", "http://dagster.example:3000/")
    monkeypatch.delenv("MLPERF_POWER_ALERT_LOG", raising=False)
    monkeypatch.delenv("MLPERF_POWER_DATASET", raising=False)
    monkeypatch.delenv("MLPERF_POWER_FETCH_RETRIES", raising=False)
    return tmp_path


def _tick(instance: dg.DagsterInstance, cursor: str | None):
    context = dg.build_sensor_context(instance=instance, cursor=cursor)
    return run_failure_alerts.evaluate_tick(context).cursor


def test_a_failed_round_gives_exactly_one_alert_per_failure(service_env, webhook, monkeypatch):
    monkeypatch.setenv("MLPERF_POWER_ALERT_WEBHOOK", webhook.url)
    job = make_definitions().resolve_job_def("tiny_round")
    log = settings.alert_log_path()
    assert log == service_env / "home" / "alerts.log"
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("tiny_rounds", ["v0.6"])
        cursor = _tick(instance, None)  # the daemon's first tick starts the cursor
        assert alerts.read_log(log) == [] and webhook.bodies == []

        first = job.execute_in_process(
            partition_key="v0.6", instance=instance, raise_on_error=False
        )
        assert not first.success
        cursor = _tick(instance, cursor)
        [line] = alerts.read_log(log)
        assert line["run_id"] == first.run_id
        assert (line["suite"], line["round"], line["step"], line["job"]) == (
            "tiny",
            "v0.6",
            "tiny_raw",
            "tiny_round",
        )
        assert line["error"].startswith("FetchError: cannot reach file://")
        assert "tiny_results_v0.6.git" in line["error"] and "\n" not in line["error"]
        assert line["run_url"] == f"http://dagster.example:3000/runs/{first.run_id}"
        assert line["consecutive_failures"] == 1
        assert line["webhook"] == "HTTP 200"
        [body] = webhook.bodies
        assert body["alert"] == {k: v for k, v in line.items() if k not in ("webhook", "logged_at")}
        assert body["text"].startswith("tiny v0.6: run failed at tiny_raw: FetchError:")

        for _ in range(2):  # more ticks, no new failure: nothing new
            cursor = _tick(instance, cursor)
        assert len(alerts.read_log(log)) == 1 and len(webhook.bodies) == 1

        second = job.execute_in_process(
            partition_key="v0.6", instance=instance, raise_on_error=False
        )
        cursor = _tick(instance, cursor)
        cursor = _tick(instance, cursor)
        lines = alerts.read_log(log)
        assert [x["run_id"] for x in lines] == [first.run_id, second.run_id]
        assert lines[1]["consecutive_failures"] == 2
        assert len(webhook.bodies) == 2 and webhook.bodies[1]["alert"]["run_id"] == second.run_id


def test_an_unreachable_webhook_does_not_lose_the_alert(tmp_path):
    hook = Webhook(status=500)
    alert = alerts.Alert(
        "r1", "tiny_round", "tiny", "v0.6", "tiny_raw", "FetchError: x", "u", "t", 1
    )
    try:
        record = alerts.deliver(alert, tmp_path / "a.log", hook.url.replace("/hooks", "//x@/hooks"))
    finally:
        hook.close()
    assert record["webhook"].startswith("failed: webhook at 127.0.0.1:")
    assert "x@" not in record["webhook"]
    assert alerts.read_log(tmp_path / "a.log") == [record]


def test_error_lines_and_links():
    assert alerts.error_line("FetchError", "mlperf_power_dag.download.FetchError: gone\nmore") == (
        "FetchError: gone"
    )
    line = alerts.first_line("\n  https://u:tok@host/x failed \nnext")
    assert line == "https://***@host/x failed"
    assert alerts.suite_of("training_round", {}) == "training"
    assert alerts.suite_of("downstream", {}) is None
    assert alerts.consecutive([True, True, False, True]) == 2
    assert alerts.run_link("http://h:3000/", "abc") == "http://h:3000/runs/abc"


def test_only_network_failures_are_retried():
    assert transient.is_transient(
        "cannot reach https://github.com/mlcommons/x.git (DNS; offline? set ...): fatal"
    )
    assert transient.is_transient("git fetch timed out after 600s for https://github.com/x")
    assert not transient.is_transient(
        "cannot reach file:///m/x.git (no such repository): fatal: does not appear"
    )


@pytest.mark.parametrize(
    ("base", "cause", "retries"),
    [
        # a host that never resolves (.invalid): the network, retried within the run
        ("https://mlperf-power.invalid", "(DNS", 2),
        # no repository there: retrying cannot help
        ("file:///nonexistent-mirror", "(remote not readable)", 0),
    ],
)
def test_network_failures_are_retried_in_the_run_then_alerted_once(
    service_env, base, cause, retries
):
    home = MlperfHome(path=str(service_env / "home"))
    git = GitSource(base=base, retries=2, retry_wait_s=0)
    job = make_definitions(resources={"mlperf_home": home, "git": git}).resolve_job_def(
        "tiny_round"
    )
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("tiny_rounds", ["v0.6"])
        cursor = _tick(instance, None)
        result = job.execute_in_process(
            partition_key="v0.6", instance=instance, raise_on_error=False
        )
        assert not result.success
        retried = [
            e.user_message
            for e in instance.all_logs(result.run_id)
            if "failed on the network, retry" in e.user_message
        ]
        assert len(retried) == retries
        assert [m.split(": ")[1] for m in retried] == [
            f"failed on the network, retry {i} of 2 in 0 s" for i in range(1, retries + 1)
        ]
        _tick(instance, cursor)
        [line] = alerts.read_log(settings.alert_log_path())
        assert line["step"] == "tiny_raw"
        assert f"cannot reach {base}/mlcommons/tiny_results_v0.6.git {cause}" in line["error"]


def test_fetch_retries_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("MLPERF_POWER_FETCH_RETRIES", "3")
    git = resolved(env_resources()["git"])
    assert (git.retries, git.retry_wait_s) == (3, transient.RETRY_WAIT_S)
    monkeypatch.delenv("MLPERF_POWER_FETCH_RETRIES")
    assert resolved(env_resources()["git"]).retries == 0
