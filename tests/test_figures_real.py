"""Every figure's plotted values recomputed independently from the warehouse tables.

The session build (`built`, tests/conftest.py) writes the tables to DuckDB and the figures'
data to `figures/<key>.csv`. Here each figure's points are recomputed with plain SQL/pandas
straight from the table rows, following the definitions in /work/shared/paper/FIGURES.md and
docs/figures.md, without calling the project's metrics or figure code, and compared with the
CSV: values (rel 1e-9) and the provenance of each point (the row the value came from).
"""

from __future__ import annotations

import datetime as dt
import math

import duckdb
import numpy as np
import pandas as pd
import pytest

REL = 1e-9
KEYS = [
    "fig1",
    "fig2",
    "fig5a",
    "fig5b",
    "fig5c",
    "fig6",
    "fig7",
    "fig8",
    "fig9",
    "fig10",
    "fig11a",
]
TREND_KEYS = ["fig5a", "fig5b", "fig5c"]
# Columns that are numbers in some figure's CSV; everything else is compared as text.
NUMERIC = {
    "y",
    "value",
    "relative",
    "round_best",
    "energy_per_inference_uj",
    "efficiency",
    "efficiency_a",
    "efficiency_b",
    "efficiency_before",
    "efficiency_after",
}
# 3D U-Net changed its task in v2.0 (BraTS 2019 -> KiTS19): earlier results are another benchmark.
BRATS = {"3d-unet-99": "3d-unet-99-brats19", "3d-unet-99.9": "3d-unet-99.9-brats19"}
PROVENANCE = ["round", "submitter", "system", "benchmark", "scenario", "division", "source_path"]


def vkey(version: str) -> tuple[int, ...]:
    """Sort key of a round version ("v1.10" after "v1.9")."""
    return tuple(int(p) for p in version.lstrip("v").split("."))


def close(a: float, b: float) -> bool:
    return math.isclose(float(a), float(b), rel_tol=REL, abs_tol=0.0)


def text(v) -> str:
    """A table value as the CSV writes it (None/NaN empty)."""
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return ""
    return str(v)


def same_row(point: pd.Series, row: pd.Series, cols=PROVENANCE) -> None:
    """The CSV point names the table row it came from."""
    got = {c: point[c] for c in cols}
    want = {c: text(row[c]) for c in cols}
    assert got == want


# --- the data ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tables(built) -> dict[str, pd.DataFrame]:
    """The three results tables of the session build, read once (DuckDB closed again)."""
    con = duckdb.connect(str(built["home"] / "warehouse.duckdb"), read_only=True)
    try:
        out = {t: con.sql(f"select * from mlperf.{t}_results").df() for t in ("inference", "tiny")}
        out["training"] = con.sql("select * from mlperf.training_results").df()
    finally:
        con.close()
    inf = out["inference"]
    early = inf["round"].map(lambda v: vkey(v) < (2, 0)) & inf["benchmark"].isin(list(BRATS))
    inf.loc[early, "benchmark"] = inf.loc[early, "benchmark"].map(BRATS)
    return out


@pytest.fixture(scope="module")
def fig(built):
    """`fig(key)` -> the figure's CSV, text columns as text ("" for empty), numbers as float."""
    cache: dict[str, pd.DataFrame] = {}

    def _read(key: str) -> pd.DataFrame:
        if key not in cache:
            df = pd.read_csv(built["home"] / "figures" / f"{key}.csv", dtype=str)
            df = df.fillna("")
            for c in NUMERIC & set(df.columns):
                df[c] = pd.to_numeric(df[c].replace("", np.nan)).astype(float)
            cache[key] = df
        return cache[key]

    return _read


def sql(query: str, **frames: pd.DataFrame) -> pd.DataFrame:
    """Run a query over pandas frames (registered under their keyword names) in-memory."""
    con = duckdb.connect()
    try:
        for name, frame in frames.items():
            con.register(name, frame)
        return con.sql(query).df()
    finally:
        con.close()


