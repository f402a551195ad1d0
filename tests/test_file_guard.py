"""Input files are read only inside the round's folder and within their caps: symbolic links
(to files and folders) are not followed, a file over its size or line cap is a problem row,
and reading goes on with the other results."""

from __future__ import annotations

import json
import shutil
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import pandas as pd
import pytest

from mlperf_power_dag import limits
from mlperf_power_dag.limits import DEFAULT, KINDS, Limit, parse_overrides
from mlperf_power_dag.parsers.files import FileRefused, RoundFiles, longest_line_over
from mlperf_power_dag.parsers.guards import clip
from mlperf_power_dag.parsers.training_logs import (
    ResultLogError,
    node_energy,
    read_result_log,
    score_benchmark_folder,
)
from mlperf_power_dag.readers.inference_cmx import read_cmx_round
from mlperf_power_dag.readers.inference_summary import read_summary_round
from mlperf_power_dag.readers.inference_tree import read_tree_round
from mlperf_power_dag.readers.tiny import read_tiny_round
from mlperf_power_dag.schemas import Problems

FIX = Path(__file__).parent / "fixtures"
INF = FIX / "inference"
TINY = FIX / "tiny" / "bad_round"
COMMIT = "0123456789abcdef0123456789abcdef01234567"
SECRET = "SECRET-7f3a9c-outside-the-round"


@pytest.fixture(autouse=True)
def _default_limits(monkeypatch):
    monkeypatch.delenv("MLPERF_POWER_LIMITS", raising=False)


@pytest.fixture
def outside(tmp_path) -> Path:
    """A folder next to the round holding a secret file and a secret result folder."""
    out = tmp_path / "outside"
    run = out / "resnet50" / "Offline" / "performance" / "run_1"
    run.mkdir(parents=True)
    (out / "secret.txt").write_text(f"{SECRET}\n" * 20)
    (run / "mlperf_log_summary.txt").write_text(f"SUT name : {SECRET}\nScenario : Offline\n")
    shutil.copyfile(INF / "spl_window.txt", run / "spl.txt")
    return out


def _everything(table) -> str:
    """Every cell of a round's results and problems, as one text."""
    return table.results.to_csv() + table.problems.to_csv()


def _kinds(table) -> Counter:
    return Counter(table.problems.kind)


# ------------------------------------------------------------------------------ limits


def test_default_caps_cover_every_kind_with_a_margin():
    assert set(KINDS) >= {"loadgen_summary", "loadgen_detail", "spl", "system_json", "cmx"}
    largest_seen = {  # the largest file of each kind in the rounds read (docs/data.md)
        "loadgen_summary": 3_300,
        "loadgen_detail": 2_611_000,
        "spl": 3_344_000,
        "system_json": 3_200,
        "cmx": 3_869_000,
        "summary_results": 1_322_000,
        "tiny_text": 3_460_000,
        "tiny_json": 1_221_000,
        "training_result": 3_039_000,
        "training_power": 239_000,
    }
    for kind, size in largest_seen.items():
        assert DEFAULT.of(kind).max_bytes >= 4 * size, kind
    assert DEFAULT.loadgen_detail.max_line >= 4 * 1_365_354
    assert DEFAULT.training_result.max_line >= 4 * 2_938


def test_overrides_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("MLPERF_POWER_LIMITS", "spl=512M, loadgen_detail.line=16K,cmx=1000")
    got = limits.current()
    assert got.spl == Limit(512 << 20, DEFAULT.spl.max_line)
    assert got.loadgen_detail == Limit(DEFAULT.loadgen_detail.max_bytes, 16 << 10)
    assert got.cmx.max_bytes == 1000
    assert got.tiny_text == DEFAULT.tiny_text
    monkeypatch.setenv("MLPERF_POWER_LIMITS", "")
    assert limits.current() == DEFAULT


@pytest.mark.parametrize("spec", ["spl", "nope=1M", "spl=lots", "spl.width=1K", "spl=0"])
def test_a_bad_override_names_itself(spec):
    with pytest.raises(ValueError, match="spl|nope|lots|width|positive"):
        parse_overrides(spec)


@pytest.mark.parametrize(
    "data",
    [b"", b"a" * 10, b"a" * 11, b"a\n" * 50, b"\n" * 30, b"ab\n" + b"c" * 11, b"c" * 11 + b"\n"],
)
def test_longest_line_over_agrees_with_splitting(data):
    want = max(map(len, data.split(b"\n"))) > 10
    assert longest_line_over(data, 10) is want
    assert longest_line_over(data + b"\n" + b"x" * 10, 10) is want


