"""MLPerf Training result and power logs (MLLOG), scored the way MLCommons scores them.

One benchmark folder of a training submission (``results/<system>/<benchmark>/``) holds
``result_*.txt`` (one MLLOG per run), optionally ``scaling.json`` and, for a power result,
``power/<result>/node_*.txt`` (power readings of each node) and ``sw_*.txt`` (interconnect).
`score_benchmark_folder` turns such a folder into the numbers of the MLCommons results table,
with everything that decides a number taken from the installed ``mlperf-logging``
(``mlperf_logging.result_summarizer``, its compliance checker and MLLOG parser):

- a run counts if its result log passes the compliance check of the round's ruleset
  (``4.0.0`` for v4.0, usage ``training``); a run that fails it is dropped and counted;
- time to train = ``run_stop - run_start`` of the result log;
- node energy of a run = the summarizer's ``_compute_power_node``: power readings integrated
  over the node's measurement window, scaled to the run's time to train, times
  ``conversion_eff``; interconnect energy = ``_compute_power_sw``: ``interconnect_power_est``
  W x time to train (an estimate, not a measurement); both summed over the run's files;
- the folder's score is the summarizer's olympic average (``_compute_olympic_average``; at
  most 1 non-converged run, 4 for unet3d, and the dropped runs stand for the worst ones),
  energy averaged over the same runs ordered by time to train (``_index_olympic_average``),
  both times the ``scaling.json`` factor (``_get_scaling_factor``).

Compute and interconnect energy are averaged separately over the same runs, so they add up
to the total (which is averaged exactly as the summarizer does) up to rounding.

One narrow patch. ``mlperf-logging`` 4.1.68 (since mlcommons/logging PR #378, Aug 2024)
divides by zero on node logs whose ``power_measurement_stop`` has the same timestamp as
``power_measurement_start`` (v4.0: every single-node SMC folder and the 8x resnet, 8x ssd and
9x unet3d ones), and returns a silent zero when the stop lies before the start. Such logs are
scored with ``_compute_power_node`` as it was in May 2024, the code that scored v4.0
(`_may2024_power_node`: lines in file order, readings integrated from the start line to
the stop line, a stop not after the start replaced by the last reading, PR #372), each
flagged. All other logs go through the installed release; on them the two versions agree
(every such v4.0 log has its readings in time order). This reproduces the energies MLCommons
published for v4.0 (tests/test_training.py).

Duplicated runs are scored as the summarizer scores them: v4.0 SMC ``dlrm_dcnv2`` holds each
of its 5 runs twice (``result_*_NN.txt`` and ``result_*_raw_NN.txt``) and the published value
averages all 10; they are flagged ``duplicate_runs``.

Bad input never raises and never becomes a silent zero: it is returned as `Issue`s (kind,
file, message), and an energy that cannot be computed stays ``None``.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import io
import json
import logging
import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import CodeType

import numpy as np
import yaml
from mlperf_logging.benchmark_meta import get_allowed_benchmarks, get_result_file_counts
from mlperf_logging.compliance_checker import mlp_compliance
from mlperf_logging.compliance_checker.mlp_parser import parse_file, ruleset_400, ruleset_410
from mlperf_logging.result_summarizer import result_summarizer as rs

from mlperf_power_dag.parsers.files import FileRefused, RoundFiles
from mlperf_power_dag.parsers.guards import ParseError, brief

USAGE = "training"

SKIPPED, FLAGGED = "skipped", "flagged"

# Result and power logs are read within the caps of `mlperf_power_dag.limits`
# (`training_result`, `training_power`): mlperf-logging's own `parse_file` strips every line
# with `re.sub(".*:::MLLOG ", ...)`, quadratic in the line's length (a 200,000-character line
# takes 40 s); `read_mllog_file` does not, and the line cap bounds what any line may cost.

# The summarizer's own limit (inline in `_compute_strong_score_standalone`): runs that may
# fail before a result has no score.
_MAX_DROPPED_UNET3D, _MAX_DROPPED = 4, 1


def ruleset_for(version: str) -> str:
    """The mlperf-logging ruleset of a training round: ``v4.0`` -> ``4.0.0``.

    Raises ValueError if the installed mlperf-logging has no compliance rules for it.
    """
    m = re.fullmatch(r"v(\d+)\.(\d+)", version)
    if not m:
        raise ValueError(f"not an MLPerf version: {version!r}")
    ruleset = f"{m.group(1)}.{m.group(2)}.0"
    if ruleset not in mlp_compliance.rule_choices():
        raise ValueError(f"mlperf-logging has no {USAGE} ruleset {ruleset} (round {version})")
    return ruleset


def max_dropped_runs(benchmark: str) -> int:
    """How many runs of a benchmark may fail (the summarizer's olympic rule)."""
    return _MAX_DROPPED_UNET3D if benchmark == "unet3d" else _MAX_DROPPED


def allowed_benchmarks(ruleset: str) -> list[str]:
    """Benchmark folder names mlperf-logging knows for a training ruleset."""
    return list(get_allowed_benchmarks(USAGE, ruleset))


def expected_runs(benchmark: str) -> int | None:
    """Number of result files a submission must have for a benchmark (None if unknown)."""
    return get_result_file_counts(USAGE).get(benchmark)


@dataclass(frozen=True)
class Issue:
    """Something wrong or worth a look in one file or folder."""

    kind: str
    path: str
    message: str
    severity: str = FLAGGED


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence mlperf-logging's prints and root-logger warnings (the issues carry them)."""

    class _DropAll(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            return False

    root = logging.getLogger()
    drop = _DropAll()
    root.addFilter(drop)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            yield
    finally:
        root.removeFilter(drop)


# ---------------------------------------------------------------- MLLOG files

# mlperf-logging's parser modules whose `parse_file` is `read_mllog_file` below, line for line.
_PARSERS = {"4.0.0": ruleset_400, "4.1.0": ruleset_410}

# An MLLOG line as the power meters' and training harnesses' loggers print it. In a text of
# printable ASCII and newlines, such a line whose strings have no backslash is a JSON object
# with these members, hence valid, as soon as its value and metadata are valid JSON on their
# own (checked by the pattern, else decoded apart). `time_ms` is left to the slow path when
# negative or longer than 18 digits, where float() of its text and of its JSON value differ.
# Most lines are power readings of one exact form, matched first. Any other value ends at the
# first `, "metadata":` (linear in the line; a lazy `.*?` there retried the greedy metadata
# group at every later occurrence, quadratic in the line); a line that does not fit goes to
# mlperf-logging's decoder.
_NUM = r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_INT18 = r"(?:0|[1-9][0-9]{0,17})"
_TIME_MS = _INT18 + r"(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?"
_STD_LINE = re.compile(
    r'(?:(:::MLLOG \{"namespace": "", "time_ms": (' + _INT18 + r'), "event_type": '
    r'"POINT_IN_TIME", "key": "power_reading", "value": (' + _INT18 + r'), "metadata": ""\})'
    r'|(:::MLLOG \{"namespace": ?"[^"\\]*", ?"time_ms": ?(' + _TIME_MS + r'), ?'
    r'"event_type": ?"[^"\\]*", ?"key": ?"([^"\\]*)", ?"value": ?'
    r'(?:(' + _NUM + r')|("[^"\\]*")|(null|true|false)|((?:(?!, ?"metadata": ?).)*)), ?'
    r'"metadata": ?(?:("[^"\\]*")|(\{.*\}))\})) *$',
    re.MULTILINE,
)  # fmt: skip
_LITERALS = {"null": None, "true": True, "false": False}


_SCAN = json.JSONDecoder().scan_once  # what json.loads runs, without its wrappers


def _json_value(text: str) -> object:
    """``json.loads(text)`` of a text that does not start or end with whitespace."""
    try:
        value, end = _SCAN(text, 0)
    except StopIteration:
        raise ValueError("not JSON") from None
    if end != len(text):
        raise ValueError("extra data")
    return value


def _std_logline(make, groups: tuple[str, ...], lineno: int):
    """The LogLine of a line matched by `_STD_LINE` (groups), or None to decode it whole."""
    reading, reading_ms, watts = groups[:3]
    if reading:
        meta = {"value": int(watts), "metadata": ""}
        return make(reading, float(reading_ms), "power_reading", meta, lineno)
    full, time_ms, key, number, string, literal, other, m_str, m_other = groups[3:]
    if "\n" in full:
        return None  # a string running on past its line
    value: object
    meta: object
    try:
        if number:
            if "." in number or "e" in number or "E" in number:
                value = float(number)
            else:
                value = int(number)
        elif string:
            value = string[1:-1]
        elif literal:
            value = _LITERALS[literal]
        else:
            value = _json_value(other)
        meta = m_str[1:-1] if m_str else _json_value(m_other)
    except ValueError:
        return None  # e.g. a repeated member
    return make(full, float(time_ms), key, {"value": value, "metadata": meta}, lineno)


def _printable_ascii(text: str) -> bool:
    """Whether `text` holds only printable ASCII characters and newlines."""
    if not text.isascii():
        return False
    raw = np.frombuffer(text.encode("ascii"), np.uint8)
    return not ((raw < 32) & (raw != 10)).any()


def read_mllog_file(
    path: Path | str, ruleset: str, decode: Callable[[int, str], object] | None = None
) -> tuple[list, list]:
    """What mlperf-logging's ``parse_file(path, ruleset)`` returns: (LogLines, failed lines).

    Equal LogLine objects, in a fraction of the time. A line not of the standard form is
    decoded by `decode(lineno, line)` (default: the ruleset's own ``string_to_logline``).
    """
    # parse_file cuts each line up to its last `:::MLLOG ` with re.sub(".*:::MLLOG ", ...),
    # which rescans the rest of the line at every position (quadratic in its length), then
    # decodes the line as JSON. Here str.rfind finds the same place, lines of the standard
    # form are read by one pattern (a whole file at once when they all are) and any other
    # line goes to mlperf-logging's own string_to_logline.
    module = _PARSERS.get(ruleset)
    if module is None:
        return parse_file(str(path), ruleset=ruleset)
    with open(path, encoding="latin-1") as f:  # as parse_file opens it (newlines translated)
        text = f.read()
    with _gc_paused():  # many small objects, none in a cycle: collecting meanwhile is waste
        return _read_mllog_text(text, module, decode)


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """Hold the cyclic garbage collector off while the block runs (refcounting still frees)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_mllog_text(
    text: str, module, decode: Callable[[int, str], object] | None = None
) -> tuple[list, list]:
    """`read_mllog_file` of the text of a file."""
    token, make = module.TOKEN, module.LogLine
    decode = decode or module.string_to_logline
    clean = _printable_ascii(text)  # else lines split and strip on more than newlines
    marked = text.count(token)
    if clean and marked == text.count("\n" + token) + text.startswith(token):
        found = _STD_LINE.findall(text)  # every marker starts its line: one pattern
        if len(found) == marked:
            loglines = [_std_logline(make, g, i) for i, g in enumerate(found)]
            if not any(ll is None for ll in loglines):
                return loglines, []
    loglines, failed = [], []
    lineno = 0
    for piece in [x for x in text.split("\n") if token in x]:
        line = (token + piece[piece.rfind(token) + len(token) :]).strip()
        m = _STD_LINE.fullmatch(line) if clean else None
        ll = _std_logline(make, m.groups(), lineno) if m is not None else None
        if ll is not None:
            loglines.append(ll)
        else:
            try:
                loglines.append(decode(lineno, line))
            except ValueError as e:
                failed.append((line, str(e)))
        lineno += 1
    return loglines, failed


class _ParsedOnce:
    """`yaml` as mlp_compliance uses it, with each rule file parsed once per process."""

    # The checker parses its YAML rules anew for every log; they are package data, so a
    # parsed copy (by file, size and mtime; deep-copied out) serves every later log.

    def __init__(self) -> None:
        self._cache: dict[tuple, object] = {}

    def __getattr__(self, name: str) -> object:
        return getattr(yaml, name)

    def load(self, stream, Loader):
        try:
            st = os.fstat(stream.fileno())
        except (AttributeError, OSError, ValueError):
            return yaml.load(stream, Loader=Loader)
        key = (stream.name, st.st_size, st.st_mtime_ns, Loader)
        if key not in self._cache:
            self._cache[key] = yaml.load(stream, Loader=Loader)
        return copy.deepcopy(self._cache[key])


_YAML = _ParsedOnce()
_CODE: dict[tuple[str, str], CodeType] = {}


def _compiled(source: object, mode: str) -> object:
    """`source` compiled as the builtin eval/exec compile it, once per text."""
    if not isinstance(source, str):
        return source
    if mode == "eval":
        source = source.lstrip(" \t")  # as the builtin eval does
    code = _CODE.get((source, mode))
    if code is None:
        code = compile(source, "<string>", mode, dont_inherit=True)
        _CODE[(source, mode)] = code
    return code


def _eval(source, globs=None, locs=None):
    return eval(_compiled(source, "eval"), globs, locs)


def _exec(source, globs=None, locs=None):
    return exec(_compiled(source, "exec"), globs, locs)


_RULES_LOCK = threading.Lock()


@contextlib.contextmanager
def _rules_parsed_once() -> Iterator[None]:
    """mlp_compliance with its YAML rules parsed and its checks compiled once per process."""
    # The checker loads its rules for every log and compiles every check each time it
    # evaluates it; they are fixed texts, so one parse and one compilation give the same
    # verdicts.
    with _RULES_LOCK:
        mlp_compliance.yaml = _YAML
        mlp_compliance.eval = _eval
        mlp_compliance.exec = _exec
        try:
            yield
        finally:
            mlp_compliance.yaml = yaml
            del mlp_compliance.eval, mlp_compliance.exec


def _compliance_valid(loglines: list, failed: list, ruleset: str) -> tuple[bool, list[str]]:
    """(valid, messages) of ``mlp_compliance.main`` for a log, from its parsed lines."""
    # main() parses the file itself in check_file; this is the rest of check_file.
    checker = mlp_compliance.make_checker(usage=USAGE, ruleset=ruleset, quiet=True, werror=False)
    if failed:
        checker.put_message("Log lines had parsing errors.")
    with _rules_parsed_once():
        checker.check_loglines(list(loglines), f"{USAGE}_{ruleset}/common.yaml")
    return not checker.has_messages(), _checker_messages(checker)


# ---------------------------------------------------------------- result logs


def _cause(e: BaseException) -> str:
    """An error of mlperf-logging or of a file's values, for a message that quotes no input:
    the message of our own typed errors, the missing key of a KeyError, else the type."""
    if isinstance(e, (ParseError, ZeroDivisionError)):
        return str(e)
    if isinstance(e, KeyError) and e.args:
        return f"KeyError {str(e.args[0])[:40]!r}"
    return type(e).__name__


def _read_log(path: Path, ruleset: str, kind: str, files: RoundFiles | None) -> tuple[list, list]:
    """`read_mllog_file` of a log read through `files` (default: its own folder) within the
    caps of `kind`; `FileRefused` if it is over them."""
    rf = files if files is not None else RoundFiles(Path(path).parent)
    data = rf.read(path, kind)
    module = _PARSERS.get(ruleset)
    if module is None:
        return parse_file(str(path), ruleset=ruleset)
    # as parse_file opens it: latin-1, newlines translated
    text = data.decode("latin-1").replace("\r\n", "\n").replace("\r", "\n")
    del data
    with _gc_paused():
        return _read_mllog_text(text, module)


class ResultLogError(ParseError):
    """A result log that does not count as a run (the summarizer drops it)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class RunLog:
    """One result log that passed the compliance check."""

    path: Path
    run_start_ms: float
    run_stop_ms: float

    @property
    def time_to_train_ms(self) -> float:
        return self.run_stop_ms - self.run_start_ms

    @property
    def minutes(self) -> float:
        return self.time_to_train_ms / 60 / 1000


def _checker_messages(checker: mlp_compliance.ComplianceChecker) -> list[str]:
    return [*checker.overwritable.values(), *checker.not_overwritable]


def _run_stop_status(loglines: Sequence) -> str | None:
    for ll in loglines:
        if ll.key == "run_stop":
            meta = ll.value.get("metadata") if isinstance(ll.value, dict) else None
            return meta.get("status") if isinstance(meta, dict) else None
    return None


def read_result_log(path: Path, ruleset: str, files: RoundFiles | None = None) -> RunLog:
    """Check a result log the way the summarizer does and return its run start and stop.

    Raises `ResultLogError` (kind ``not_converged``: ``run_stop`` status is not success;
    ``compliance_failed``: any other failed check; ``parse_error``; ``no_run_times``; or the
    kind of a `FileRefused`, e.g. ``file_too_large``) for a log the summarizer would drop or
    that is not read. `files` reads the log (default: its own folder).
    """
    name = Path(path).name
    try:
        with _quiet():
            loglines, failed = _read_log(path, ruleset, "training_result", files)
            valid, msgs = _compliance_valid(loglines, failed, ruleset)
    except FileRefused as e:
        raise ResultLogError(e.kind, str(e)) from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ResultLogError("parse_error", f"{name}: cannot be read ({_cause(e)})") from e
    except Exception as e:  # mlperf-logging on malformed input: any failure drops the run
        raise ResultLogError("parse_error", f"{name}: cannot be read ({_cause(e)})") from e
    if not valid:
        status = _run_stop_status(loglines)
        if status is not None and status != "success":
            raise ResultLogError(
                "not_converged", f"{name}: run_stop status {brief(status)}; run dropped"
            )
        first = (msgs[0].strip().splitlines() or ["no message"])[0][:200] if msgs else "no message"
        raise ResultLogError(
            "compliance_failed", f"{name}: fails the {ruleset} compliance check ({first})"
        )
    if failed:
        raise ResultLogError("parse_error", f"{name}: {len(failed)} unparsable MLLOG lines")
    try:
        start, stop = rs._query_run_start_stop(loglines)
    except ValueError as e:
        raise ResultLogError("no_run_times", f"{name}: {e}") from e
    except Exception as e:
        raise ResultLogError("no_run_times", f"{name}: {_cause(e)}") from e
    if not (math.isfinite(start) and math.isfinite(stop)):
        raise ResultLogError("no_run_times", f"{name}: run_start or run_stop is not finite")
    return RunLog(Path(path), start, stop)


# ---------------------------------------------------------------- power logs


@dataclass(frozen=True)
class PowerLog:
    """Energy of one node or switch log over a run."""

    path: Path
    energy_j: float | None  # None: cannot be computed (see issues)
    measurement_type: str | None = None  # AC/DC, from conversion_eff's metadata
    issues: tuple[Issue, ...] = ()
    readings_energy_j: float | None = None  # switch logs: what its readings would add


def _parse_power_log(
    path: Path, ruleset: str, issues: list[Issue], files: RoundFiles | None = None
) -> list:
    loglines, failed = _read_log(path, ruleset, "training_power", files)
    if failed:
        issues.append(
            Issue(
                "unparsed_power_lines",
                str(path),
                f"{path.name}: {len(failed)} lines are not MLLOG and were ignored",
            )
        )
    return loglines


def _measurement_type(loglines: Sequence) -> str | None:
    for ll in loglines:
        if ll.key == "conversion_eff" and isinstance(ll.value.get("metadata"), dict):
            kind = ll.value["metadata"].get("measurement_type")
            if isinstance(kind, str) and kind.strip():
                return kind.strip().upper()
    return None


def _may2024_power_node(loglines: Sequence, time_to_train_ms: float) -> float:
    """``_compute_power_node`` as it scored v4.0 (mlperf-logging before PR #378, May 2024).

    The lines are taken in file order; readings are integrated from the start line up to the
    stop line; a stop that is missing or not after the start is replaced by the last reading
    (PR #372). Reconstructed from the diff of PR #378; used only for logs the current release
    cannot score. One difference: readings before the start line are ignored (the old code
    integrated them from t = 0; no published log has any).
    """
    start = prev = stop = None
    last, agg, eff = 0.0, 0.0, 1.0
    for ll in loglines:
        if ll.key == "power_measurement_start":
            start = prev = ll.timestamp
        elif ll.key == "power_reading" and start is not None:
            agg += ll.value["value"] * (ll.timestamp - prev)
            prev = ll.timestamp
            last = max(last, ll.timestamp)
        elif ll.key == "power_measurement_stop" and start is not None:
            stop = ll.timestamp
            break
        elif ll.key == "conversion_eff":
            eff = ll.value["value"]
    if start is None:
        raise ValueError("Power start timestamp not found")
    if stop is None or stop <= start:
        stop = last
    return eff * agg * time_to_train_ms / (stop - start) / 1000


def _node_energy(
    loglines: list, time_to_train_ms: float, path: Path
) -> tuple[float | None, list[Issue]]:
    """Node energy by mlperf-logging; the May-2024 rule where its stop is not after start."""
    issues: list[Issue] = []
    starts: list[float] = []
    stops: list[float] = []
    for ll in loglines:
        if ll.key == "power_measurement_start":
            starts.append(ll.timestamp)
        elif ll.key == "power_measurement_stop":
            stops.append(ll.timestamp)
    if not starts:
        issues.append(
            Issue(
                "no_power_start",
                str(path),
                f"{path.name}: no power_measurement_start; its energy cannot be computed",
            )
        )
        return None, issues
    start = max(starts)  # _compute_power_node keeps the last start (in time order)
    legacy = bool(stops) and max(stops) <= start
    if legacy:
        same = max(stops) == start
        readings = [ll.timestamp for ll in loglines if ll.key == "power_reading"]
        unordered = sum(1 for a, b in zip(readings, readings[1:], strict=False) if b < a)
        issues.append(
            Issue(
                "power_stop_equals_start" if same else "power_stop_before_start",
                str(path),
                f"{path.name}: power_measurement_stop {'equals' if same else 'precedes'} "
                "power_measurement_start; scored as by the summarizer that scored v4.0 "
                "(window ends at the last reading); mlperf-logging 4.1.68 "
                + ("divides by zero" if same else "returns 0"),
            )
        )
        if unordered:
            issues.append(
                Issue(
                    "readings_out_of_order",
                    str(path),
                    f"{path.name}: {unordered} power readings earlier than the one before; "
                    "integrated in file order, as the summarizer that scored v4.0 did",
                )
            )
        first = next(i for i, ll in enumerate(loglines) if ll.key == "power_measurement_start")
        in_window = any(ll.key == "power_reading" for ll in loglines[first:])
    else:
        if not stops:
            issues.append(
                Issue(
                    "no_power_stop",
                    str(path),
                    f"{path.name}: no power_measurement_stop; window ends at the last reading",
                )
            )
        end = max(stops) if stops else float("inf")
        in_window = any(
            ll.key == "power_reading" and start <= ll.timestamp <= end for ll in loglines
        )
    if not in_window:
        issues.append(
            Issue(
                "no_power_readings",
                str(path),
                f"{path.name}: no power_reading inside the measurement window",
            )
        )
        return None, issues
    try:
        with _quiet():
            if legacy:
                energy = _may2024_power_node(loglines, time_to_train_ms)
            else:  # the current release; it sorts the lines in place, so give it a copy
                energy = rs._compute_power_node(list(loglines), time_to_train_ms)
    except (ValueError, ZeroDivisionError, TypeError, KeyError) as e:
        issues.append(Issue("bad_power_log", str(path), f"{path.name}: {_cause(e)}"))
        return None, issues
    except Exception as e:  # e.g. OverflowError of a reading too large for a float
        issues.append(Issue("bad_power_log", str(path), f"{path.name}: {_cause(e)}"))
        return None, issues
    return _finite_energy(energy, path, issues), issues


def _finite_energy(energy: object, path: Path, issues: list[Issue]) -> float | None:
    """`energy` as a float if it is finite; else None and a `bad_power_log` issue."""
    try:
        value = float(energy)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if math.isfinite(value):
        return value
    issues.append(Issue("bad_power_log", str(path), f"{path.name}: energy is not finite"))
    return None


def node_energy(
    path: Path, time_to_train_ms: float, ruleset: str, files: RoundFiles | None = None
) -> PowerLog:
    """Energy (J) of one node over a run of `time_to_train_ms`, as the summarizer computes it.

    `files` reads the log (default: its own folder)."""
    path = Path(path)
    issues: list[Issue] = []
    try:
        loglines = _parse_power_log(path, ruleset, issues, files)
    except FileRefused as e:
        return PowerLog(path, None, None, (Issue(e.kind, str(path), str(e)),))
    except OSError as e:
        return PowerLog(path, None, None, (Issue("bad_power_log", str(path), f"{e}"),))
    except Exception as e:  # mlperf-logging's parser on malformed lines (KeyError, ...)
        return PowerLog(path, None, None, (_unparsable(path, e),))
    energy, more = _node_energy(loglines, time_to_train_ms, path)
    return PowerLog(path, energy, _measurement_type(loglines), tuple(issues + more))


def _unparsable(path: Path, e: Exception) -> Issue:
    return Issue("bad_power_log", str(path), f"{path.name}: cannot be parsed ({_cause(e)})")


def switch_energy(
    path: Path, time_to_train_ms: float, ruleset: str, files: RoundFiles | None = None
) -> PowerLog:
    """Interconnect energy (J) of one switch log over a run, as the summarizer computes it.

    Only ``interconnect_power_est`` counts. A switch log that holds measured readings instead
    (v4.1 Dell) counts zero, as in the summarizer; it is flagged, and `readings_energy_j`
    says what the readings would add if integrated like a node log. `files` reads the log
    (default: its own folder).
    """
    path = Path(path)
    issues: list[Issue] = []
    try:
        loglines = _parse_power_log(path, ruleset, issues, files)
    except FileRefused as e:
        return PowerLog(path, None, None, (Issue(e.kind, str(path), str(e)),))
    except OSError as e:
        return PowerLog(path, None, None, (Issue("bad_power_log", str(path), f"{e}"),))
    except Exception as e:  # mlperf-logging's parser on malformed lines (KeyError, ...)
        return PowerLog(path, None, None, (_unparsable(path, e),))
    try:
        with _quiet():
            energy = _finite_energy(
                rs._compute_power_sw(list(loglines), time_to_train_ms), path, issues
            )
    except Exception as e:  # a value of the wrong type or size
        issues.append(Issue("bad_power_log", str(path), f"{path.name}: {_cause(e)}"))
        energy = None
    has_estimate = any(ll.key == "interconnect_power_est" for ll in loglines)
    readings_energy = None
    if not has_estimate:
        if any(ll.key == "power_reading" for ll in loglines):
            readings_energy, _ = _node_energy(loglines, time_to_train_ms, path)
            issues.append(
                Issue(
                    "switch_readings_not_counted",
                    str(path),
                    f"{path.name}: measured power_reading lines but no interconnect_power_est;"
                    " the summarizer counts 0 J for this switch",
                )
            )
        else:
            issues.append(
                Issue(
                    "no_interconnect_estimate",
                    str(path),
                    f"{path.name}: no interconnect_power_est; counts 0 J",
                )
            )
    return PowerLog(path, energy, _measurement_type(loglines), tuple(issues), readings_energy)


# ---------------------------------------------------------------- one benchmark folder


@dataclass
class Run:
    """One result file of a benchmark folder and what became of it."""

    path: Path
    log: RunLog | None = None
    dropped: str | None = None  # kind of the reason, if the summarizer drops it
    compute_j: float | None = None
    interconnect_j: float | None = None
    switch_readings_j: float | None = None  # energy of switch readings not counted
    nodes: int = 0
    switches: int = 0

    @property
    def energy_j(self) -> float | None:
        if self.compute_j is None or self.interconnect_j is None:
            return None
        return self.compute_j + self.interconnect_j


@dataclass
class FolderScore:
    """The summarizer's numbers for one benchmark folder, and the issues met."""

    folder: Path
    benchmark: str
    has_power: bool
    runs: list[Run] = field(default_factory=list)
    scaling_factor: float | None = None
    time_to_train_min: float | None = None
    energy_j: float | None = None
    compute_energy_j: float | None = None
    interconnect_energy_j: float | None = None
    switch_readings_energy_j: float | None = None  # olympic avg of uncounted switch readings
    runs_used: int | None = None
    measurement_types: frozenset[str] = frozenset()
    issues: list[Issue] = field(default_factory=list)

    @property
    def runs_dropped(self) -> int:
        return sum(1 for r in self.runs if r.dropped)

    @property
    def scored(self) -> bool:
        return self.time_to_train_min is not None


def _scaling_factor(folder: Path, issues: list[Issue], files: RoundFiles) -> float | None:
    path = folder / "scaling.json"
    if os.path.lexists(path):
        try:
            files.check(path, "scaling_json")
        except (FileRefused, OSError) as e:
            issues.append(Issue(getattr(e, "kind", "bad_scaling_json"), str(path), str(e), SKIPPED))
            return None
    try:
        with _quiet():
            factor = float(rs._get_scaling_factor(str(folder)))
    except (json.JSONDecodeError, OSError) as e:
        issues.append(
            Issue(
                "bad_scaling_json",
                str(folder / "scaling.json"),
                f"scaling.json cannot be read ({type(e).__name__}: {e})",
                SKIPPED,
            )
        )
        return None
    except Exception as e:  # a missing key, a value of the wrong type or size, deep nesting
        issues.append(
            Issue(
                "bad_scaling_json",
                str(folder / "scaling.json"),
                f"scaling.json cannot be read ({_cause(e)})",
                SKIPPED,
            )
        )
        return None
    if not math.isfinite(factor) or factor <= 0:
        issues.append(
            Issue("bad_scaling_json", str(folder / "scaling.json"), f"factor {factor}", SKIPPED)
        )
        return None
    return factor


def _run_power(
    run: Run, folder: Path, ruleset: str, issues: list[Issue], types: set[str], files: RoundFiles
) -> None:
    """Fill a counted run's node and interconnect energy (None where unknown)."""
    assert run.log is not None
    name = run.path.name.split(".")[0]  # the summarizer's result name
    power_dir = folder / "power" / name
    node_files = sorted(power_dir.glob("node_*.txt"))
    sw_files = sorted(power_dir.glob("sw_*.txt"))
    run.nodes, run.switches = len(node_files), len(sw_files)
    ttt = run.log.time_to_train_ms
    if not node_files:
        issues.append(
            Issue(
                "no_node_logs",
                str(power_dir),
                f"{run.path.name}: no power/{name}/node_*.txt; its energy is unknown",
            )
        )
        return
    compute: float | None = 0.0
    for f in node_files:
        log = node_energy(f, ttt, ruleset, files)
        issues.extend(log.issues)
        if log.measurement_type:
            types.add(log.measurement_type)
        compute = None if compute is None or log.energy_j is None else compute + log.energy_j
    interconnect: float | None = 0.0
    readings = 0.0
    for f in sw_files:
        log = switch_energy(f, ttt, ruleset, files)
        issues.extend(log.issues)
        if log.energy_j is None:
            interconnect = None
        elif interconnect is not None:
            interconnect += log.energy_j
        readings += log.readings_energy_j or 0.0
    run.compute_j, run.interconnect_j = compute, interconnect
    run.switch_readings_j = readings if readings else None


def _merge(issues: list[Issue], folder: Path) -> list[Issue]:
    """One issue per (kind, severity) of a folder: the first message and how many files."""
    out: list[Issue] = []
    groups: dict[tuple[str, str], list[Issue]] = {}
    for i in issues:
        groups.setdefault((i.kind, i.severity), []).append(i)
    for (kind, severity), group in groups.items():
        if len(group) == 1 or severity == SKIPPED:
            out.extend(group)
            continue
        first = group[0]
        parent = Path(first.path).parent
        prefix = "" if parent == folder else f"{parent.name}/"
        out.append(
            Issue(kind, str(folder), f"{len(group)} files, e.g. {prefix}{first.message}", severity)
        )
    return out


def _olympic(
    values: list[float], minutes: list[float], dropped: int, max_dropped: int
) -> float | None:
    index = [i for i, _ in sorted(enumerate(minutes), key=lambda x: x[1])]
    return rs._index_olympic_average(values, index, dropped, max_dropped)


def score_benchmark_folder(
    folder: Path, ruleset: str, nodes: int | None = None, files: RoundFiles | None = None
) -> FolderScore:
    """Score one ``results/<system>/<benchmark>`` folder as the result summarizer does.

    `nodes` (from the system description) is used only to check the node logs and to tell
    a single-node system (which needs no switch logs) from one whose switch logs are
    missing. Issues name files by their path; the caller makes them relative. `files` reads
    the logs (default: within the folder).
    """
    folder = Path(folder)
    files = files if files is not None else RoundFiles(folder)
    benchmark = folder.name
    score = FolderScore(folder, benchmark, has_power=(folder / "power").is_dir())
    issues: list[Issue] = []
    result_files = sorted(folder.glob("result_*.txt"))
    if not result_files:
        score.issues.append(Issue("no_result_files", str(folder), "no result_*.txt", SKIPPED))
        return score

    seen: dict[tuple[float, float], Path] = {}
    for path in result_files:
        run = Run(path)
        score.runs.append(run)
        try:
            run.log = read_result_log(path, ruleset, files)
        except ResultLogError as e:
            run.dropped = e.kind
            issues.append(Issue(e.kind, str(path), str(e), SKIPPED))
            continue
        key = (run.log.run_start_ms, run.log.run_stop_ms)
        if key in seen:
            issues.append(
                Issue(
                    "duplicate_runs",
                    str(path),
                    f"{path.name} repeats the run of {seen[key].name} (same run_start and "
                    "run_stop); the summarizer counts both, and so does this table",
                )
            )
        else:
            seen[key] = path

    expected = expected_runs(benchmark)
    if expected is not None and len(result_files) != expected:
        issues.append(
            Issue(
                "unexpected_run_count",
                str(folder),
                f"{len(result_files)} result files; {benchmark} requires {expected}",
            )
        )

    types: set[str] = set()
    counted = [r for r in score.runs if r.log is not None]
    if score.has_power:
        for run in counted:
            _run_power(run, folder, ruleset, issues, types, files)
    score.measurement_types = frozenset(types)

    dropped = score.runs_dropped
    max_dropped = max_dropped_runs(benchmark)
    if dropped > max_dropped:
        issues.append(
            Issue(
                "too_many_dropped_runs",
                str(folder),
                f"{dropped} of {len(score.runs)} runs dropped (at most {max_dropped} allowed): "
                "the summarizer gives no score",
                SKIPPED,
            )
        )
        score.issues = _merge(issues, folder)
        return score

    scaling = _scaling_factor(folder, issues, files)
    minutes = [r.log.minutes for r in counted]  # type: ignore[union-attr]
    olympic_time = rs._compute_olympic_average(list(minutes), dropped, max_dropped)
    if olympic_time is None or scaling is None:
        if olympic_time is None:
            issues.append(
                Issue(
                    "too_few_runs",
                    str(folder),
                    f"{len(counted)} counted runs leave none after the olympic drop",
                    SKIPPED,
                )
            )
        score.issues = _merge(issues, folder)
        return score
    score.scaling_factor = scaling
    score.time_to_train_min = olympic_time * scaling
    score.runs_used = len(minutes[max_dropped : len(minutes) - (max_dropped - dropped)])

    if score.has_power:
        if all(r.energy_j is not None for r in counted):
            total = _olympic([r.energy_j for r in counted], minutes, dropped, max_dropped)
            comp = _olympic([r.compute_j for r in counted], minutes, dropped, max_dropped)
            inter = _olympic([r.interconnect_j for r in counted], minutes, dropped, max_dropped)
            score.energy_j = total * scaling
            score.compute_energy_j = comp * scaling
            score.interconnect_energy_j = inter * scaling
            if any(r.switch_readings_j for r in counted):
                extra = [r.switch_readings_j or 0.0 for r in counted]
                score.switch_readings_energy_j = (
                    _olympic(extra, minutes, dropped, max_dropped) * scaling
                )
        else:
            unknown = sum(1 for r in counted if r.energy_j is None)
            issues.append(
                Issue(
                    "energy_unknown",
                    str(folder),
                    f"energy of {unknown} of {len(counted)} counted runs cannot be computed; "
                    "the result's energy is left empty",
                )
            )
        multi = nodes is None or nodes > 1
        no_sw = [r for r in counted if r.nodes and not r.switches]
        if no_sw and (multi or len(no_sw) < len(counted)):
            issues.append(
                Issue(
                    "no_switch_logs",
                    str(folder),
                    f"{len(no_sw)} of {len(counted)} runs have no sw_*.txt: interconnect "
                    "counts 0 J for them",
                )
            )
        if nodes is not None:
            off = sorted({r.nodes for r in counted if r.nodes and r.nodes != nodes})
            if off:
                issues.append(
                    Issue(
                        "node_count_mismatch",
                        str(folder),
                        f"runs have {', '.join(map(str, off))} node logs; the system "
                        f"description says {nodes} nodes",
                    )
                )
    score.issues = _merge(issues, folder)
    if score.switch_readings_energy_j and score.energy_j:
        for i, issue in enumerate(score.issues):
            if issue.kind == "switch_readings_not_counted":
                share = score.switch_readings_energy_j / score.energy_j
                score.issues[i] = Issue(
                    issue.kind,
                    issue.path,
                    f"{issue.message}; counting the readings would add "
                    f"{score.switch_readings_energy_j:,.0f} J ({share:.1%})",
                    issue.severity,
                )
    return score
