"""Parsers for the MLPerf Tiny runner outputs: results.txt per mode, raw logs, results.json.

Formats covered (all rounds v0.5 to v1.3):

- the EEMBC runner summaries (`results.txt`, `<mode>_results.txt`): timestamped
  `ulp-ml:` / `ulp-mlperf:` lines with per-window energy, power and throughput and a
  `Median ... is` line;
- the v1.3 Python runner: the "Power Edition Output" energy text (per-trial elapsed time,
  inferences, power in mW, total energy, energy per inference), an indented performance
  text, the streaming wake word summary (duty cycle, estimated throughput, detections);
- the raw EEMBC runner session log (`log.txt`, `<mode>_log.txt`), the only performance
  record of some v0.5 submissions: windows delimited by `m-infer-start-<n>` and
  `m-infer-done` with `m-lap-us-<us>` timer laps;
- v1.3 `results.json`: per-trial energy samples (joules per 1 ms sample) and event
  timestamps, and per-window performance throughputs.

Every parser is pure (text or decoded JSON in, dataclass out) and never raises on bad
content: what it cannot read is returned as `Issue`s for the caller to report. Values it
returns are finite; counts and indices longer than 19 digits count as unreadable.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from mlperf_power_dag.parsers.guards import brief, finite, small_int

# A number as the runners print it, optionally with thousands separators ("1,234.5").
# (Written so that no two ways of matching the same text exist: linear on long digit runs.)
_NUM = r"[-+]?(?:\d[\d,]*\.\d+|\d(?:[\d,]*\d)?|\.\d+)(?:[eE][-+]?\d+)?"
_PLAIN_NUM = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_GROUPED_NUM = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")

# Energy-run sampling rate of the v1.3 runner's LPM01A / JS220 power managers (samples/s);
# `print_energy_results(..., energy_sampling_freq=1000)` in mlcommons/tiny benchmark/runner.
POWER_EDITION_SAMPLE_HZ = 1000.0

# Minimum measured time of a performance or energy window required by the runner rules.
MIN_WINDOW_SECONDS = 10.0

# Runner ERROR lines are passed on cut to this length.
MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class Issue:
    """Something a parser could not read cleanly; `kind` is short and machine-readable."""

    kind: str
    message: str


@dataclass(frozen=True)
class ParsedNumber:
    value: float | None
    grouped: bool = False  # written with thousands separators


def parse_number(text: str) -> ParsedNumber:
    """A runner number: plain ("1234.5", "1e-3") or with thousands separators ("1,234.5").

    Anything else (decimal commas, stray characters) gives value None.
    """
    s = text.strip()
    if _PLAIN_NUM.match(s):
        v = float(s)
        return ParsedNumber(v if math.isfinite(v) else None)
    if _GROUPED_NUM.match(s):
        v = float(s.replace(",", ""))
        return ParsedNumber(v if math.isfinite(v) else None, grouped=True)
    return ParsedNumber(None)


def decimals(text: str) -> int:
    """Digits after the decimal point of a printed number ("6.036" -> 3)."""
    s = text.strip()
    return len(s.split(".", 1)[1]) if "." in s else 0


def median_or_none(values: Sequence[float]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


@dataclass
class Window:
    """One measured window (classic runner) or trial (v1.3 runner)."""

    index: int
    inferences: int | None = None
    seconds: float | None = None
    throughput_ips: float | None = None
    energy_uj: float | None = None
    power_w: float | None = None
    energy_per_inference_uj: float | None = None
    runtime_met: bool | None = None  # None: the file gives no verdict
    decimals: int | None = None  # printed precision of the window's headline value

    @property
    def is_energy_complete(self) -> bool:
        return self.energy_per_inference_uj is not None

    @property
    def is_perf_complete(self) -> bool:
        return self.throughput_ips is not None


@dataclass
class StreamingSummary:
    """The v1.3 streaming wake word block (performance and energy runs)."""

    true_positives: int | None = None
    false_negatives: int | None = None
    false_positives: int | None = None
    duty_cycle: float | None = None
    period_s: float | None = None
    estimated_throughput_ips: float | None = None


@dataclass
class PerformanceRun:
    """A performance-mode result: per-window throughputs and the printed median."""

    fmt: str  # "runner", "power_edition", "runner_log", "streaming"
    windows: list[Window] = field(default_factory=list)
    median_ips: float | None = None  # as printed
    median_decimals: int | None = None
    streaming: StreamingSummary | None = None
    issues: list[Issue] = field(default_factory=list)

    @property
    def recomputed_median_ips(self) -> float | None:
        return median_or_none([w.throughput_ips for w in self.windows if w.is_perf_complete])

    @property
    def throughput_ips(self) -> float | None:
        """The printed median, else the median of the windows, else the streaming estimate."""
        if self.median_ips is not None:
            return self.median_ips
        if self.recomputed_median_ips is not None:
            return self.recomputed_median_ips
        return self.streaming.estimated_throughput_ips if self.streaming else None

    @property
    def windows_below_minimum(self) -> int:
        return sum(1 for w in self.windows if w.runtime_met is False)


@dataclass
class EnergyRun:
    """An energy-mode result: per-window energy and power, the printed median energy."""

    fmt: str  # "runner" or "power_edition"
    windows: list[Window] = field(default_factory=list)
    median_uj: float | None = None  # "Median energy cost is X uJ/inf." as printed
    median_decimals: int | None = None
    # The energy run's own throughput printout (classic runner); not the headline throughput.
    perf_windows: list[Window] = field(default_factory=list)
    median_ips: float | None = None
    streaming: StreamingSummary | None = None
    runner_errors: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)

    @property
    def recomputed_median_uj(self) -> float | None:
        return median_or_none(
            [w.energy_per_inference_uj for w in self.windows if w.is_energy_complete]
        )

    @property
    def energy_per_inference_uj(self) -> float | None:
        """The printed median, else the median of the complete windows."""
        return self.median_uj if self.median_uj is not None else self.recomputed_median_uj

    @property
    def power_w(self) -> float | None:
        """Median over the windows of the analyzer's average power (W) during each window.

        Windows without a logged power but with energy and duration use energy / duration.
        """
        vals = []
        for w in self.windows:
            if w.power_w is not None:
                vals.append(w.power_w)
            elif w.energy_uj is not None and w.seconds:
                vals.append(w.energy_uj * 1e-6 / w.seconds)
        return median_or_none(vals)

    @property
    def windows_below_minimum(self) -> int:
        """Energy windows (or their throughput windows) flagged as too short by the runner."""
        own = sum(1 for w in self.windows if w.runtime_met is False)
        perf = sum(1 for w in self.perf_windows if w.runtime_met is False)
        return max(own, perf)


@dataclass
class AccuracyResult:
    """Accuracy-mode summary: top-1 (%) and AUC, or streaming detection counts."""

    top1_pct: float | None = None
    auc: float | None = None
    streaming: StreamingSummary | None = None
    issues: list[Issue] = field(default_factory=list)


# --------------------------------------------------------------------------- lines

_PREFIX = re.compile(r"^\s*(?:\d+\.\d+\s*)?(?:ulp-ml(?:perf)?:)?")
_NOISE = (
    re.compile(r"^-{5,}$"),
    re.compile(r"^Cannot compute accuracy metrics in single-run mode\.?$"),
    re.compile(r"^Power Edition Output$"),
    re.compile(r"^m-results\s*:.*$"),
)


def split_lines(text: str) -> tuple[list[str], int]:
    """Lines with the timestamp/`ulp-ml:` prefix removed, consecutive exact repeats dropped.

    Returns (lines, number of dropped repeats). Some submissions logged every line two or
    five times; the repeats carry the same timestamp, so they are the same output line.
    """
    out: list[str] = []
    raw_prev: str | None = None
    repeats = 0
    for raw in text.splitlines():
        if raw.strip() == "":
            raw_prev = None
            continue
        if raw == raw_prev:
            repeats += 1
            continue
        raw_prev = raw
        m = _PREFIX.match(raw)
        out.append(raw[m.end() :].strip() if m else raw.strip())
    return out, repeats


def _is_noise(body: str) -> bool:
    return any(p.match(body) for p in _NOISE)


class _Numbers:
    """Collects parse failures and thousands-separator uses while reading values."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []
        self.grouped: list[str] = []

    def get(self, text: str, line: str) -> float | None:
        p = parse_number(text)
        if p.value is None:
            self.issues.append(
                Issue("unparseable_value", f"cannot read {brief(text, 40)} in {brief(line)}")
            )
        elif p.grouped:
            self.grouped.append(text)
        return p.value

    def count(self, text: str, line: str) -> int | None:
        """A count or index written as digits (None, with an issue, if it is too long)."""
        n = small_int(text)
        if n is None:
            self.issues.append(
                Issue("unparseable_value", f"cannot read {brief(text, 40)} in {brief(line)}")
            )
        return n

    def finish(self) -> list[Issue]:
        if self.grouped:
            shown = ", ".join(brief(g, 40) for g in self.grouped[:3])
            self.issues.append(
                Issue(
                    "thousands_separator",
                    f"{len(self.grouped)} value(s) written with thousands separators ({shown})",
                )
            )
        return self.issues


