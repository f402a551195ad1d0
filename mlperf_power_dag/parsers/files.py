"""Opening the input files of one round: only regular files inside the round's folder, within
the caps of their kind (`mlperf_power_dag.limits`).

Checkouts are made with `core.symlinks=false`, but the pipeline may be pointed at any local
folder, so every read goes through `RoundFiles`: a symbolic link is not followed, a file whose
folder resolves outside the round's root is not opened, a file over its size cap is refused
from its `lstat` size before it is opened, and one with a line over the line cap is refused
after it is read. A refusal is a `FileRefused` (a `ParseError`) whose `kind` names the
problem; its message names the file by its path in the round and never quotes the file.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import BinaryIO

from mlperf_power_dag import limits as limits_mod
from mlperf_power_dag.limits import Limit, Limits
from mlperf_power_dag.parsers.guards import ParseError

# Problem kinds of a refused file.
REFUSED_KINDS = frozenset(
    {"symlinked_file", "outside_root", "not_a_file", "file_too_large", "line_too_long"}
)
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class FileRefused(ParseError):
    """A file the readers do not read; `kind` is the problem kind (see `REFUSED_KINDS`)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def _mb(n: int) -> str:
    return f"{n / (1 << 20):,.1f} MiB" if n >= 1 << 20 else f"{n:,} bytes"


def longest_line_over(data: bytes, max_line: int) -> bool:
    """Whether some line of `data` (bytes between newlines) is longer than `max_line` bytes.

    Looks at the last newline in each window of `max_line + 1` bytes, so it takes about
    len(data) / max_line steps.
    """
    pos, n = 0, len(data)
    while n - pos > max_line:
        nl = data.rfind(b"\n", pos, pos + max_line + 1)
        if nl < 0:
            return True
        pos = nl + 1
    return False


def check_lines(data: bytes, limit: Limit, kind: str, name: str) -> None:
    """`FileRefused` (`line_too_long`) if a line of `data` is over the line cap of `limit`."""
    if limit.max_line is not None and longest_line_over(data, limit.max_line):
        raise FileRefused(
            "line_too_long",
            f"{name}: a line longer than the {kind} cap of {_mb(limit.max_line)}; not read",
        )


class RoundFiles:
    """The files of one round's folder `root`, read within the caps of `limits`
    (default: `limits.current()`)."""

    def __init__(self, root: Path | str, limits: Limits | None = None):
        self.root = Path(os.path.abspath(root))
        self.limits = limits if limits is not None else limits_mod.current()
        self._root = str(self.root)
        self._prefix = self._root.rstrip(os.sep) + os.sep
        self._real_root = os.path.realpath(self._root)
        self._real_prefix = self._real_root.rstrip(os.sep) + os.sep
        self._inside: set[str] = set()  # folders whose files were found inside the root

    def _path(self, path: Path | str) -> str:
        p = os.fspath(path)
        if p.startswith(self._prefix) and "/." not in p and "//" not in p:
            return p  # absolute and normal already (the common case: paths from a walk)
        return os.path.abspath(os.path.join(self._root, p))

    def rel(self, path: Path | str) -> str:
        """`path` relative to the root (posix), or its name if it is not below the root."""
        p = self._path(path)
        if not p.startswith(self._prefix):
            return os.path.basename(p)
        return Path(p[len(self._prefix) :]).as_posix()

    def _resolves_inside(self, path: str) -> bool:
        real = os.path.realpath(path)
        return real == self._real_root or real.startswith(self._real_prefix)

    def _fd_inside(self, fd: int, p: str) -> bool:
        """Whether the open file `fd` (opened as `p`) lies inside the root: its path as the
        kernel resolved it where /proc shows it, else `p` resolved again. Once a file of a
        folder is inside, so are the folder's other files (opened without following links)."""
        folder = os.path.dirname(p)
        if folder in self._inside:
            return True
        try:
            real = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            ok = self._resolves_inside(p)
        else:
            ok = real.startswith(self._real_prefix)
        if ok:
            self._inside.add(folder)
        return ok

    def _check(self, p: str, kind: str, limit: Limit) -> None:
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            raise FileRefused("symlinked_file", f"{self.rel(p)}: a symbolic link; not followed")
        if not stat.S_ISREG(st.st_mode):
            raise FileRefused("not_a_file", f"{self.rel(p)}: not a regular file; not read")
        if st.st_size > limit.max_bytes:
            raise FileRefused(
                "file_too_large",
                f"{self.rel(p)}: {_mb(st.st_size)}, over the {kind} cap of "
                f"{_mb(limit.max_bytes)}; not read",
            )

    def check(self, path: Path | str, kind: str) -> None:
        """`FileRefused` unless the file at `path` may be read as `kind` (see the module
        docstring); OSError if it cannot be looked at (e.g. it does not exist)."""
        p = self._path(path)
        self._check(p, kind, self.limits.of(kind))
        if not self._resolves_inside(p):
            raise FileRefused(
                "outside_root", f"{self.rel(p)}: resolves outside the round's folder; not read"
            )

    def _open(self, p: str, kind: str, limit: Limit) -> BinaryIO:
        """`p` opened after `_check` (not following a link), if it lies inside the root."""
        self._check(p, kind, limit)
        try:
            fd = os.open(p, _OPEN_FLAGS)
        except OSError:
            if os.path.islink(p):  # replaced by a link since the check
                raise FileRefused("symlinked_file", f"{self.rel(p)}: a symbolic link") from None
            raise
        f = io.FileIO(fd, "rb")
        if not self._fd_inside(fd, p):
            f.close()
            raise FileRefused(
                "outside_root", f"{self.rel(p)}: resolves outside the round's folder; not read"
            )
        return f

    def open(self, path: Path | str, kind: str) -> BinaryIO:
        """The file at `path` opened for binary reading (unbuffered), after `check`; the
        caller closes it. Its line cap is not checked here (see `check_lines`)."""
        p = self._path(path)
        limit = self.limits.of(kind)
        f = self._open(p, kind, limit)
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit.max_bytes:
            f.close()
            raise FileRefused("file_too_large", f"{self.rel(p)}: changed while opened; not read")
        return f

    def read(self, path: Path | str, kind: str) -> bytes:
        """The bytes of the file at `path`, a file of `kind` within its caps; else
        `FileRefused` (OSError if it cannot be read)."""
        p = self._path(path)
        limit = self.limits.of(kind)
        with self._open(p, kind, limit) as f:
            data = f.read()
        if len(data) > limit.max_bytes:
            raise FileRefused("file_too_large", f"{self.rel(p)}: grew past the {kind} cap")
        if limit.max_line is not None and len(data) > limit.max_line:
            check_lines(data, limit, kind, self.rel(p))
        return data

    def read_text(self, path: Path | str, kind: str, encoding: str = "utf-8") -> str:
        """`read` decoded (undecodable bytes replaced)."""
        return self.read(path, kind).decode(encoding, errors="replace")


def read_file(path: Path | str, kind: str, root: Path | str | None = None) -> bytes:
    """The bytes of one file of `kind` within its caps, read as `RoundFiles(root)` reads it
    (`root` defaults to the file's own folder)."""
    root = root if root is not None else os.path.dirname(os.path.abspath(path))
    return RoundFiles(root).read(path, kind)
