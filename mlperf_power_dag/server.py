"""A warm `mlperf-power` process for figures on demand.

`mlperf-power serve` imports Dagster, pandas, pandera and matplotlib once, opens the Dagster
instance, and then takes the `mlperf-power figure` commands of the same home over a Unix
socket (`<home>/serve.sock`), one at a time, streaming their log back. A fresh process spends
about 2.5 s importing those libraries before it draws anything; a served figure does not.

The client side (`request`) imports only the standard library. It hands a command over only
when the server was started from the same code (`code_stamp`) and with the same settings
(`settings.configuration`); otherwise, or when no server runs, the command runs in its own
process as before. Protocol: one JSON line from the client (`argv`, `code`, `config`,
`verbose`), then JSON lines from the server: `{"log": line}` any number of times, and last
`{"exit": code}` or `{"refused": reason}`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import socket
import sys
import sysconfig
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from mlperf_power_dag import settings

SERVED = ("figure",)  # the commands a client hands to a running server
SOCKET_NAME = "serve.sock"
_MAX_SOCKET_PATH = 100  # Unix socket paths are limited to about 104-108 bytes
_PACKAGE = Path(__file__).resolve().parent

log = logging.getLogger("mlperf-power")

LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"

# Runs one command (its arguments) in the server and returns its exit code.
Handler = Callable[[Sequence[str]], int]


class ServerError(RuntimeError):
    """The server cannot start (another one serves the same home, or the socket is unusable)."""


def socket_path(home: Path) -> Path:
    """Where the server of `home` listens: `<home>/serve.sock`, or a name under the temporary
    folder derived from the home when that path is too long for a Unix socket."""
    path = Path(home).absolute() / SOCKET_NAME
    if len(os.fsencode(str(path))) <= _MAX_SOCKET_PATH:
        return path
    digest = hashlib.sha256(os.fsencode(str(path))).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"mlperf-power-{digest}.sock"


def code_stamp(root: Path = _PACKAGE) -> str:
    """Identity of the code a process runs: each module file of the package (path, size,
    modification time), the interpreter, and the state of its site-packages folder (which
    changes when a library is installed or removed)."""
    h = hashlib.sha256(f"{sys.executable}\n{sys.version}\n".encode())
    purelib = sysconfig.get_paths().get("purelib")
    if purelib and os.path.isdir(purelib):
        h.update(f"site {os.stat(purelib).st_mtime_ns}\n".encode())
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                st = os.stat(os.path.join(dirpath, name))
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                h.update(f"{rel} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _send(conn: socket.socket, message: Mapping) -> None:
    conn.sendall((json.dumps(message) + "\n").encode())


def request(
    argv: Sequence[str],
    home: Path,
    *,
    code: str | None = None,
    config: Mapping[str, str | None] | None = None,
    out=None,
) -> int | None:
    """Run `argv` in the server of `home`, its log lines written to `out` (stderr); the exit
    code, or None when no server takes it (none runs, or it runs other code or settings: then
    the reason is written to `out`)."""
    out = out or sys.stderr
    path = socket_path(home)
    if not path.exists():
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(str(path))
    except OSError:  # a socket left behind by a server that is gone
        conn.close()
        return None
    message = {
        "argv": list(argv),
        "code": code if code is not None else code_stamp(),
        "config": dict(config if config is not None else settings.configuration()),
        "verbose": settings.verbose(),
    }
    with conn, conn.makefile("r", encoding="utf-8") as lines:
        try:
            _send(conn, message)
            for line in lines:
                reply = json.loads(line)
                if "log" in reply:
                    print(reply["log"], file=out, flush=True)
                elif "refused" in reply:
                    print(f"mlperf-power serve at {path} did not take the command: "
                          f"{reply['refused']}; running it here", file=out, flush=True)  # fmt: skip
                    return None
                elif "exit" in reply:
                    return int(reply["exit"])
        except KeyboardInterrupt:
            print("interrupted: stopped waiting; the server finishes the command", file=out)
            return 130
        except (OSError, ValueError) as err:  # gone mid-way, or an unreadable reply
            print(f"lost mlperf-power serve at {path}: {err}", file=out)
            return 1
    print(f"mlperf-power serve at {path} stopped before the command ended", file=out)
    return 1


class _Emitter(logging.Handler):
    """Log records of one request, formatted, sent to its client (dropped once it is gone)."""

    def __init__(self, emit: Callable[[str], None], fmt: str) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(logging.Formatter(fmt))
        self._emit = emit

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._emit(self.format(record))
        except Exception:
            self.handleError(record)


def serve(
    home: Path,
    handle: Handler,
    *,
    code: str | None = None,
    config: Mapping[str, str | None] | None = None,
    stop: threading.Event | None = None,
    ready: Callable[[Path], None] | None = None,
) -> int:
    """Take the commands of clients of `home`, one at a time, until `stop` is set or the
    process is interrupted (Ctrl-C, or SIGTERM turned into KeyboardInterrupt); returns 0.

    ServerError when another server already listens for the same home."""
    code = code if code is not None else code_stamp()
    config = dict(config if config is not None else settings.configuration())
    path = socket_path(home)
    listener, inode = _listen(path)
    log.info("serving figures for %s at %s (pid %d); Ctrl-C stops", home, path, os.getpid())
    if ready is not None:
        ready(path)
    served = 0
    try:
        while stop is None or not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                served += _one(conn, handle, code, config)
    except KeyboardInterrupt:
        pass
    finally:
        listener.close()
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_ino == inode:  # not one a later server bound meanwhile
                path.unlink()
        log.info("server stopped after %d command(s)", served)
    return 0


def _listen(path: Path) -> tuple[socket.socket, int]:
    """A socket listening at `path` and the inode of its file."""
    if path.exists():
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # left by a server that is gone
        else:
            raise ServerError(f"another mlperf-power serve already listens at {path}")
        finally:
            probe.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
    except OSError as err:
        listener.close()
        raise ServerError(f"cannot listen at {path}: {err}") from err
    os.chmod(path, 0o600)  # this user's commands only
    listener.listen(8)
    listener.settimeout(0.5)  # to see `stop` between clients
    return listener, path.stat().st_ino


def _one(conn: socket.socket, handle: Handler, code: str, config: Mapping) -> int:
    """Serve one client; 1 when its command ran, 0 when it was refused or unreadable."""
    conn.settimeout(None)
    gone = False

    def emit(line: str) -> None:
        nonlocal gone
        if gone:
            return
        try:
            _send(conn, {"log": line})
        except OSError:
            gone = True

    try:
        with conn.makefile("r", encoding="utf-8") as lines:
            message = json.loads(lines.readline() or "null")
    except (OSError, ValueError):
        return 0
    if not isinstance(message, dict) or not isinstance(message.get("argv"), list):
        _reply(conn, {"refused": "not a request"})
        return 0
    why = _refusal(message, code, config)
    if why:
        log.warning("refused %s: %s", " ".join(map(str, message["argv"])), why)
        _reply(conn, {"refused": why})
        return 0
    argv = [str(a) for a in message["argv"]]
    t0 = time.monotonic()
    handler = _Emitter(emit, LOG_FORMAT)
    root = logging.getLogger()
    root.addHandler(handler)
    log.info("served by mlperf-power serve (pid %d): %s", os.getpid(), " ".join(argv))
    verbose = settings.verbose()
    settings.set_verbose(bool(message.get("verbose")))
    exit_code = 1
    try:
        exit_code = handle(argv)
    except KeyboardInterrupt:
        exit_code = 130
        raise
    except Exception as err:  # the server outlives a failing command
        log.exception("command failed: %s", err)
    finally:
        settings.set_verbose(verbose)
        root.removeHandler(handler)
        _reply(conn, {"exit": exit_code})
        left = " (the client had left)" if gone else ""
        log.info("exit %d in %.1fs%s", exit_code, time.monotonic() - t0, left)
    return 1


def _refusal(message: Mapping, code: str, config: Mapping) -> str | None:
    if not message["argv"] or message["argv"][0] not in SERVED:
        return f"it serves only: {', '.join(SERVED)}"
    if message.get("code") != code:
        return "the code changed since it started (restart `mlperf-power serve`)"
    theirs = message.get("config") or {}
    differ = sorted(k for k in set(config) | set(theirs) if config.get(k) != theirs.get(k))
    if differ:
        return f"it runs with other settings ({', '.join(differ)})"
    return None


def _reply(conn: socket.socket, message: Mapping) -> None:
    with contextlib.suppress(OSError):
        _send(conn, message)