_ENERGY_WINDOW = re.compile(
    rf"^Energy data for window (\d+)(?: at time ({_NUM}))?(?: for (?P<secs>{_NUM}) sec\.?)?:?$"
)
_ENERGY_TRIAL = re.compile(r"^Energy data for trial (\d+):?$")
_ENERGY = re.compile(r"^Energy\s*:\s*(?P<v>\S+)\s*uJ\.?$")
_TOTAL_ENERGY = re.compile(r"^Total Energy\s*:\s*(?P<v>\S+)\s*uJ\.?$")
_POWER = re.compile(r"^Power\s*:\s*(?P<v>\S+)\s*(?P<u>uW|mW|W)\.?$")
_EPI = re.compile(r"^Energy/Inf\.?\s*:\s*(?P<v>\S+)\s*uJ/inf\.?$")
_ELAPSED = re.compile(r"^Elapsed time\s*:\s*(?P<v>\S+)(?P<rest>.*)$")
_TRIAL_INFERENCES = re.compile(r"^Inferences\s*:\s*(?P<v>\S+)$")
_MEDIAN_ENERGY = re.compile(r"^Median energy cost is\s*(?P<v>\S+)\s*uJ/inf\.?$")
_PERF_WINDOW = re.compile(r"^Performance results for window (\d+):?$")
_PERF_INFERENCES = re.compile(r"^# Inferences\s*:\s*(?P<v>\S+)$")
_RUNTIME = re.compile(r"^Runtime\s*:\s*(?P<v>\S+)\s*sec\.?$")
_THROUGHPUT = re.compile(r"^Throughput\s*:\s*(?P<v>\S+)\s*inf\./sec\.?$")
_MET = re.compile(r"^Runtime requirements have been met\.?$")
_NOT_MET = re.compile(r"^e-\[The run must take at least .*\]$")
_MEDIAN_THROUGHPUT = re.compile(r"^Median throughput is\s*(?P<v>\S+)\s*inf\./sec\.?$")
_RUNNER_ERROR = re.compile(r"^ERROR\b.*$")
_SWW_ACC = re.compile(
    r"^Accuracy:\s*(\d+) True positives,\s*(\d+) False negatives,\s*(\d+) False positives$"
)
_SWW_DUTY = re.compile(r"^Average duty cycle:\s*(?P<v>\S+)$")
_SWW_PERIOD = re.compile(r"^Average period:\s*(?P<v>\S+)\s*s$")
_SWW_THROUGHPUT = re.compile(r"^Estimated throughput:\s*(?P<v>\S+)\s*inf\./sec\.?$")
_TOP1 = re.compile(r"^Top(?:-1:| 1% =)\s*(?P<v>[^%\s]+)\s*%?$")
_AUC = re.compile(r"^AUC\s*[:=]\s*(?P<v>\S+)$")

