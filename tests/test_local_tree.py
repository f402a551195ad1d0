"""A local tree is read by the published round's reader; scaling its power scales efficiency."""

from __future__ import annotations

import math

from localtree import RESULT, make_local_tree

from mlperf_power_dag.readers.inference_tree import read_tree_round


def test_scaled_power_trace_raises_efficiency_by_exactly_its_inverse(mirror_root, tmp_path):
    original = make_local_tree(mirror_root, tmp_path / "orig")
    scaled = make_local_tree(mirror_root, tmp_path / "scaled", scale=0.8)
    a = read_tree_round(original, "v4.1", "local/orig", "0" * 40).results
    b = read_tree_round(scaled, "v4.1", "local/scaled", "0" * 40).results
    assert len(a) == len(b) == 1 and a.source_path.iloc[0] == RESULT
    assert math.isclose(b.power_w.iloc[0], 0.8 * a.power_w.iloc[0], rel_tol=1e-12)
    ratio = b.samples_per_joule.iloc[0] / a.samples_per_joule.iloc[0]
    assert math.isclose(ratio, 1 / 0.8, rel_tol=1e-12)