def power_results(inf: pd.DataFrame, category: str) -> pd.DataFrame:
    """Valid closed Offline results of a category with a usable samples/J (column `eff`).

    samples/J is the row's own value, else samples/s / W of the same row (SQL, no metrics code).
    """
    out = sql(
        f"""
        select *, coalesce(samples_per_joule, samples_per_second / power_w) as eff
        from inf
        where valid and category = '{category}' and division = 'closed'
          and scenario = 'Offline' and (power_w is not null or samples_per_joule is not null)
        """,
        inf=inf,
    )
    return out[np.isfinite(out["eff"]) & (out["eff"] > 0)]


def best(rows: pd.DataFrame, value: str, by=("benchmark", "round")) -> pd.DataFrame:
    """Row holding the largest `value` per group; ties to the first submitter, then system."""
    ordered = rows.sort_values(
        [value, "submitter", "system"], ascending=[False, True, True], kind="mergesort"
    )
    return ordered.drop_duplicates(list(by), keep="first")


def trend(rows: pd.DataFrame, value: str) -> dict[str, list[dict]]:
    """Per benchmark, per round in order: round best, running max, its holder, normalized."""
    out: dict[str, list[dict]] = {}
    for bench, grp in best(rows, value).groupby("benchmark"):
        grp = grp.sort_values("round", key=lambda s: s.map(vkey))
        holder = None
        points = []
        for _, r in grp.iterrows():
            if holder is None or r[value] > holder[value]:
                holder = r
            points.append({"x": r["round"], "round_best": r[value], "holder": holder})
        base = points[0]["holder"][value]
        for pt in points:
            pt["value"] = pt["holder"][value]
            pt["y"] = pt["value"] / base
        out[str(bench)] = points
    return out


def check_trend(
    csv: pd.DataFrame, expected: dict[str, list[dict]], value: str, cols=PROVENANCE
) -> None:
    """Every plotted point of a trend CSV equals the independent running max."""
    for bench, points in expected.items():
        got = csv[csv["benchmark"] == bench]
        assert list(got["x"]) == [p["x"] for p in points], bench
        for (_, g), p in zip(got.iterrows(), points, strict=True):
            h = p["holder"]
            where = f"{bench} {p['x']}"
            assert close(g["round_best"], p["round_best"]), where
            assert close(g["value"], p["value"]) and close(g["value"], h[value]), where
            assert close(g["y"], p["y"]), (where, g["y"], p["y"])
            same_row(g, h, cols)


# --- consistency of every CSV -----------------------------------------------------------


@pytest.mark.parametrize("key", KEYS)
def test_every_point_is_finite_and_from_a_real_round(built, fig, tables, key):
    for ext in ("png", "svg", "csv"):
        assert (built["home"] / "figures" / f"{key}.{ext}").stat().st_size > 0, ext
    df = fig(key)
    assert len(df), key
    y = df["y"].to_numpy(dtype=float)
    assert np.isfinite(y).all(), df.loc[~np.isfinite(y), ["series", "x"]].to_dict("records")
    rounds = {s: set(t["round"]) for s, t in tables.items()}
    suite = {"fig5c": "tiny", "fig6": "training"}.get(key, "inference")
    if key == "fig2":  # one scale per suite
        for scale, s in (("Tiny", "tiny"), ("Edge", "inference"), ("Training", "training")):
            assert set(df.loc[df["x"] == scale, "round"]) <= rounds[s], scale
        assert set(df.loc[df["x"] == "Datacenter", "round"]) <= rounds["inference"]
    elif key == "fig7":  # datacenter bars: inference; tiny bars: tiny
        assert set(df.loc[df["scale"] == "Datacenter", "round"]) <= rounds["inference"]
        assert set(df.loc[df["scale"] == "Tiny", "round"]) <= rounds["tiny"]
    elif key == "fig1":  # the Moore curve has no provenance; its x are rounds too
        bench = df[df["series"] != "Moore's law"]
        assert set(bench["round"]) | set(bench["x"]) <= rounds["inference"]
        moore = df[df["series"] == "Moore's law"]
        # KNOWN DISCREPANCY (figure bug, left failing on purpose): fig1 draws its Moore curve
        # at every catalog/registry round between v0.5 and the last plotted one, so in the
        # session build (which registers an unreachable inference v0.6) the CSV and the PNG
        # carry a "v0.6" point/tick at an invented date (v0.5 + 182 days = 2020-05-06,
        # y = 1.1885) for a round that has no results at all.
        assert set(moore["x"]) <= rounds["inference"], sorted(set(moore["x"]) - rounds["inference"])
    else:
        assert set(df["round"]) <= rounds[suite], sorted(set(df["round"]) - rounds[suite])
    if key in TREND_KEYS + ["fig9", "fig11a"]:
        assert set(df["x"]) <= rounds[suite]
    if key == "fig10":
        assert set(df["round_before"]) <= rounds[suite]