_POWER_UNIT = {"uW": 1e-6, "mW": 1e-3, "W": 1.0}


def _streaming_line(body: str, sww: StreamingSummary, nums: _Numbers) -> bool:
    """Fill `sww` from one streaming-summary line; False if the line is not one."""
    if m := _SWW_ACC.match(body):
        counts = [nums.count(g, body) for g in m.groups()]
        sww.true_positives, sww.false_negatives, sww.false_positives = counts
    elif m := _SWW_DUTY.match(body):
        sww.duty_cycle = nums.get(m["v"], body)
    elif m := _SWW_PERIOD.match(body):
        sww.period_s = nums.get(m["v"], body)
    elif m := _SWW_THROUGHPUT.match(body):
        sww.estimated_throughput_ips = nums.get(m["v"], body)
    else:
        return False
    return True


def _perf_line(body: str, windows: list[Window], nums: _Numbers) -> bool:
    """Fill per-window throughput fields from one line; False if the line is not one."""
    if m := _PERF_WINDOW.match(body):
        index = nums.count(m.group(1), body)
        windows.append(Window(index=len(windows) + 1 if index is None else index))
        return True
    cur = windows[-1] if windows else None
    for rx, attr in ((_PERF_INFERENCES, "inferences"), (_RUNTIME, "seconds")):
        if m := rx.match(body):
            if cur is not None:
                v = nums.get(m["v"], body)
                setattr(cur, attr, int(v) if attr == "inferences" and v is not None else v)
            return cur is not None
    if m := _THROUGHPUT.match(body):
        if cur is not None:
            cur.throughput_ips = nums.get(m["v"], body)
            cur.decimals = decimals(m["v"])
        return cur is not None
    if _MET.match(body) or _NOT_MET.match(body):
        if cur is not None:
            cur.runtime_met = bool(_MET.match(body))
        return cur is not None
    return False