# --------------------------------------------------------------------------- the guard


def test_guard_refuses_links_escapes_and_oversized_files(tmp_path, outside):
    root = tmp_path / "round"
    (root / "a").mkdir(parents=True)
    (root / "a" / "ok.txt").write_text("fine\n")
    (root / "a" / "link.txt").symlink_to(outside / "secret.txt")
    (root / "out").symlink_to(outside)
    (root / "a" / "big.json").write_bytes(b"{}" + b" " * 2000)
    (root / "a" / "long.txt").write_bytes(b"x" * 300 + b"\n")
    files = RoundFiles(root, parse_overrides("system_json=1K,tiny_text.line=100"))
    assert files.read(root / "a" / "ok.txt", "tiny_text") == b"fine\n"
    assert files.read("a/ok.txt", "tiny_text") == b"fine\n"
    cases = {
        "a/link.txt": "symlinked_file",
        "out/secret.txt": "outside_root",
        "a/../../outside/secret.txt": "outside_root",
        "a": "not_a_file",
        "a/big.json": "file_too_large",
        "a/long.txt": "line_too_long",
    }
    for rel, kind in cases.items():
        with pytest.raises(FileRefused) as e:
            files.read(rel, "system_json" if rel.endswith(".json") else "tiny_text")
        assert e.value.kind == kind, rel
        assert SECRET not in str(e.value) and len(str(e.value)) < 200
    with pytest.raises(FileNotFoundError):
        files.read("a/none.txt", "tiny_text")


# Paths opened (os.open, open, io.open_code: the "open" audit event; not a file object made
# from a descriptor already open) while `_OPENED` holds a list. An audit hook cannot be
# removed, so it is added once, on first use, and does nothing outside `_opened()`.
_OPENED: ContextVar[list | None] = ContextVar("opened", default=None)
_HOOKED: list[bool] = []


def _record_open(event: str, args: tuple) -> None:
    if event == "open" and not isinstance(args[0], int):
        seen = _OPENED.get()
        if seen is not None:
            seen.append(args[0])


@contextmanager
def _opened() -> Iterator[list]:
    """The paths opened by this thread within the block."""
    if not _HOOKED:
        sys.addaudithook(_record_open)
        _HOOKED.append(True)
    seen: list = []
    token = _OPENED.set(seen)
    try:
        yield seen
    finally:
        _OPENED.reset(token)


def test_an_oversized_file_is_refused_before_it_is_opened(tmp_path):
    root = tmp_path / "round"
    root.mkdir()
    with open(root / "huge.txt", "wb") as f:  # sparse: 3 GiB that take no disk
        f.truncate(3 << 30)
    (root / "small.txt").write_bytes(b"1\n")
    with _opened() as opened:
        assert RoundFiles(root).read(root / "small.txt", "spl") == b"1\n"
    assert opened == [str(root / "small.txt")]  # the recording sees what is opened
    with _opened() as opened, pytest.raises(FileRefused, match="over the spl cap") as e:
        RoundFiles(root).read(root / "huge.txt", "spl")
    assert e.value.kind == "file_too_large" and opened == []


# ---------------------------------------------------------------------- inference tree


def _result(root: Path, rel: str, **files: Path | str) -> Path:
    run = root / rel / "performance" / "run_1"
    run.mkdir(parents=True, exist_ok=True)
    names = {"summary": "mlperf_log_summary.txt", "detail": "mlperf_log_detail.txt"}
    for key, src in files.items():
        dest = run / names.get(key, "spl.txt")
        if isinstance(src, Path):
            shutil.copyfile(src, dest)
        else:
            dest.write_text(src)
    return run


def _tree(root: Path) -> str:
    """A v3.0 tree with two good power results; returns the results folder of its system."""
    (root / "closed/Synth/systems").mkdir(parents=True)
    shutil.copyfile(INF / "system_both.json", root / "closed/Synth/systems/box.json")
    box = "closed/Synth/results/box"
    for bench in ("bert-99", "resnet50"):
        _result(root, f"{box}/{bench}/Offline", detail=INF / "detail_offline.txt")
        shutil.copyfile(
            INF / "spl_window.txt", root / box / bench / "Offline/performance/run_1/spl.txt"
        )
    return box


