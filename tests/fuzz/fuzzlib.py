"""Shared pieces of the fuzz suite: real samples read from the mirror, mutators, checks.

Samples come from the bare mirror repositories by `git ls-tree` / `git cat-file` (read-only,
nothing is written there) and are trimmed to a few kilobytes. A mutation draws only small
choices from Hypothesis (an operation, a position, a replacement) through `draw` (a test's
`data.draw`) and applies them to a sample: cases are cheap to generate, shrink to a readable
minimum, and Hypothesis never holds the (up to 1 MB) inputs themselves, which it would keep
a copy of for every case it remembers.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import os
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from mlperf_power_dag.schemas import Problems

# ------------------------------------------------------------------------------ mirror

_GIT_ENV = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}


class Mirror:
    """Read-only access to the bare repositories of the offline mirror."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._trees: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def _git(self, repo: str, *args: str, stdin: bytes | None = None) -> bytes:
        git_dir = self.root / "mlcommons" / f"{repo}.git"
        return subprocess.run(
            ["git", f"--git-dir={git_dir}", *args],
            input=stdin,
            check=True,
            capture_output=True,
            env=_GIT_ENV,
        ).stdout

    def files(self, repo: str, ref: str = "main") -> list[tuple[int, str]]:
        """(size, path) of every blob at `ref`, sorted by path."""
        key = (repo, ref)
        if key not in self._trees:
            out = self._git(repo, "ls-tree", "-r", "-l", "-z", ref)
            rows = []
            for rec in out.split(b"\0"):
                if not rec:
                    continue
                meta, path = rec.split(b"\t", 1)
                size = meta.split()[3]
                if size != b"-":
                    rows.append((int(size), path.decode()))
            self._trees[key] = sorted(rows, key=lambda r: r[1])
        return self._trees[key]

    def pick(
        self,
        repo: str,
        pattern: str,
        n: int,
        ref: str = "main",
        min_bytes: int = 1,
        max_bytes: int = 200_000,
    ) -> list[str]:
        """Up to `n` paths matching `pattern`, spread evenly over the sorted matches."""
        hits = [p for s, p in self.files(repo, ref) if fnmatch(p, pattern)]
        sized = dict((p, s) for s, p in self.files(repo, ref))
        hits = [p for p in hits if min_bytes <= sized[p] <= max_bytes]
        if len(hits) <= n:
            return hits
        step = len(hits) / n
        return [hits[int(i * step)] for i in range(n)]

    def read(self, repo: str, paths: Iterable[str], ref: str = "main") -> dict[str, bytes]:
        """The contents of `paths` at `ref` (one `git cat-file --batch` call)."""
        paths = list(paths)
        if not paths:
            return {}
        out = self._git(
            repo, "cat-file", "--batch", stdin="".join(f"{ref}:{p}\n" for p in paths).encode()
        )
        blobs: dict[str, bytes] = {}
        pos = 0
        for p in paths:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            size = int(header[2])
            blobs[p] = out[nl + 1 : nl + 1 + size]
            pos = nl + 1 + size + 1
        return blobs


# --------------------------------------------------------------------------- mutators

HUGE_DIGITS = "9" * 5000
# Longest mutated text: inputs stay bounded (about 1 MB) whatever the operations compound to.
MAX_CASE_CHARS = 1_000_000
# Replacements for a number (or any token) in text formats.
TEXT_EXTREMES = [
    "inf",
    "-inf",
    "nan",
    "Infinity",
    "1e308",
    "-1e308",
    "1e309",
    "-1e294",
    "5e-324",
    "1e-320",
    "0",
    "-0",
    "-1",
    "0.0",
    HUGE_DIGITS,
    "9" * 400,
    "9" * 25,
    "-" + "9" * 30,
    "18446744073709551616",
    "9223372036854775808",
    "1,234.5",
    "1,2,3",
    "1.2.3",
    "0x1F",
    "\u0661\u0662",
    "",
    " ",
    "null",
    "true",
    "[]",
    "{}",
    '"',
    "x" * 5000,
]
# Replacements for a value in JSON documents.
JSON_EXTREMES: list[Any] = [
    math.inf,
    -math.inf,
    math.nan,
    1e308,
    -1e308,
    -1e294,
    5e-324,
    0,
    0.0,
    -1,
    -0.5,
    10**400,
    2**70,
    2**63,
    -(2**63) - 1,
    "",
    "inf",
    "1e999",
    "-1",
    " 8 ",
    "8.0",
    "9" * 5000,
    "x" * 5000,
    True,
    False,
    None,
    [],
    {},
    [1, 2],
    {"value": None},
]
_NUMBER_CHARS = set("0123456789.-+eE,")