def _unrecognized(lines: list[str]) -> list[Issue]:
    if not lines:
        return []
    shown = "; ".join(repr(x[:80]) for x in lines[:3])
    return [Issue("unrecognized_line", f"{len(lines)} line(s) not understood: {shown}")]


def _repeat_issue(repeats: int) -> list[Issue]:
    if not repeats:
        return []
    return [Issue("repeated_lines", f"{repeats} consecutive repeated line(s) ignored")]


def _window_issues(windows: list[Window], what: str, complete: str) -> list[Issue]:
    bad = [w.index for w in windows if not getattr(w, complete)]
    if not bad:
        return []
    return [
        Issue(
            "incomplete_window",
            f"{len(bad)} {what} window(s) without a readable value (window {bad})",
        )
    ]


def parse_energy_text(text: str) -> EnergyRun:
    """An energy-mode `results.txt` (classic runner or v1.3 "Power Edition Output")."""
    lines, repeats = split_lines(text)
    fmt = "power_edition" if any(x == "Power Edition Output" for x in lines) else "runner"
    run = EnergyRun(fmt=fmt)
    nums = _Numbers()
    unknown: list[str] = []
    sww = StreamingSummary()
    has_sww = False
    section = "energy"  # classic files print energy windows, then throughput windows
    for body in lines:
        if _is_noise(body):
            continue
        if m := (_ENERGY_WINDOW.match(body) or _ENERGY_TRIAL.match(body)):
            section = "energy"
            index = nums.count(m.group(1), body)
            w = Window(index=len(run.windows) + 1 if index is None else index)
            secs = m.groupdict().get("secs")
            if secs is not None:
                w.seconds = nums.get(secs, body)
            run.windows.append(w)
            continue
        cur = run.windows[-1] if run.windows and section == "energy" else None
        if m := _MEDIAN_ENERGY.match(body):
            run.median_uj = nums.get(m["v"], body)
            run.median_decimals = decimals(m["v"])
            continue
        if m := _MEDIAN_THROUGHPUT.match(body):
            run.median_ips = nums.get(m["v"], body)
            continue
        if _PERF_WINDOW.match(body):
            section = "perf"
        if section == "perf" and _perf_line(body, run.perf_windows, nums):
            continue
        if _streaming_line(body, sww, nums):
            has_sww = True
            continue
        if _RUNNER_ERROR.match(body):
            run.runner_errors.append(body[:MAX_ERROR_CHARS])
            continue
        matched = False
        if cur is not None:
            if m := (_ENERGY.match(body) or _TOTAL_ENERGY.match(body)):
                cur.energy_uj = nums.get(m["v"], body)
                matched = True
            elif m := _POWER.match(body):
                v = nums.get(m["v"], body)
                cur.power_w = None if v is None else v * _POWER_UNIT[m["u"]]
                matched = True
            elif m := _EPI.match(body):
                cur.energy_per_inference_uj = nums.get(m["v"], body)
                cur.decimals = decimals(m["v"])
                matched = True
            elif m := _ELAPSED.match(body):
                cur.seconds = nums.get(m["v"], body)
                if "below minimum duration" in m["rest"]:
                    cur.runtime_met = False
                elif cur.seconds is not None:
                    cur.runtime_met = cur.seconds >= MIN_WINDOW_SECONDS
                matched = True
            elif m := _TRIAL_INFERENCES.match(body):
                v = nums.get(m["v"], body)
                cur.inferences = None if v is None else int(v)
                matched = True
        if not matched:
            unknown.append(body)
    if has_sww:
        run.streaming = sww
    run.issues = (
        _repeat_issue(repeats)
        + nums.finish()
        + _window_issues(run.windows, "energy", "is_energy_complete")
        + _unrecognized(unknown)
    )
    return run