@pytest.mark.parametrize("key", TREND_KEYS)
def test_trend_running_max_never_decreases(fig, key):
    df = fig(key)
    for bench, grp in df.groupby("benchmark"):
        grp = grp.assign(_k=grp["x"].map(vkey)).sort_values("_k")
        assert list(grp["x"]) == list(df.loc[df["benchmark"] == bench, "x"]), "rounds in order"
        assert grp["x"].is_unique, bench
        ys, vals = grp["y"].to_numpy(), grp["value"].to_numpy()
        assert (np.diff(ys) >= 0).all() and (np.diff(vals) >= 0).all(), bench
        assert close(ys[0], 1.0), bench
        assert (grp["round_best"].to_numpy() <= vals * (1 + REL)).all(), bench
        # The holder of the maximum is from the plotted round or an earlier one.
        assert all(vkey(r) <= vkey(x) for r, x in zip(grp["round"], grp["x"], strict=True))
        assert (grp["x_date"].to_numpy()[:-1] < grp["x_date"].to_numpy()[1:]).all(), bench


# --- Figure 1 ---------------------------------------------------------------------------


def test_fig1_best_throughput_normalized_to_first_round(fig, tables):
    df = fig("fig1")
    inf = tables["inference"]
    rows = inf[
        inf["valid"]
        & (inf["category"] == "datacenter")
        & (inf["division"] == "closed")
        & (inf["scenario"] == "Offline")
    ]
    sps = rows["samples_per_second"].astype(float)
    rows = rows[np.isfinite(sps) & (sps > 0)]
    top = best(rows, "samples_per_second")
    moore = df[df["series"] == "Moore's law"].set_index("x")
    origin = dt.date.fromisoformat(moore.loc["v0.5", "x_date"])
    for x, m in moore.iterrows():  # 2x every two years from v0.5
        years = (dt.date.fromisoformat(m["x_date"]) - origin).days / 365.25
        assert close(m["y"], 2.0 ** (years / 2.0)), x
    benches = df.loc[df["series"] != "Moore's law", "benchmark"].unique()
    assert {"resnet50", "retinanet", "3d-unet-99", "gptj-99", "dlrm-v2-99"} <= set(benches)
    for bench in benches:
        want = top[top["benchmark"] == bench].sort_values("round", key=lambda s: s.map(vkey))
        got = df[df["benchmark"] == bench]
        assert list(got["x"]) == list(want["round"]), bench
        first = want.iloc[0]
        start = moore.loc[first["round"], "y"]
        for (_, g), (_, w) in zip(got.iterrows(), want.iterrows(), strict=True):
            rel = w["samples_per_second"] / first["samples_per_second"]
            assert close(g["value"], w["samples_per_second"]), (bench, w["round"])
            assert close(g["relative"], rel), (bench, w["round"])
            assert close(g["y"], rel * start), (bench, w["round"])
            same_row(g, w)
    # 3D U-Net is the KiTS19 task only (v2.0 on); ResNet's v0.5 best is the 32-chip TPU pod.
    assert min(df.loc[df["benchmark"] == "3d-unet-99", "round"], key=vkey) == "v2.0"
    r0 = df[(df["benchmark"] == "resnet50") & (df["x"] == "v0.5")].iloc[0]
    assert (r0["submitter"], r0["system"]) == ("Google", "tpu-v3.8x32")