def test_tree_reader_does_not_follow_links(tmp_path, outside):
    root = tmp_path / "round"
    box = _tree(root)
    # a symlinked spl.txt, a symlinked summary, a symlinked result folder, a symlinked system
    run = _result(root, f"{box}/rnnt/Offline", detail=INF / "detail_offline.txt")
    (run / "spl.txt").symlink_to(outside / "secret.txt")
    run = _result(root, f"{box}/ssd-resnet34/Offline")
    (run / "mlperf_log_summary.txt").symlink_to(
        outside / "resnet50/Offline/performance/run_1/mlperf_log_summary.txt"
    )
    (root / box / "3d-unet-99").symlink_to(outside / "resnet50")
    (root / "closed/Synth/results/linked").symlink_to(outside)
    (root / "closed/Synth/systems/linked.json").symlink_to(outside / "secret.txt")
    table = read_tree_round(root, "v3.0", "synth/tree", COMMIT)
    Problems.validate(table.problems)
    assert SECRET not in _everything(table)
    kinds = _kinds(table)
    assert kinds["symlinked_file"] == 2  # the trace and the summary
    assert kinds["symlinked_folder"] == 2  # 3d-unet-99 and the system folder `linked`
    p = table.problems.set_index("kind")
    assert p.loc["symlinked_folder", "source_path"].tolist() == [
        f"{box}/3d-unet-99",
        "closed/Synth/results/linked",
    ]
    # the good results keep their power; the one with a linked trace keeps its row, unpowered
    res = table.results.set_index("source_path")
    for bench in ("bert-99", "resnet50"):
        assert res.loc[f"{box}/{bench}/Offline", "power_w"].notna().all()
    assert res.loc[f"{box}/rnnt/Offline", "power_w"].isna().all()
    assert f"{box}/ssd-resnet34/Offline" not in res.index


def test_tree_reader_refuses_files_over_their_caps(tmp_path, monkeypatch):
    root = tmp_path / "round"
    box = _tree(root)
    big = (INF / "spl_window.txt").read_bytes() * 100  # 160 KB
    _result(root, f"{box}/rnnt/Offline", detail=INF / "detail_offline.txt", spl=big.decode())
    long_line = "Time," + "9" * 70_000 + "\n"
    _result(root, f"{box}/dlrm-99/Offline", detail=INF / "detail_offline.txt", spl=long_line)
    detail = (INF / "detail_offline.txt").read_text()
    _result(root, f"{box}/3d-unet-99/Offline", detail=detail + ":::MLLOG " + "x" * 70_000 + "\n")
    _result(root, f"{box}/ssd-large/Offline", summary="x" * 1_100_000)
    with open(root / "closed/Synth/systems/box.json", "ab") as f:
        f.write(b" " * (1 << 20))
    monkeypatch.setenv("MLPERF_POWER_LIMITS", "spl=100K,loadgen_detail.line=64K")
    table = read_tree_round(root, "v3.0", "synth/tree", COMMIT)
    Problems.validate(table.problems)
    p = table.problems
    refused = p[p.kind.isin(["file_too_large", "line_too_long"])]
    assert sorted(zip(refused.source_path, refused.kind, strict=True)) == [
        ("closed/Synth/results/box/3d-unet-99/Offline", "line_too_long"),
        ("closed/Synth/results/box/dlrm-99/Offline", "line_too_long"),
        ("closed/Synth/results/box/rnnt/Offline", "file_too_large"),
        ("closed/Synth/results/box/ssd-large/Offline", "file_too_large"),
        ("closed/Synth/systems/box.json", "file_too_large"),
    ]
    assert "over the spl cap of 100.0 KiB" not in " ".join(refused.message)  # KiB < 1 MiB
    assert any("over the spl cap of 102,400 bytes" in m for m in refused.message)
    res = table.results.set_index("source_path")
    for bench in ("bert-99", "resnet50"):  # the other results are read on
        assert res.loc[f"{box}/{bench}/Offline", "power_w"].notna().all()
    assert res.loc[f"{box}/rnnt/Offline", "power_w"].isna().all()


# -------------------------------------------------------------------------------- tiny


