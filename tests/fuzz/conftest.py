"""Fixtures of the fuzz suite: case budgets (quick by default, long with --fuzz-long) and small
real samples of every input format, read from the offline mirror at run time."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fuzzlib import CASES, SLOWEST, Mirror
from hypothesis import given, settings
from hypothesis import strategies as st

TINY_REPOS = ("tiny_results_v0.5", "tiny_results_v1.0", "tiny_results_v1.3")
V41 = "inference_results_v4.1"
CMX = "cm4mlperf-results"
TRAINING = "training_results_v4.0"
LONG_CASES = 1000  # per parser and reader entry point in the long profile


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Cases run per fuzz test and the slowest case of each (CPU and wall seconds)."""
    if not CASES:
        return
    terminalreporter.section("fuzz cases")
    terminalreporter.write_line(" cases  slowest: CPU s  wall s  test")
    for test, n in sorted(CASES.items()):
        cpu, wall = SLOWEST.get(test, (0.0, 0.0))
        terminalreporter.write_line(f"{n:6d}  {cpu:14.2f}  {wall:6.2f}  {test}")


@pytest.fixture(scope="session", autouse=True)
def _hypothesis_warmed_up() -> None:
    """Hypothesis builds its Unicode table and its cache of the code's constants on first use
    (seconds of CPU on a fresh machine); done here, before any case is timed."""

    @settings(max_examples=3, database=None, deadline=None)
    @given(st.text(min_size=1))
    def warm(text: str) -> None:
        pass

    warm()