# --- Figure 2 ---------------------------------------------------------------------------


def _extremes(rows: pd.DataFrame, power: pd.Series) -> tuple[pd.Series, pd.Series]:
    rows = rows.assign(p=power.astype(float))
    rows = rows[np.isfinite(rows["p"]) & (rows["p"] > 0)]
    low = rows.sort_values(["p", "submitter", "system"], kind="mergesort").iloc[0]
    high = rows.sort_values(
        ["p", "submitter", "system"], ascending=[False, True, True], kind="mergesort"
    ).iloc[0]
    return low, high


def test_fig2_min_and_max_power_per_scale(fig, tables):
    df = fig("fig2")
    inf, tiny, train = tables["inference"], tables["tiny"], tables["training"]
    expected = {}
    for scale, category in (("Edge", "edge"), ("Datacenter", "datacenter")):
        rows = inf[
            inf["valid"]
            & (inf["category"] == category)
            & (inf["division"] == "closed")
            & (inf["scenario"] == "Offline")
            & inf["power_w"].notna()
        ]
        expected[scale] = (*_extremes(rows, rows["power_w"]), PROVENANCE)
    t = tiny[(tiny["division"] == "closed")]
    t = t[t["power_w"].notna() | t["energy_per_inference_uj"].notna()]
    derived = t["energy_per_inference_uj"] * 1e-6 * t["throughput_ips"]
    low, high = _extremes(t, t["power_w"].where(t["power_w"].notna(), derived))
    tiny_cols = ["round", "submitter", "system", "benchmark", "division", "source_path"]
    expected["Tiny"] = (low, high, tiny_cols)
    tr = train[train["division"] == "closed"]
    low, high = _extremes(tr, tr["energy_j"] / (tr["time_to_train_min"] * 60.0))
    expected["Training"] = (low, high, tiny_cols)
    assert len(df) == 8 and set(df["x"]) == set(expected)
    for scale, (low, high, cols) in expected.items():
        for series, row in (("min", low), ("max", high)):
            got = df[(df["x"] == scale) & (df["series"] == series)]
            assert len(got) == 1, (scale, series)
            g = got.iloc[0]
            assert close(g["y"], row["p"]), (scale, series, g["y"], row["p"])
            same_row(g, row, cols)
    assert df.loc[df["x"].isin(["Edge", "Datacenter"]), "scenario"].eq("Offline").all()


# --- Figures 5a, 5b, 5c -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "category", "listed"),
    [
        (
            "fig5a",
            "datacenter",
            [
                "resnet50",
                "retinanet",
                "bert-99",
                "rnnt",
                "gptj-99",
                "dlrm-v2-99",
                "llama2-70b-99.9",
            ],
        ),
        ("fig5b", "edge", ["resnet50", "retinanet", "bert-99", "rnnt"]),
    ],
)
def test_fig5ab_running_max_of_best_samples_per_joule(fig, tables, key, category, listed):
    df = fig(key)
    rows = power_results(tables["inference"], category)
    expected = trend(rows, "eff")
    # The plotted benchmarks: the listed ones, plus (5a) each benchmark first measured with
    # power in v4.0 or later with power results in >= 2 rounds.
    want = {b for b in listed if b in expected}
    if key == "fig5a":
        for bench, points in expected.items():
            rounds_ = [p["x"] for p in points]
            if bench not in listed and vkey(rounds_[0]) >= (4, 0) and len(rounds_) >= 2:
                want.add(bench)
    assert set(df["benchmark"]) == want
    assert {"resnet50", "retinanet", "bert-99", "rnnt"} <= want
    check_trend(df, {b: expected[b] for b in want}, "eff")
    assert (df["scenario"] == "Offline").all() and (df["division"] == "closed").all()
    # Spot values (rounded) from docs/figures.md, to see the recomputation is the documented one.
    last = df.groupby("benchmark")["y"].last()
    if key == "fig5a":
        assert round(last["retinanet"], 2) == 2.99 and round(last["bert-99"], 2) == 1.69
    else:
        assert round(last["bert-99"], 2) == 4.00 and round(last["retinanet"], 2) == 3.74