def _number_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of digits (with signs, dots, exponents, commas)."""
    spans = []
    i, n = 0, len(text)
    while i < n:
        if "0" <= text[i] <= "9":
            j = i + 1
            while j < n and text[j] in _NUMBER_CHARS:
                j += 1
            spans.append((i, j))
            i = j
        else:
            i += 1
    return spans


def _deep(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


Draw = Callable[[st.SearchStrategy], Any]


def pick(draw: Draw, items: list) -> Any:
    """One of `items`, drawn by index (the item itself is never a drawn value)."""
    return items[draw(st.integers(0, len(items) - 1))]


def mutated_text(draw: Draw, sample: str, max_ops: int = 3) -> str:
    """`sample` after 1 to `max_ops` text mutations (numbers swapped for extremes, lines
    deleted, repeated or swapped, huge or odd tokens inserted, truncation, byte noise)."""
    text = sample
    for _ in range(draw(st.integers(1, max_ops))):
        op = draw(
            st.sampled_from(
                [
                    "number",
                    "number",
                    "number",
                    "delete_lines",
                    "repeat_line",
                    "swap_lines",
                    "insert",
                    "truncate",
                    "noise",
                    "deep",
                ]
            )
        )
        lines = text.splitlines(keepends=True)
        if op == "number":
            spans = _number_spans(text)
            if spans:
                a, b = spans[draw(st.integers(0, len(spans) - 1))]
                text = text[:a] + pick(draw, TEXT_EXTREMES) + text[b:]
        elif op == "delete_lines" and lines:
            a = draw(st.integers(0, len(lines) - 1))
            b = draw(st.integers(a, min(len(lines), a + 5)))
            text = "".join(lines[:a] + lines[b:])
        elif op == "repeat_line" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            times = draw(st.sampled_from([2, 3, 50])) if len(lines[i]) < 1000 else 2
            text = "".join(lines[:i] + [lines[i]] * times + lines[i:])
        elif op == "swap_lines" and len(lines) > 1:
            i = draw(st.integers(0, len(lines) - 2))
            j = draw(st.integers(i + 1, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "".join(lines)
        elif op == "insert":
            pos = draw(st.integers(0, len(text)))
            if draw(st.booleans()):
                token = pick(draw, [*TEXT_EXTREMES, " " * 10000, "\x00", "\r", "\n" * 3])
            else:
                token = draw(st.text(max_size=20))
            text = text[:pos] + token + text[pos:]
        elif op == "truncate" and text:
            text = text[: draw(st.integers(0, len(text) - 1))]
        elif op == "noise" and text:
            for _ in range(draw(st.integers(1, 5))):
                pos = draw(st.integers(0, len(text) - 1))
                text = text[:pos] + draw(st.characters()) + text[pos + 1 :]
        elif op == "deep":
            pos = draw(st.integers(0, len(text)))
            text = text[:pos] + _deep(draw(st.sampled_from([50, 2000, 100_000]))) + text[pos:]
        text = text[:MAX_CASE_CHARS]
    return text


def _paths(obj: Any, prefix: tuple = ()) -> list[tuple]:
    """Paths (keys / indices) to every node of a decoded JSON document."""
    out = [prefix]
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            out += _paths(v, (*prefix, i))
    return out


def _get(obj: Any, path: tuple) -> Any:
    for k in path:
        obj = obj[k]
    return obj


def mutated_json(draw: Draw, sample: Any, max_ops: int = 3, raw: bool = True) -> str:
    """A JSON document after 1 to `max_ops` structural mutations (a value replaced by an
    extreme or a value of another type, a key deleted, a node duplicated, a subtree nested
    deeply), serialized (NaN/Infinity allowed), sometimes followed by a text mutation."""
    obj = json.loads(json.dumps(sample))
    deep_at: list[tuple] = []
    for _ in range(draw(st.integers(1, max_ops))):
        paths = _paths(obj)
        path = paths[draw(st.integers(0, len(paths) - 1))]
        op = draw(st.sampled_from(["replace", "replace", "replace", "delete", "dup", "deep"]))
        if not path:  # the root
            if op == "replace":
                obj = copy.deepcopy(pick(draw, JSON_EXTREMES))
            continue
        parent, key = _get(obj, path[:-1]), path[-1]
        if op == "replace":  # a copy: the extremes are shared between cases
            parent[key] = copy.deepcopy(pick(draw, JSON_EXTREMES))
        elif op == "delete":
            del parent[key]
        elif op == "dup" and isinstance(parent, list):
            parent.insert(key, json.loads(json.dumps(parent[key])))
        elif op == "deep":
            parent[key] = "\x00DEEP\x00"
            deep_at.append(path)
    text = json.dumps(obj)
    while '"\\u0000DEEP\\u0000"' in text:
        depth = draw(st.sampled_from([30, 900, 100_000]))
        text = text.replace('"\\u0000DEEP\\u0000"', _deep(depth), 1)
    if raw and draw(st.integers(0, 4)) == 0:
        text = mutated_text(draw, text, max_ops=1)
    return text


# ---------------------------------------------------------------------------- checks

# Cases run per test (pytest node id), reported at the end of the session (conftest.py).
CASES: Counter[str] = Counter()
# The slowest case of each test: (CPU seconds, wall-clock seconds).
SLOWEST: dict[str, tuple[float, float]] = {}
# A case may take this much CPU time: the work a case costs, whatever else runs on the machine.
CASE_CPU_S = 2.0
# A case taking this long by the clock fails as a hang (Hypothesis' deadline).
HANG_S = 10.0


def counted(fn: Callable) -> Callable:
    """Count and time each call of a fuzz case (put it between @given and the function); a
    case over `CASE_CPU_S` of CPU time fails."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        test = os.environ.get("PYTEST_CURRENT_TEST", "?").rsplit(" ", 1)[0]
        CASES[test] += 1
        c0, t0 = time.process_time(), time.perf_counter()
        result = fn(*args, **kwargs)
        cpu, wall = time.process_time() - c0, time.perf_counter() - t0
        old = SLOWEST.get(test, (0.0, 0.0))
        SLOWEST[test] = (max(old[0], cpu), max(old[1], wall))
        assert cpu < CASE_CPU_S, f"a case took {cpu:.2f} s of CPU time (over {CASE_CPU_S} s)"
        return result

    return wrapper