@pytest.fixture(scope="session")
def fuzz_long(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--fuzz-long", default=False))


@pytest.fixture(autouse=True)
def _long_profile_reaches_its_count(request: pytest.FixtureRequest, fuzz_long: bool):
    """In the long profile, every fuzz test that passed must have run `LONG_CASES` cases."""
    failed = request.session.testsfailed
    yield
    if fuzz_long and "budget" in request.fixturenames and request.session.testsfailed == failed:
        ran = CASES[request.node.nodeid]
        assert ran >= LONG_CASES, f"{request.node.nodeid}: {ran} cases, fewer than {LONG_CASES}"


@pytest.fixture(scope="session")
def budget(fuzz_long: bool) -> Callable[..., int]:
    """`budget(quick, long=LONG_CASES)`: the number of cases of one fuzz test."""

    def _budget(quick: int, long: int = LONG_CASES) -> int:
        return long if fuzz_long else quick

    return _budget


@pytest.fixture(scope="session")
def mirror(mirror_root: Path) -> Mirror:
    return Mirror(mirror_root)


def _text(blob: bytes) -> str:
    return blob.decode("utf-8", errors="replace")


# ---------------------------------------------------------------------------------- tiny


def _trim_energy_json(data: list, n: int = 300) -> list:
    """A v1.3 energy results.json cut to 3 trials of `n` samples in their measured span."""
    out = []
    for trial in data[:3]:
        power = trial["power"]
        ts = power["timestamps"]
        a = ts[-2][1]
        out.append(
            {
                **trial,
                "power": {
                    "samples": power["samples"][a : a + n],
                    "timestamps": [[ts[-2][0], 0], [ts[-1][0], n]],
                },
            }
        )
    return out


@pytest.fixture(scope="session")
def tiny_samples(mirror: Mirror) -> dict[str, list[Any]]:
    """Tiny runner outputs by role: energy/performance/accuracy text, raw logs, results.json."""
    out: dict[str, list[Any]] = {k: [] for k in ("energy", "performance", "accuracy", "log")}
    out.update(energy_json=[], performance_json=[])
    for repo in TINY_REPOS:
        for role in ("energy", "performance", "accuracy"):
            paths = mirror.pick(repo, f"*/results/*/{role}/*results.txt", 3, max_bytes=20_000)
            out[role] += [_text(b) for b in mirror.read(repo, paths).values()]
        paths = mirror.pick(repo, "*/results/*/performance/*log.txt", 2, max_bytes=20_000)
        out["log"] += [_text(b) for b in mirror.read(repo, paths).values()]
    paths = mirror.pick(
        "tiny_results_v1.3", "*/results/*/energy/results.json", 2, max_bytes=2_000_000
    )
    for blob in mirror.read("tiny_results_v1.3", paths).values():
        out["energy_json"].append(_trim_energy_json(json.loads(blob)))
    paths = mirror.pick("tiny_results_v1.3", "*/results/*/performance/results.json", 3)
    out["performance_json"] = [
        json.loads(b) for b in mirror.read("tiny_results_v1.3", paths).values()
    ]
    assert all(out.values()), {k: len(v) for k, v in out.items()}
    return out


@pytest.fixture(scope="session")
def tiny_tree(mirror: Mirror, tiny_samples: dict[str, list[Any]]) -> dict[str, bytes]:
    """A small tiny round: two systems of v1.0 and v1.3 (all modes, a trimmed results.json)."""
    files: dict[str, bytes] = {}
    for repo, system in (
        ("tiny_results_v1.0", "closed/syntiant/*/syntiant_9120_0v9_30mhz*"),
        ("tiny_results_v1.3", "closed/STMicroelectronics/*/NUCLEO_L4R5ZI-P*"),
    ):
        paths = [
            p
            for p in mirror.pick(repo, system, 1000, max_bytes=30_000)
            if p.endswith((".json", "results.txt")) and ("/ic/" in p or "/systems/" in p)
        ]
        files.update(mirror.read(repo, paths))
    energy = "closed/STMicroelectronics/results/NUCLEO_L4R5ZI-P/ic/energy/results.json"
    files[energy] = json.dumps(tiny_samples["energy_json"][0]).encode()
    assert len(files) >= 8, sorted(files)
    return files


# ----------------------------------------------------------------------- CMX and summary


def _trim_rows(rows: list[dict], n: int) -> list[dict]:
    return rows[:n]


@pytest.fixture(scope="session")
def cmx_samples(mirror: Mirror) -> dict[str, dict[str, list[dict]]]:
    """CMX trees by round: v4.0 (performance rows + separate power rows, joined by Location)
    and v3.1 (combined rows, written twice), each a few rows per file."""
    trees: dict[str, dict[str, list[dict]]] = {}
    base = "experiment/mlperf-inference--{r}--edge--{d}--image-classification--{s}/*/cm-result.json"
    for rnd, folders in (
        (
            "v4.0",
            [("closed", "offline"), ("closed-power", "offline"), ("closed-power", "singlestream")],
        ),
        ("v3.1", [("closed-power", "singlestream"), ("closed", "offline")]),
    ):
        tree: dict[str, list[dict]] = {}
        for division, scenario in folders:
            (path,) = mirror.pick(CMX, base.format(r=rnd, d=division, s=scenario), 1)
            tree[path] = json.loads(mirror.read(CMX, [path])[path])
        power_locs = {
            r.get("Location") for p, rows in tree.items() if "-power" in p for r in rows[:6]
        }
        for p, rows in tree.items():
            keep = [r for r in rows if r.get("Location") in power_locs][:8]
            tree[p] = keep or _trim_rows(rows, 6)
        trees[rnd] = tree
    return trees


@pytest.fixture(scope="session")
def summary_sample(mirror: Mirror) -> list[dict]:
    """v4.1 summary_results.json (refs/pull/2/head): 12 entries with power, 12 without."""
    ref = "refs/pull/2/head"
    data = json.loads(mirror.read(V41, ["summary_results.json"], ref)["summary_results.json"])
    power = [e for e in data if e.get("Power_Result") not in (None, "")][:12]
    other = [e for e in data if e.get("Power_Result") in (None, "")][:12]
    tokens = [e for e in data if "TOKENS_PER_SAMPLE" in str(e.get("Accuracy"))][:4]
    return power + other + tokens


# --------------------------------------------------------------------- inference tree


@pytest.fixture(scope="session")
def system_samples(mirror: Mirror) -> list[dict]:
    """Inference system descriptions of v0.5 (no system_type) and v4.1."""
    out = []
    for repo, n in (("inference_results_v0.5", 3), (V41, 6)):
        paths = mirror.pick(repo, "*/*/systems/*.json", n, max_bytes=20_000)
        for blob in mirror.read(repo, paths).values():
            try:
                obj = json.loads(blob)
            except ValueError:
                continue
            if isinstance(obj, dict):
                out.append(obj)
    assert len(out) >= 6
    return out


RESULT = "closed/UntetherAI/results/h13_u3_slim/resnet50/{s}/performance/run_1/"


def _trim_trace(spl: str, detail: str, lines: int = 120) -> str:
    """The trace lines from just before power_begin on, `lines` of them."""
    begin = next(
        json.loads(x.split(":::MLLOG", 1)[1])["value"]
        for x in detail.splitlines()
        if '"power_begin"' in x
    )
    rows = spl.splitlines(keepends=True)
    stamp = begin[:19]  # to the second
    at = next((i for i, r in enumerate(rows) if stamp in r), 0)
    return "".join(rows[max(0, at - 3) : at + lines])


@pytest.fixture(scope="session")
def inference_samples(mirror: Mirror) -> dict[str, dict[str, str]]:
    """Per scenario (offline, singlestream, multistream) of one v4.1 power system: its loadgen
    summary, detail log and a trimmed spl.txt; plus the system JSON under key "system"."""
    out: dict[str, dict[str, str]] = {}
    for scen in ("offline", "singlestream", "multistream"):
        d = RESULT.format(s=scen)
        names = ("mlperf_log_summary.txt", "mlperf_log_detail.txt", "spl.txt")
        blobs = mirror.read(V41, [d + n for n in names])
        summary, detail, spl = (_text(blobs[d + n]) for n in names)
        out[scen] = {"summary": summary, "detail": detail, "spl": _trim_trace(spl, detail)}
    sys_path = "closed/UntetherAI/systems/h13_u3_slim.json"
    out["system"] = {"json": _text(mirror.read(V41, [sys_path])[sys_path])}
    return out


# ----------------------------------------------------------------------------- training


def _trim_mllog(text: str, keep_each: int = 2) -> str:
    """An MLLOG cut to the first and last `keep_each` lines of every key (compliance passes)."""
    lines = [x for x in text.splitlines() if ":::MLLOG" in x]
    by_key: dict[str, list[int]] = {}
    for i, x in enumerate(lines):
        try:
            key = json.loads(x.split(":::MLLOG", 1)[1])["key"]
        except (ValueError, KeyError, TypeError):
            continue
        by_key.setdefault(key, []).append(i)
    keep = sorted({i for ii in by_key.values() for i in ii[:keep_each] + ii[-keep_each:]})
    return "".join(lines[i] + "\n" for i in keep)


def _trim_power(text: str, readings: int = 40) -> str:
    """A node/switch power log with its first `readings` power_reading lines."""
    out, n = [], 0
    for x in text.splitlines():
        if '"power_reading"' in x:
            n += 1
            if n > readings:
                continue
        out.append(x + "\n")
    return "".join(out)


@pytest.fixture(scope="session")
def training_tree(mirror: Mirror) -> dict[str, str]:
    """One v4.0 power result (1xSMC ssd, 5 runs): system JSON, trimmed result logs, node logs,
    scaling.json; keys are paths inside the round."""
    sub, system, bench = "smc-ac-power", "1xSMC-H100-SXM-80GB", "ssd"
    folder = f"{sub}/results/{system}/{bench}/"
    paths = [p for _, p in mirror.files(TRAINING) if p.startswith(folder)]
    paths.append(f"{sub}/systems/{system}.json")
    files = {}
    for p, blob in mirror.read(TRAINING, paths).items():
        text = _text(blob)
        if "/power/" in p:
            text = _trim_power(text)
        elif p.rsplit("/", 1)[-1].startswith("result_"):
            text = _trim_mllog(text)
        files[p] = text
    return files


@pytest.fixture(scope="session")
def switch_sample(mirror: Mirror) -> str:
    """A trimmed switch log (interconnect_power_est) of v4.0 gpt3."""
    (path,) = mirror.pick(TRAINING, "smc-ac-power/results/*/gpt3/power/*/sw_0.txt", 1)
    return _trim_power(_text(mirror.read(TRAINING, [path])[path]))
