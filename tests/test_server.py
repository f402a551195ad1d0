"""`mlperf-power serve`: a warm process takes the `figure` commands of its home, and only those
whose code and settings it shares; anything else runs in the command's own process."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from mlperf_power_dag import server, settings

CONFIG = {"MLPERF_POWER_HOME": "/h", "MLPERF_POWER_GIT_BASE": None}
log = logging.getLogger("mlperf-power")


@pytest.fixture
def serving(tmp_path, caplog):
    """Start a server for tmp_path/home in a thread with `handle`; stop it at the end."""
    caplog.set_level(logging.INFO, logger="mlperf-power")
    started: list[tuple[threading.Thread, threading.Event]] = []

    def start(handle, home: Path | None = None, code: str = "code-1") -> Path:
        home = home or tmp_path / "home"
        stop, ready = threading.Event(), threading.Event()
        thread = threading.Thread(
            target=server.serve,
            args=(home, handle),
            kwargs={"code": code, "config": CONFIG, "stop": stop, "ready": lambda _: ready.set()},
            daemon=True,
        )
        thread.start()
        assert ready.wait(10)
        started.append((thread, stop))
        return home

    yield start
    for thread, stop in started:
        stop.set()
        thread.join(10)
        assert not thread.is_alive()


def ask(home: Path, argv: list[str], code: str = "code-1", config=None) -> tuple[int | None, str]:
    out = io.StringIO()
    got = server.request(argv, home, code=code, config=config or CONFIG, out=out)
    return got, out.getvalue()


def test_without_a_server_the_command_runs_here(tmp_path):
    assert ask(tmp_path, ["figure", "fig5a"]) == (None, "")


def test_a_served_command_streams_its_log_and_returns_its_exit_code(serving, monkeypatch):
    seen: list[tuple[list[str], bool]] = []

    def handle(argv):
        seen.append((list(argv), settings.verbose()))
        log.info("drawing %s", argv[1])
        return 3

    home = serving(handle)
    monkeypatch.setenv(settings.VERBOSE_VAR, "1")
    code, out = ask(home, ["figure", "fig5a"])
    assert code == 3
    assert seen == [(["figure", "fig5a"], True)]
    lines = out.splitlines()
    assert f"served by mlperf-power serve (pid {os.getpid()}): figure fig5a" in lines[0]
    assert lines[1].endswith("mlperf-power INFO drawing fig5a") and len(lines) == 2
    monkeypatch.delenv(settings.VERBOSE_VAR)
    assert ask(home, ["figure", "fig2"])[0] == 3 and seen[-1] == (["figure", "fig2"], False)


@pytest.mark.parametrize(
    ("argv", "code", "config", "why"),
    [
        (["figure", "fig1"], "code-2", CONFIG, "the code changed since it started"),
        (["figure", "fig1"], "code-1", {**CONFIG, "MLPERF_POWER_GIT_BASE": "file:///m"},
         "other settings (MLPERF_POWER_GIT_BASE)"),
        (["build"], "code-1", CONFIG, "it serves only: figure"),
    ],
    ids=["code", "settings", "command"],
)  # fmt: skip
def test_other_code_settings_or_commands_are_refused_and_run_here(serving, argv, code, config, why):
    calls = []
    home = serving(lambda a: calls.append(a) or 0)
    got, out = ask(home, argv, code=code, config=config)
    assert got is None and calls == []
    assert why in out and out.strip().endswith("running it here")
    code, out = ask(home, ["figure", "fig1"])
    assert code == 0 and "served by" in out and calls == [["figure", "fig1"]]


def test_a_failing_command_or_a_client_that_leaves_does_not_stop_the_server(serving):
    def handle(argv):
        if argv[1] == "boom":
            raise RuntimeError("no such table")
        time.sleep(0.2)
        log.info("drawn %s", argv[1])
        return 0

    home = serving(handle)
    code, out = ask(home, ["figure", "boom"])
    assert code == 1 and "command failed: no such table" in out
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gone:  # asks, then leaves
        gone.connect(str(server.socket_path(home)))
        message = {"argv": ["figure", "x"], "code": "code-1", "config": CONFIG}
        gone.sendall((json.dumps(message) + "\n").encode())
    code, out = ask(home, ["figure", "fig9"])
    assert code == 0 and out.splitlines()[-1].endswith("drawn fig9")


def test_a_server_that_dies_mid_command_or_answers_garbage_is_an_error(tmp_path):
    """The command fails with a line saying so (exit 1), not a traceback or a hang."""
    path = server.socket_path(tmp_path)
    for reply in (b'{"log": "drawing"}\n', b"not json\n"):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(str(path))
        listener.listen(1)

        def answer_once(listener=listener, reply=reply):
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(reply)  # then closes: no exit line

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        code, out = ask(tmp_path, ["figure", "fig1"])
        thread.join(10)
        listener.close()
        path.unlink()
        assert code == 1
        if reply.startswith(b"{"):
            assert out.splitlines() == ["drawing", f"mlperf-power serve at {path} stopped "
                                        "before the command ended"]  # fmt: skip
        else:
            assert out.startswith(f"lost mlperf-power serve at {path}: ")


def test_one_server_per_home_and_a_dead_servers_socket_is_replaced(serving, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(server.socket_path(home)))  # bound, never listening, its file left behind
    dead.close()
    assert ask(home, ["figure", "fig1"]) == (None, "")
    serving(lambda a: 0, home=home)
    assert ask(home, ["figure", "fig1"])[0] == 0
    assert os.stat(server.socket_path(home)).st_mode & 0o777 == 0o600  # this user only
    with pytest.raises(server.ServerError, match="already listens"):
        server.serve(home, lambda a: 0, code="code-1", config=CONFIG)


def test_a_long_home_gets_its_socket_under_the_temporary_folder(tmp_path):
    home = tmp_path / ("h" * 120)
    path = server.socket_path(home)
    assert path.parent == Path(tempfile.gettempdir())
    assert path == server.socket_path(home) != server.socket_path(tmp_path / ("g" * 120))
    assert server.socket_path(tmp_path) == tmp_path / "serve.sock"


def test_the_code_stamp_follows_the_module_files(tmp_path):
    (tmp_path / "pkg").mkdir()
    module = tmp_path / "pkg" / "a.py"
    module.write_text("x = 1\n")
    (tmp_path / "pkg" / "data.csv").write_text("not code\n")
    first = server.code_stamp(tmp_path)
    assert server.code_stamp(tmp_path) == first
    (tmp_path / "pkg" / "data.csv").write_text("other\n")
    assert server.code_stamp(tmp_path) == first
    module.write_text("x = 2\n")
    os.utime(module, ns=(0, 10**18))
    assert server.code_stamp(tmp_path) != first


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLPERF_POWER", "DAGSTER"))}
    env.update(MLPERF_POWER_HOME=str(home), MLPERF_POWER_GIT_BASE="file:///nowhere")
    return env


def test_served_figure_end_to_end(built, tmp_path):
    """On a built home: `mlperf-power serve` started as a shell's background job (SIGINT
    ignored), `figure` is served and recorded as a Dagster run, `--no-server` runs here, and
    SIGTERM stops the server after its runs."""
    import dagster as dg

    home = tmp_path / "home"
    shutil.copytree(built["home"], home, ignore=shutil.ignore_patterns("cache", "*.sock"))
    env = _env(home)
    before = len(_fig5a_runs(home))
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlperf_power_dag", "serve"],
        env=env, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not server.socket_path(home).exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        png = home / "figures" / "fig5a.png"
        cmd = [sys.executable, "-m", "mlperf_power_dag", "figure", "fig5a"]
        served = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert served.returncode == 0, served.stderr
        assert f"served by mlperf-power serve (pid {proc.pid}): figure fig5a" in served.stderr
        assert "fig5a: done in" in served.stderr and png.stat().st_size > 10_000
        here = subprocess.run([*cmd, "--no-server"], env=env, capture_output=True, text=True)
        assert here.returncode == 0 and "served by" not in here.stderr
        assert "fig5a: done in" in here.stderr
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "server stopped after 1 command(s)" in err
    assert not server.socket_path(home).exists()
    runs = _fig5a_runs(home)
    assert len(runs) == before + 2
    assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs[:2])  # newest first


def _fig5a_runs(home: Path) -> list:
    """The runs that materialized fig5a, newest first."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(home / "dagster")) as inst:
        records = inst.fetch_materializations(dg.AssetKey("fig5a"), limit=1000).records
        return [inst.get_run_by_id(r.run_id) for r in records]