def test_fig5c_tiny_running_max_of_inferences_per_joule(fig, tables):
    df = fig("fig5c")
    tiny = tables["tiny"]
    rows = tiny[(tiny["division"] == "closed") & tiny["benchmark"].isin(["ic", "vww", "kws", "ad"])]
    energy = (
        rows[["energy_per_inference_uj", "inferences_per_joule", "power_w"]].notna().any(axis=1)
    )
    rows = rows[energy]
    epi = rows["energy_per_inference_uj"].astype(float)
    ipj = (1e6 / epi).where(epi.notna(), rows["inferences_per_joule"].astype(float))
    rows = rows.assign(ipj=ipj)
    rows = rows[np.isfinite(rows["ipj"]) & (rows["ipj"] > 0)]
    expected = trend(rows, "ipj")
    assert set(df["benchmark"]) == {"ic", "vww", "kws", "ad"} == set(expected)
    cols = [c for c in PROVENANCE if c != "scenario"] + ["source_repo", "source_commit"]
    check_trend(df, expected, "ipj", cols)  # tiny rows have no scenario column
    assert (df["scenario"] == "SingleStream").all()
    for bench, points in expected.items():
        assert points[0]["x"] == "v0.5", bench  # normalized to v0.5
        got = df[df["benchmark"] == bench]
        for (_, g), p in zip(got.iterrows(), points, strict=True):
            assert close(g["energy_per_inference_uj"], p["holder"]["energy_per_inference_uj"])
            # The round's own best is named too.
            own = best(rows[(rows["benchmark"] == bench) & (rows["round"] == p["x"])], "ipj")
            assert (g["round_best_submitter"], g["round_best_system"]) == (
                own.iloc[0]["submitter"],
                own.iloc[0]["system"],
            )


# --- Figure 6 ---------------------------------------------------------------------------


def test_fig6_llama2_lora_energy_and_time_per_scale(fig, tables):
    df = fig("fig6")
    tr = tables["training"]
    rows = tr[
        (tr["round"] == "v4.0")
        & (tr["benchmark"] == "llama2_70b_lora")
        & (tr["division"] == "closed")
        & tr["power_measurement"].isin(["AC", "DC"])
    ]
    assert sorted(set(rows["accelerators"])) == [8, 64, 512]
    assert len(df) == 3 * len(rows) == 18
    cols = ["round", "submitter", "system", "benchmark", "division", "source_path"]
    for _, r in rows.iterrows():
        v = r["power_measurement"]
        for series, want, unit in (
            ("compute energy", r["compute_energy_j"] / 1e6, "MJ"),
            ("interconnect energy", r["interconnect_energy_j"] / 1e6, "MJ"),
            ("time to train", r["time_to_train_min"], "min"),
        ):
            got = df[(df["series"] == f"{series} ({v})") & (df["x"] == str(r["accelerators"]))]
            assert len(got) == 1, (series, v, r["accelerators"])
            g = got.iloc[0]
            assert close(g["y"], want), (series, v, r["accelerators"], g["y"], want)
            assert g["unit"] == unit and g["power_measurement"] == v
            assert (g["nodes"], g["source_commit"]) == (str(r["nodes"]), r["source_commit"])
            same_row(g, r, cols)
        # The split adds up to the energy to train.
        assert close(r["compute_energy_j"] + r["interconnect_energy_j"], r["energy_j"])
    one = rows[(rows["accelerators"] == 8)]
    assert (one["interconnect_energy_j"] == 0).all()  # one node, no switch