def parse_performance_text(text: str) -> PerformanceRun:
    """A performance-mode `results.txt` (classic runner, v1.3 runner or streaming summary)."""
    lines, repeats = split_lines(text)
    run = PerformanceRun(fmt="runner")
    nums = _Numbers()
    unknown: list[str] = []
    sww = StreamingSummary()
    has_sww = False
    indented = False
    for raw_line in text.splitlines():
        if raw_line.startswith("Performance results for window") and not raw_line.endswith(":"):
            indented = True  # v1.3 Python runner layout
            break
    for body in lines:
        if _is_noise(body):
            continue
        if m := _MEDIAN_THROUGHPUT.match(body):
            run.median_ips = nums.get(m["v"], body)
            run.median_decimals = decimals(m["v"])
            continue
        if _perf_line(body, run.windows, nums):
            continue
        if _streaming_line(body, sww, nums):
            has_sww = True
            continue
        if _RUNNER_ERROR.match(body):
            run.issues.append(Issue("runner_error", body[:MAX_ERROR_CHARS]))
            continue
        unknown.append(body)
    if has_sww:
        run.streaming = sww
        run.fmt = "streaming"
    elif indented:
        run.fmt = "power_edition"
    run.issues = (
        _repeat_issue(repeats)
        + run.issues
        + nums.finish()
        + _window_issues(run.windows, "performance", "is_perf_complete")
        + _unrecognized(unknown)
    )
    return run


def parse_accuracy_text(text: str) -> AccuracyResult:
    """An accuracy-mode `results.txt`: `Top-1: 87.0%` / `AUC: 0.98` (or `Top 1% = ...`)."""
    lines, repeats = split_lines(text)
    res = AccuracyResult()
    nums = _Numbers()
    unknown: list[str] = []
    sww = StreamingSummary()
    for body in lines:
        if _is_noise(body):
            continue
        if m := _TOP1.match(body):
            res.top1_pct = nums.get(m["v"], body)
        elif m := _AUC.match(body):
            res.auc = nums.get(m["v"], body)
        elif _streaming_line(body, sww, nums):
            res.streaming = sww
        else:
            unknown.append(body)
    res.issues = _repeat_issue(repeats) + nums.finish() + _unrecognized(unknown)
    return res


# ------------------------------------------------------------------ raw runner logs

# (The part after the mode must not start with a word character: linear without a "]".)
_LOG_RUN_NAME = re.compile(r"m-bmark-run-name\[ML (?P<mode>\w+)(?:[^\w\]][^\]]*)?\]")
_LOG_INFER_START = re.compile(r"m-infer-start-(\d+)")
_LOG_LAP = re.compile(r"m-lap-us-(\d+)")
_LOG_INFER_DONE = re.compile(r"m-infer-done")


def parse_runner_log(text: str) -> PerformanceRun:
    """Throughput windows recomputed from a raw EEMBC runner session log.

    Each `dut infer N W` window runs N timed inferences between two `m-lap-us-<µs>` laps;
    its throughput is N / (last lap - first lap); the result is the median over windows,
    as the runner computes it. Laps outside infer-start ... infer-done are ignored.
    """
    run = PerformanceRun(fmt="runner_log")
    mode = _LOG_RUN_NAME.search(text)
    if mode and mode["mode"].lower() != "performance":
        run.issues.append(Issue("not_performance_log", f"session log of an ML {mode['mode']} run"))
        return run
    n: int | None = None
    laps: list[int] = []
    k = 0
    unreadable = 0
    for line in text.splitlines():
        if m := _LOG_INFER_START.search(line):
            n, laps = small_int(m.group(1)), []
            if n is None:
                unreadable += 1
        elif n is not None and (m := _LOG_LAP.search(line)):
            lap = small_int(m.group(1))
            if lap is None:
                unreadable += 1
            else:
                laps.append(lap)
        elif n is not None and _LOG_INFER_DONE.search(line):
            k += 1
            w = Window(index=k, inferences=n)
            if len(laps) >= 2 and laps[-1] > laps[0]:
                w.seconds = (laps[-1] - laps[0]) / 1e6
                w.throughput_ips = n / w.seconds
                w.runtime_met = w.seconds >= MIN_WINDOW_SECONDS
            run.windows.append(w)
            n, laps = None, []
    if unreadable:
        run.issues.append(
            Issue("unparseable_value", f"{unreadable} inference count(s) or lap(s) too long")
        )
    if n is not None:
        run.issues.append(Issue("incomplete_window", "log ends inside an inference window"))
    if not run.windows:
        run.issues.append(Issue("no_windows", "no m-infer-start ... m-infer-done window"))
    run.issues += _window_issues(run.windows, "performance", "is_perf_complete")
    return run