def test_tiny_reader_refuses_links_and_oversized_files(tmp_path, outside, monkeypatch):
    root = tmp_path / "round"
    shutil.copytree(TINY, root)
    perf = root / "closed/acme/results/board_a/vww/performance/results.txt"
    perf.unlink()
    perf.symlink_to(outside / "secret.txt")
    energy = root / "closed/acme/results/board_a/ad/energy/results.txt"
    energy.write_bytes(energy.read_bytes() + b"\n" * 3000)
    (root / "closed/acme/systems/board_c.json").unlink()
    (root / "closed/acme/systems/board_c.json").symlink_to(outside / "secret.txt")
    (root / "closed/acme/results/board_e").symlink_to(outside)
    monkeypatch.setenv("MLPERF_POWER_LIMITS", "tiny_text=2K")
    table = read_tiny_round(root, "v0.9", "acme/tiny_results_v0.9", COMMIT)
    Problems.validate(table.problems)
    assert SECRET not in _everything(table)
    p = table.problems
    got = sorted(zip(p.source_path, p.kind, strict=True))
    assert ("closed/acme/results/board_a/vww", "symlinked_file") in got
    assert ("closed/acme/results/board_a/ad", "file_too_large") in got
    assert ("closed/acme/systems/board_c.json", "symlinked_file") in got
    assert ("closed/acme/results/board_e", "symlinked_folder") in got
    assert len(table.results) >= 3  # the other results are read on


# ---------------------------------------------------------------------- CMX and summary


def test_cmx_and_summary_readers_refuse_oversized_or_linked_files(tmp_path, outside, monkeypatch):
    root = tmp_path / "cmx"
    folder = "experiment/mlperf-inference--v4.0--edge--closed--image-classification--offline"
    (root / folder / "a").mkdir(parents=True)
    (root / folder / "b").mkdir(parents=True)
    (root / folder / "a/cm-result.json").write_text(json.dumps([{"x": "y" * 3000}]))
    (root / folder / "b/cm-result.json").symlink_to(outside / "secret.txt")
    summary = tmp_path / "summary_results.json"
    summary.write_text(json.dumps([{"x": "y" * 3000}]))
    monkeypatch.setenv("MLPERF_POWER_LIMITS", "cmx=2K,summary_results=2K")
    cmx = read_cmx_round(root, "v4.0", "mlcommons/cm4mlperf-results", COMMIT)
    assert SECRET not in _everything(cmx)
    assert sorted(zip(cmx.problems.source_path, cmx.problems.kind, strict=True)) == [
        (f"{folder}/a/cm-result.json", "file_too_large"),
        (f"{folder}/b/cm-result.json", "symlinked_file"),
    ]
    table = read_summary_round(summary, "v4.1", "mlcommons/inference_results_v4.1", COMMIT)
    assert table.problems.kind.tolist() == ["file_too_large"]
    assert table.results.empty


# ---------------------------------------------------------------------------- training


def test_training_logs_through_links_or_over_caps_are_not_read(tmp_path, outside, monkeypatch):
    folder = tmp_path / "round/sub/results/sys/bert"
    (folder / "power/result_0").mkdir(parents=True)
    (folder / "result_0.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(ResultLogError) as e:
        read_result_log(folder / "result_0.txt", "4.0.0")
    assert e.value.kind == "symlinked_file" and SECRET not in str(e.value)
    node = folder / "power/result_0/node_0.txt"
    node.write_text(':::MLLOG {"key": "power_reading"}\n' * 1000)
    monkeypatch.setenv("MLPERF_POWER_LIMITS", "training_power=10K")
    log = node_energy(node, 60_000.0, "4.0.0")
    assert log.energy_j is None and [i.kind for i in log.issues] == ["file_too_large"]
    score = score_benchmark_folder(folder, "4.0.0")
    assert [r.dropped for r in score.runs] == ["symlinked_file"]
    assert not score.scored
    assert all(SECRET not in i.message for i in score.issues)


def test_a_refusal_costs_no_time(tmp_path):
    root = tmp_path / "round"
    run = _result(root, "closed/S/results/box/resnet50/Offline", detail=INF / "detail_offline.txt")
    with open(run / "spl.txt", "wb") as f:
        f.truncate(5 << 30)  # sparse
    t = time.perf_counter()
    table = read_tree_round(root, "v3.0", "synth/tree", COMMIT)
    assert time.perf_counter() - t < 5
    assert "file_too_large" in set(table.problems.kind)
    assert isinstance(table.results, pd.DataFrame) and len(table.results) >= 1


def test_long_identifiers_are_clipped_in_messages():
    assert clip("a" * 96) == "a" * 96
    got = clip("closed/" + "x" * 500 + "/results/s/resnet50/Offline")
    assert len(got) == 96 and "x" * 100 not in got
    assert got.startswith("closed/xx") and got.endswith("/results/s/resnet50/Offline")