# --- Figure 7 ---------------------------------------------------------------------------


def test_fig7_energy_per_sample_of_the_chosen_systems(fig, tables):
    df = fig("fig7")
    inf, tiny = tables["inference"], tables["tiny"]
    system = "DGX-H100_H100-SXM-80GBx8_TRT_MaxQ"
    rows = power_results(inf, "datacenter")
    rows = rows[(rows["round"] == "v4.0") & (rows["system"] == system)]
    benches = set(rows["benchmark"])
    # The system ran both accuracy targets: the higher one is plotted.
    rows = rows[~rows["benchmark"].map(lambda b: b.endswith("-99") and f"{b}.9" in benches)]
    bars = df[df["series"] == "energy per sample"]
    dc = bars[bars["scale"] == "Datacenter"]
    assert set(dc["benchmark"]) == set(rows["benchmark"])
    assert {"resnet50", "bert-99.9", "gptj-99.9", "stable-diffusion-xl"} <= set(dc["benchmark"])
    for _, r in rows.iterrows():
        g = dc[dc["benchmark"] == r["benchmark"]].iloc[0]
        assert close(g["y"], 1.0 / r["eff"]), (r["benchmark"], g["y"], 1.0 / r["eff"])
        same_row(g, r)
    t = tiny[
        (tiny["round"] == "v1.2")
        & (tiny["division"] == "closed")
        & (tiny["system"] == "NUCLEO_L4R5ZI")
    ]
    t = t[t["energy_per_inference_uj"].notna() & (t["energy_per_inference_uj"] > 0)]
    tb = bars[bars["scale"] == "Tiny"]
    assert len(t) and set(tb["benchmark"]) == set(t["benchmark"])
    for _, r in t.iterrows():
        g = tb[tb["benchmark"] == r["benchmark"]].iloc[0]
        assert close(g["y"], r["energy_per_inference_uj"] * 1e-6), r["benchmark"]
        same_row(g, r, ["round", "submitter", "system", "benchmark", "division", "source_path"])
    assert list(bars["y"]) == sorted(bars["y"], reverse=True)  # sorted bars
    macs = df[df["series"] == "MACs per sample"]
    assert list(macs["benchmark"]) == list(bars["benchmark"])
    assert (macs["y"] > 0).all()


# --- Figures 8 and 9 --------------------------------------------------------------------


@pytest.fixture(scope="module")
def bert_pairs(tables) -> pd.DataFrame:
    """bert-99 and bert-99.9 datacenter closed Offline results with power of one system in one
    round, joined in SQL (the join must not multiply rows)."""
    rows = power_results(tables["inference"], "datacenter")
    pairs = sql(
        """
        select a.round, a.submitter, a.system, a.eff as eff99, b.eff as eff999,
               a.source_path as path99, b.source_path as path999, a.system_name
        from rows a join rows b
          on a.round = b.round and a.submitter = b.submitter and a.system = b.system
        where a.benchmark = 'bert-99' and b.benchmark = 'bert-99.9'
        """,
        rows=rows,
    )
    assert not pairs.duplicated(["round", "system"]).any()
    return pairs


