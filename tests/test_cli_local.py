"""`mlperf-power add-local` refuses bad input with one clear line and touches nothing."""

from __future__ import annotations

import logging

import pytest
from test_local import INF, TINY, tree

from mlperf_power_dag import cli, local


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def add(caplog, *args: str) -> tuple[int, str]:
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="mlperf-power"):
        code = cli.main(["add-local", *args])
    return code, " | ".join(r.getMessage() for r in caplog.records)


def test_bad_trees_and_names_are_refused_before_anything_is_written(home, tmp_path, caplog):
    code, msg = add(caplog, str(tmp_path / "missing"), "--name", "lab")
    assert code == 2 and msg.endswith("missing: no such folder")
    empty = tmp_path / "empty"
    tree(empty, "README.md")
    code, msg = add(caplog, str(empty), "--name", "lab")
    assert code == 2 and "no inference results" in msg
    tiny = tmp_path / "tiny"
    tree(tiny, TINY)
    code, msg = add(caplog, str(tiny), "--name", "lab")
    assert code == 2 and "it holds tiny results" in msg
    ok = tmp_path / "ok"
    tree(ok, INF)
    for name in ("v4.1", "v9"):
        code, msg = add(caplog, str(ok), "--name", name)
        assert code == 2 and "looks like a published round" in msg
    code, msg = add(caplog, str(ok), "--name", "Bad/Name")
    assert code == 2 and "invalid name" in msg
    code, msg = add(caplog, str(ok), "--name", "lab", "--rules", "v9.9")
    assert code == 2 and "not a known inference round" in msg
    assert not home.exists()  # nothing registered, no instance made


def test_a_taken_name_is_refused_and_unknown_names_are_named(home, tmp_path, caplog):
    first, second = tmp_path / "a", tmp_path / "b"
    tree(first, INF)
    tree(second, INF)
    local.save(home, {"lab": local.LocalSubmission("lab", "inference", str(first), "v4.1")})
    code, msg = add(caplog, str(second), "--name", "lab")
    assert code == 2 and "is taken by inference tree" in msg and "remove-local lab" in msg
    with caplog.at_level(logging.ERROR, logger="mlperf-power"):
        assert cli.main(["remove-local", "other"]) == 2
        assert cli.main(["compare", "other"]) == 2
    assert "no local submission named 'other'" in caplog.text