# ------------------------------------------------------------------ v1.3 results.json


@dataclass
class JsonEnergy:
    """Energy per inference recomputed from the v1.3 runner's raw samples."""

    trials_uj: list[float]
    trial_seconds: list[float]
    issues: list[Issue] = field(default_factory=list)

    @property
    def median_uj(self) -> float | None:
        return median_or_none(self.trials_uj)


def energy_from_results_json(
    data: object, sample_hz: float = POWER_EDITION_SAMPLE_HZ
) -> JsonEnergy:
    """Recompute per-trial energy per inference (µJ) from an energy-mode results.json.

    Mirrors the runner: samples are joules per sample; a trial's measured span is between
    its last two timestamp events (sample indices); energy per inference is the sum of the
    samples in the span divided by the trial's measured iterations.
    """
    out = JsonEnergy([], [])
    if not isinstance(data, list):
        out.issues.append(Issue("bad_json", "results.json is not a list of trials"))
        return out
    for i, trial in enumerate(data):
        try:
            power = trial["power"]
            samples = power["samples"]
            idx = [int(t[1]) for t in power["timestamps"]]
            counters = [int(t[0]) for t in power["timestamps"]]
            iterations = int(trial["infer"]["iterations"])
            n_samples = len(samples)
        except (KeyError, TypeError, ValueError, IndexError, OverflowError) as e:
            out.issues.append(Issue("bad_json", f"trial {i}: missing field ({_what(e)})"))
            continue
        if any(b - a != 1 for a, b in zip(counters, counters[1:], strict=False)):
            out.issues.append(Issue("bad_json", f"trial {i}: timestamps not consecutive"))
            continue
        if len(idx) < 2 or iterations <= 0 or not (0 <= idx[-2] < idx[-1] <= n_samples):
            out.issues.append(Issue("bad_json", f"trial {i}: no measured span"))
            continue
        try:
            total_j = math.fsum(float(x) for x in samples[idx[-2] : idx[-1]])
            uj = total_j / iterations * 1e6
        except (TypeError, ValueError, OverflowError):
            out.issues.append(Issue("bad_json", f"trial {i}: non-numeric energy samples"))
            continue
        if not math.isfinite(uj):
            out.issues.append(Issue("bad_json", f"trial {i}: energy is not finite"))
            continue
        out.trials_uj.append(uj)
        out.trial_seconds.append((idx[-1] - idx[-2]) / sample_hz)
    return out


def _what(e: Exception) -> str:
    """A JSON lookup error for a message: the missing key, else the error's type."""
    if isinstance(e, KeyError) and e.args:
        return f"KeyError({brief(e.args[0], 40)})"
    return type(e).__name__


def throughputs_from_results_json(data: object) -> tuple[list[float], list[Issue]]:
    """Per-window throughputs (inf/s) of a performance-mode results.json."""
    if not isinstance(data, list):
        return [], [Issue("bad_json", "results.json is not a list of windows")]
    vals: list[float] = []
    issues: list[Issue] = []
    for i, w in enumerate(data):
        if isinstance(w, dict) and "error" in w:
            issues.append(Issue("runner_error", f"window list carries {brief(w['error'])}"))
            continue
        infer = w.get("infer") if isinstance(w, dict) else None
        t = finite(infer.get("throughput")) if isinstance(infer, dict) else None
        if t is not None:
            vals.append(t)
        elif not isinstance(w, dict) or "dutycycle" not in w:
            issues.append(Issue("bad_json", f"window {i}: no throughput"))
    return vals, issues


def precision(printed_decimals: int | None, windows: Sequence[Window]) -> int | None:
    """The coarsest printed precision among a median and the windows it summarizes."""
    ds = [w.decimals for w in windows if w.decimals is not None]
    if printed_decimals is not None:
        ds.append(printed_decimals)
    return min(ds) if ds else None


def agrees(recomputed: float, printed: float, printed_decimals: int | None) -> bool:
    """Whether a recomputed value rounds to the printed one (one unit in the last place)."""
    unit = 10.0 ** -(printed_decimals if printed_decimals is not None else 3)
    return abs(recomputed - printed) <= unit + 1e-9 * abs(printed)