def test_fig8_bert99_vs_bert999_drop_per_round_and_system(fig, bert_pairs):
    df = fig("fig8")
    assert not df.duplicated(["round", "system"]).any()
    assert len(df) == len(bert_pairs) > 30
    assert set(zip(df["round"], df["system"], strict=True)) == set(
        zip(bert_pairs["round"], bert_pairs["system"], strict=True)
    )
    assert {"v3.0"} <= set(df["round"])  # the rounds the paper lost are there
    for _, p in bert_pairs.iterrows():
        g = df[(df["round"] == p["round"]) & (df["system"] == p["system"])].iloc[0]
        drop = (1.0 - p["eff999"] / p["eff99"]) * 100.0
        assert close(g["y"], drop), (p["round"], p["system"], g["y"], drop)
        assert close(g["efficiency_a"], p["eff99"]) and close(g["efficiency_b"], p["eff999"])
        assert g["x"] == f"{p['round']} {p['system']}" and g["submitter"] == p["submitter"]
        assert (g["source_path_a"], g["source_path_b"]) == (p["path99"], p["path999"])
        assert (g["scenario"], g["division"], g["benchmark"]) == (
            "Offline",
            "closed",
            "bert-99/bert-99.9",
        )


FIG9_SYSTEMS = {
    "v1.0": "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ",
    "v1.1": "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ",
    "v2.0": "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ",
    "v2.1": "DGX-A100_A100-SXM-80GBx8_TRT_MaxQ",
    "v3.1": "DGX-H100_H100-SXM-80GBx8_TRT_MaxQ",
    "v4.0": "DGX-H100_H100-SXM-80GBx8_TRT_MaxQ",
    "v4.1": "H200-SXM-141GBx8_TRT_MaxQ",
}


def test_fig9_bert999_relative_to_bert99_per_round(fig, bert_pairs):
    df = fig("fig9")
    assert list(df.loc[df["series"] == "bert-99", "x"]) == list(FIG9_SYSTEMS)
    assert list(df.loc[df["series"] == "bert-99.9", "x"]) == list(FIG9_SYSTEMS)
    for version, system in FIG9_SYSTEMS.items():
        p = bert_pairs[(bert_pairs["round"] == version) & (bert_pairs["system"] == system)]
        assert len(p) == 1, version
        p = p.iloc[0]
        a = df[(df["x"] == version) & (df["series"] == "bert-99")].iloc[0]
        b = df[(df["x"] == version) & (df["series"] == "bert-99.9")].iloc[0]
        assert a["y"] == 1.0 and close(a["efficiency"], p["eff99"]), version
        assert close(b["y"], p["eff999"] / p["eff99"]), (version, b["y"])
        assert close(b["efficiency"], p["eff999"]), version
        for g, bench, path in ((a, "bert-99", p["path99"]), (b, "bert-99.9", p["path999"])):
            assert (g["round"], g["system"], g["benchmark"], g["source_path"]) == (
                version,
                system,
                bench,
                path,
            )
            assert (g["submitter"], g["scenario"], g["division"]) == (
                p["submitter"],
                "Offline",
                "closed",
            )
            assert g["system_name"] == text(p["system_name"])
    ratios = df[df["series"] == "bert-99.9"].set_index("x")["y"]
    assert ratios[["v1.0", "v1.1", "v2.0", "v2.1"]].between(0.4, 0.55).all()
    assert ratios[["v3.1", "v4.0", "v4.1"]].between(0.8, 0.9).all()


# --- Figure 10 --------------------------------------------------------------------------


