"""rounds.json: bad entries are skipped with a message naming the file and the entry."""

from __future__ import annotations

import json
import logging

import pytest

from mlperf_power_dag.rounds import registry
from mlperf_power_dag.rounds.catalog import Round

GOOD = {
    "suite": "inference",
    "version": "v5.0",
    "date": "2025-04-02",
    "repo": "inference_results_v5.0",
}
BAD = [
    {**GOOD, "version": "v5.1", "owner": "../../outside"},
    {**GOOD, "version": "v5.2", "repo": "../x"},
    {**GOOD, "version": "../v5.3"},
    {**GOOD, "suite": "automotive"},
    {**GOOD, "version": "v5.4", "ref": "--upload-pack=touch /tmp/x"},
    {**GOOD, "version": "v5.5", "date": "yesterday"},
    {**GOOD, "version": "v5.6", "shell": "rm -rf /"},
    {**GOOD, "version": "v5.7", "source": "ftp"},
    "v5.8",
]


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPERF_POWER_HOME", str(tmp_path))
    return tmp_path


def test_bad_entries_are_skipped_and_named(home, caplog):
    (home / "rounds.json").write_text(json.dumps([GOOD, *BAD]))
    with caplog.at_level(logging.WARNING, logger="mlperf-power"):
        found = registry.discovered("inference")
    assert [r.version for r in found] == ["v5.0"]
    msgs = [r.getMessage() for r in caplog.records]
    assert len(msgs) == len(BAD)
    assert all(str(home / "rounds.json") in m for m in msgs)
    assert any("entry 1 skipped: invalid owner '../../outside'" in m for m in msgs)
    assert any("entry 5 skipped: invalid ref" in m for m in msgs)
    assert any("entry 7 skipped: unknown field(s) ['shell']" in m for m in msgs)
    # every suite still works, with the catalog and the valid entry
    assert "v5.0" in [r.version for r in registry.all_rounds("inference")]
    assert [r.version for r in registry.all_rounds("tiny")][:1] == ["v0.5"]


@pytest.mark.parametrize("text", ["", "{", "{}", "null", "[1, 2]"])
def test_an_unreadable_file_leaves_the_catalog(home, text, caplog):
    (home / "rounds.json").write_text(text)
    with caplog.at_level(logging.WARNING, logger="mlperf-power"):
        assert len(registry.all_rounds("tiny")) == 6
    assert all(str(home / "rounds.json") in r.getMessage() for r in caplog.records)
    assert caplog.records


def test_record_writes_atomically_and_refuses_bad_rounds(home):
    registry.record([Round("inference", "v5.0", None, repo="inference_results_v5.0")])
    assert [r.version for r in registry.discovered()] == ["v5.0"]
    with pytest.raises(registry.RoundsFileError, match="invalid owner"):
        registry.record([Round("inference", "v5.1", None, owner="..")])
    assert [p.name for p in home.iterdir()] == ["rounds.json"]
    with pytest.raises(ValueError, match="invalid round version"):
        registry.round_for("inference", "v5/../../x")
