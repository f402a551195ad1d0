"""Where a local result lands among published ones (pure pandas, synthetic frames)."""

from __future__ import annotations

import math

from test_metrics import frame, row

from mlperf_power_dag.compare import ALL, LATEST, compare_local

ORDER = ["v4.0", "v4.1"]


def published():
    return frame(
        [
            row("v4.0", "resnet50", sps=100, power=10, system="a"),  # 10 samples/J
            row("v4.0", "resnet50", sps=300, power=10, system="b"),  # 30
            row("v4.1", "resnet50", sps=200, power=10, system="c"),  # 20
            row("v4.1", "resnet50", sps=400, power=10, system="d"),  # 40
            row("v4.1", "resnet50", sps=120, power=10, system="e"),  # 12
            row("v4.1", "resnet50", sps=900, power=10, system="x", valid=False),  # invalid
            row("v4.1", "resnet50", sps=900, power=None, system="y"),  # no power
            row("v4.1", "resnet50", sps=900, power=10, system="z", division="open"),
            row("v4.1", "resnet50", sps=900, power=10, system="w", scenario="Server"),
        ]
    )


def test_rank_percentile_and_neighbours_in_latest_round_and_all_rounds():
    local = frame([row("v4.1", "resnet50", sps=250, power=10, system="mine")])  # 25
    out = compare_local(local, published(), ORDER, "lab").set_index("scope")
    latest, every = out.loc[LATEST], out.loc[ALL]
    assert latest["scope_rounds"] == "v4.1" and every["scope_rounds"] == "v4.0,v4.1"
    assert (latest["published"], latest["rank"]) == (3, 2)  # 40 > 25 > 20, 12
    assert math.isclose(latest["percentile"], 200 / 3)
    assert (latest["beats_system"], latest["trails_system"]) == ("c", "d")
    assert math.isclose(latest["beats_ratio"], 25 / 20)
    assert math.isclose(latest["trails_ratio"], 40 / 25)
    assert (every["published"], every["rank"]) == (5, 3)  # 40, 30 above
    assert (every["beats_system"], every["beats_round"]) == ("c", "v4.1")
    assert (every["trails_system"], every["trails_round"]) == ("b", "v4.0")
    assert math.isclose(every["trails_ratio"], 30 / 25) and math.isclose(every["percentile"], 60)


def test_best_of_all_has_nothing_above_and_an_unmatched_group_ranks_alone():
    local = frame(
        [
            row("v4.1", "resnet50", sps=500, power=10, system="mine"),  # 50: best
            row("v4.1", "bert-99", sps=10, power=10, system="mine"),  # nothing published
            row("v4.1", "resnet50", sps=10, power=None, system="mine", scenario="Server"),
        ]
    )
    out = compare_local(local, published(), ORDER, "lab")
    assert len(out) == 4  # two results with power, two scopes each
    best = out[(out.benchmark == "resnet50") & (out.scope == ALL)].iloc[0]
    assert best["rank"] == 1 and best["percentile"] == 100 and best["trails_system"] is None
    assert math.isnan(best["trails_ratio"]) and math.isclose(best["beats_ratio"], 50 / 40)
    alone = out[out.benchmark == "bert-99"]
    assert set(alone["rank"]) == {1} and set(alone["published"]) == {0}
    assert alone["percentile"].isna().all() and set(alone["scope_rounds"]) == {""}