def test_fig10_same_hardware_consecutive_round_pairs(fig, tables):
    df = fig("fig10")
    inf = tables["inference"]
    rows = power_results(inf, "datacenter")
    norm = lambda s: s.fillna("").astype(str).str.split().str.join(" ").str.lower()  # noqa: E731
    rows = rows.assign(
        k_sub=norm(rows["submitter"]),
        k_acc=norm(rows["accelerator"]),
        k_n=rows["accelerators"].map(lambda n: "" if pd.isna(n) else str(int(n))),
        k_host=norm(rows["host_processor"]),
    )
    hw = ["benchmark", "k_sub", "k_acc", "k_n", "k_host"]
    # One result per hardware, benchmark and round: the most efficient (then first system).
    reps = rows.sort_values(["eff", "system"], ascending=[False, True], kind="mergesort")
    reps = reps.drop_duplicates([*hw, "round"])
    order = sorted(set(inf["round"]), key=vkey)
    nxt = dict(zip(order, order[1:], strict=False))
    before = reps.assign(next_round=reps["round"].map(nxt))
    pairs = before.merge(
        reps, left_on=[*hw, "next_round"], right_on=[*hw, "round"], suffixes=("_b", "_a")
    )
    assert not pairs.duplicated([*hw, "round_b"]).any()
    assert len(df) == len(pairs) > 50
    # No pair twice: one row per (benchmark, round step, hardware).
    key = [
        "benchmark",
        "round_before",
        "round",
        "submitter",
        "accelerator",
        "accelerators",
        "host_processor",
    ]
    assert not df.duplicated(key).any()
    assert not df.duplicated(["benchmark", "round", "system"]).any()
    assert not df.duplicated(["benchmark", "round_before", "system_before"]).any()
    labels = set(df["x"])
    for _, p in pairs.iterrows():
        x = f"{p['benchmark']} {p['round_b']}->{p['round_a']} {p['system_a']}"
        assert x in labels, x
        g = df[df["x"] == x].iloc[0]
        change = (p["eff_a"] / p["eff_b"] - 1.0) * 100.0
        assert close(g["y"], change), (x, g["y"], change)
        assert close(g["efficiency_before"], p["eff_b"]) and close(
            g["efficiency_after"], p["eff_a"]
        )
        assert (g["round_before"], g["system_before"], g["source_path_before"]) == (
            p["round_b"],
            p["system_b"],
            p["source_path_b"],
        )
        assert (g["round"], g["system"], g["source_path_after"], g["submitter"]) == (
            p["round_a"],
            p["system_a"],
            p["source_path_a"],
            p["submitter_a"],
        )
        assert (g["scenario"], g["division"]) == ("Offline", "closed")
    # 3D U-Net changed task in v2.0: no pair crosses it.
    assert not ((df["benchmark"].str.startswith("3d-unet")) & (df["round"] == "v2.0")).any()


# --- Figure 11a -------------------------------------------------------------------------


FIG11A_SYSTEMS = {
    "v1.1": "r282_z93_q5-qaic-v1.5.6-aic100",
    "v2.0": "r282_z93_q5e-qaic-v1.6.80-aic100",
    "v3.0": "r282_z93_q5e-qaic-v1.8.3.7-aic100",
    "v3.1": "r282_z93_q5e",
}


def test_fig11a_one_edge_system_normalized_to_first_round(fig, tables):
    df = fig("fig11a")
    inf = tables["inference"]
    picked = []
    for version, system in FIG11A_SYSTEMS.items():
        hit = inf[
            inf["valid"]
            & (inf["round"] == version)
            & (inf["system"] == system)
            & (inf["category"] == "edge")
            & (inf["division"] == "closed")
            & (inf["benchmark"] == "resnet50")
            & (inf["scenario"] == "Offline")
        ]
        assert len(hit) == 1, version
        picked.append(hit.iloc[0])
    first = picked[0]
    eff = lambda r: (  # noqa: E731
        r["samples_per_joule"]
        if pd.notna(r["samples_per_joule"])
        else r["samples_per_second"] / r["power_w"]
    )
    for series, value in (
        ("efficiency", eff),
        ("performance", lambda r: r["samples_per_second"]),
        ("power", lambda r: r["power_w"]),
    ):
        got = df[df["series"] == series]
        assert list(got["x"]) == list(FIG11A_SYSTEMS), series
        for (_, g), r in zip(got.iterrows(), picked, strict=True):
            assert close(g["value"], value(r)), (series, r["round"])
            assert close(g["y"], value(r) / value(first)), (series, r["round"], g["y"])
            same_row(g, r)
    e = df[df["series"] == "efficiency"].set_index("x")["y"]
    assert list(e.round(2)) == [1.00, 1.14, 1.18, 1.22]  # docs/figures.md