def fuzz_settings(examples: int, long: bool) -> Callable:
    """Hypothesis settings of one fuzz test: `examples` cases, each under `CASE_CPU_S` of CPU
    time (see `counted`) and `HANG_S` by the clock."""
    return settings(
        max_examples=examples,
        deadline=HANG_S * 1000,
        database=None,
        derandomize=not long,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
        print_blob=True,
    )


def assert_finite_frame(df: pd.DataFrame) -> None:
    """No +-inf (or NaN that is not a null) in any numeric column."""
    for c in df.columns:
        if pd.api.types.is_float_dtype(df[c]) or pd.api.types.is_integer_dtype(df[c]):
            vals = pd.to_numeric(df[c], errors="coerce").dropna().to_numpy(dtype=float)
            assert all(math.isfinite(v) for v in vals), f"non-finite value in {c}"


def assert_problems_ok(problems: pd.DataFrame) -> None:
    """A valid problems frame whose messages are short and quote no huge input token."""
    Problems.validate(problems)
    for msg in problems["message"]:
        assert len(msg) <= 2500, f"problem message of {len(msg)} characters"
        assert "9" * 100 not in msg and "x" * 100 not in msg, "input quoted in a message"


def assert_finite_numbers(obj: Any, where: str = "") -> None:
    """Every float reachable in a parser's result (dataclasses, lists, dicts) is finite."""
    if isinstance(obj, float):
        assert math.isfinite(obj), f"non-finite value at {where or 'top'}"
    elif isinstance(obj, dict):
        for k, v in obj.items():
            assert_finite_numbers(v, f"{where}.{k}")
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            assert_finite_numbers(v, f"{where}[{i}]")
    elif hasattr(obj, "__dataclass_fields__"):
        for k in obj.__dataclass_fields__:
            assert_finite_numbers(getattr(obj, k), f"{where}.{k}")


def write_tree(root: Path, files: dict[str, bytes | str]) -> None:
    """Write `files` (relative path -> content) under `root`."""
    for rel, content in files.items():
        p = Path(root) / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8", errors="surrogatepass")
        p.write_bytes(content)


COMMIT = "0123456789abcdef0123456789abcdef01234567"


def check_round(table: Any) -> None:
    """A reader's RoundTable: finite numbers, valid problems with short messages."""
    assert_finite_frame(table.results)
    assert_problems_ok(table.problems)


def mutated_mllog(draw: Draw, sample: str) -> str:
    """An MLLOG (`:::MLLOG {json}` lines) after text mutations, or with one line's JSON
    changed structurally (see `mutated_json`)."""
    lines = sample.splitlines(keepends=True)
    if not lines or draw(st.booleans()):
        return mutated_text(draw, sample)
    i = draw(st.integers(0, len(lines) - 1))
    head, _, body = lines[i].partition(":::MLLOG ")
    try:
        obj = json.loads(body)
    except ValueError:
        return mutated_text(draw, sample)
    lines[i] = f"{head}:::MLLOG {mutated_json(draw, obj, raw=False)}\n"
    return "".join(lines)
