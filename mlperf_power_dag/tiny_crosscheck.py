"""Cross-check of the raw-parsed Tiny results against MLCommons' published summaries.

Two published formats are read into one comparable frame (`COLUMNS`):

- ``summary.csv`` at the root of ``tiny_results_v1.2`` (Organization, Division,
  SystemDesc, Model, Result in inf./sec., HasPower, Power in uJ/inf., Accuracy);
- the CMX tiny results in ``mlcommons/cm4mlperf-results``:
  ``experiment/mlperf-tiny--<round>--<division>--<benchmark>/<stamp>/cm-result.json`` for
  v0.7, v1.0 and v1.1 (``median_throughput``, ``median_energy_cost`` in uJ/inf.,
  ``accuracy_AUC`` for anomaly detection and ``accuracy_Top-1`` otherwise, as in the tiny
  table; ``__Organization``, ``__System``, ``__Model`` for the open-division model folders).
  The cross-round ``mlperf-tiny--all--...`` folders repeat the round folders and are not read.

`compare` pairs rows one to one by (round, division, submitter, system, model, benchmark),
names written as in the folders; a second pass pairs the leftovers without the submitter
when that is unique on both sides (CMX spells STMicroelectronics "STMicrolectronics" in
v1.1). Keys that occur more than once on a side (OctoML's two NUCLEO_L4R5ZI systems in
v1.0 both appear as ``NUCLEO_L4R5ZI`` in CMX) are reported as ambiguous, never guessed.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from mlperf_power_dag.benchmark_ids import canonical_tiny_benchmark
from mlperf_power_dag.parsers.tiny_results import parse_number

CMX_PATTERNS = ("/experiment/mlperf-tiny--v*/*/cm-result.json",)
SUMMARY_PATTERNS = ("/summary.csv",)
SUMMARY_SOURCE = "summary.csv"
SUMMARY_ROUNDS = ("v1.2",)  # the rounds whose results repository publishes summary.csv
# Agreement the cross-check asks of every published table: share of compared values within 1%.
MIN_SHARE_WITHIN = 0.98

COLUMNS = [
    "round",
    "division",
    "submitter",
    "system",
    "model",
    "benchmark",
    "throughput_ips",
    "energy_per_inference_uj",
    "accuracy",
    "source",
]
_KEY = ["round", "division", "submitter", "system", "model", "benchmark"]
_CMX_FOLDER = re.compile(r"^mlperf-tiny--(v\d+\.\d+)--([a-z]+)--([\w-]+)$")

# What `compare` says about each pair.
EXACT, NO_SUBMITTER, AMBIGUOUS, ONLY_OURS, ONLY_PUBLISHED = (
    "exact",
    "no_submitter",
    "ambiguous",
    "only_ours",
    "only_published",
)


def _num(v: Any) -> float | None:
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v) if math.isfinite(v) else None
    return parse_number(str(v)).value


def _frame(rows: Iterable[dict[str, Any]]) -> pd.DataFrame:
    df = pd.DataFrame(list(rows), columns=COLUMNS)
    for c in ("throughput_ips", "energy_per_inference_uj", "accuracy"):
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    return df


def read_summary_csv(data: bytes, version: str) -> pd.DataFrame:
    """MLCommons' ``summary.csv`` of a tiny round -> comparable rows (energy only if HasPower)."""
    raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    rows = []
    for r in raw.to_dict("records"):
        has_power = str(r.get("HasPower", "")).strip().lower() == "true"
        rows.append(
            {
                "round": version,
                "division": str(r.get("Division", "")).strip().lower(),
                "submitter": str(r.get("Organization", "")).strip(),
                "system": str(r.get("SystemDesc", "")).strip(),
                "model": "",
                "benchmark": canonical_tiny_benchmark(str(r.get("Model", "")))[0],
                "throughput_ips": _num(r.get("Result")),
                "energy_per_inference_uj": _num(r.get("Power")) if has_power else None,
                "accuracy": _num(r.get("Accuracy")),
                "source": "summary.csv",
            }
        )
    return _frame(rows)


def read_cmx_tiny(root: Path, rounds: Iterable[str] | None = None) -> pd.DataFrame:
    """The CMX tiny results under a cm4mlperf-results checkout -> comparable rows."""
    want = set(rounds) if rounds is not None else None
    rows = []
    for path in sorted((Path(root) / "experiment").glob("mlperf-tiny--*/*/cm-result.json")):
        m = _CMX_FOLDER.match(path.parent.parent.name)
        if m is None:
            continue
        version, division, _bench = m.groups()
        if want is not None and version not in want:
            continue
        rel = path.relative_to(root).as_posix()
        for r in json.loads(path.read_bytes()):
            if r.get("__version", version) != version:
                continue
            bench = canonical_tiny_benchmark(str(r.get("Benchmark") or _bench))[0]
            # the table's quality metric: AUC for anomaly detection, top-1 % otherwise
            acc = r.get("accuracy_AUC") if bench == "ad" else r.get("accuracy_Top-1")
            rows.append(
                {
                    "round": version,
                    "division": str(r.get("Division") or division).strip().lower(),
                    "submitter": str(r.get("__Organization") or r.get("Organization") or ""),
                    "system": str(r.get("__System") or ""),
                    "model": str(r.get("__Model") or ""),
                    "benchmark": bench,
                    "throughput_ips": _num(r.get("median_throughput")),
                    "energy_per_inference_uj": _num(r.get("median_energy_cost")),
                    "accuracy": _num(acc if acc is not None else r.get("Accuracy")),
                    "source": rel,
                }
            )
    return _frame(rows)


def comparable(tiny: pd.DataFrame) -> pd.DataFrame:
    """TinyResults rows -> comparable rows: ``a/b:MODEL`` gives system ``b``, model ``MODEL``.

    The published summaries name a system by its innermost results folder (OctoML's
    ``microtvm_cmsis_nn/NUCLEO_L4R5ZI`` is ``NUCLEO_L4R5ZI``) and keep the model apart.
    """
    rows = []
    for r in tiny.to_dict("records"):
        system, _, model = str(r["system"]).partition(":")
        rows.append(
            {
                "round": r["round"],
                "division": str(r["division"]).lower(),
                "submitter": r["submitter"],
                "system": system.rsplit("/", 1)[-1],
                "model": model,
                "benchmark": r["benchmark"],
                "throughput_ips": r["throughput_ips"],
                "energy_per_inference_uj": r["energy_per_inference_uj"],
                "accuracy": r["accuracy"],
                "source": r["source_path"],
            }
        )
    return _frame(rows)


def _norm(s: Any) -> str:
    return re.sub(r"[^a-z0-9]", "", str(s).lower())


def _keyed(df: pd.DataFrame, with_submitter: bool) -> pd.Series:
    cols = _KEY if with_submitter else [c for c in _KEY if c != "submitter"]
    # the rows' values as objects, as a row-wise apply sees them
    keys = [tuple(_norm(v) for v in row) for row in df[cols].to_numpy()]
    return pd.Series(keys, index=df.index, dtype=object)


def _rel(ours: Any, pub: Any) -> float:
    if pd.isna(ours) or pd.isna(pub) or pub == 0:
        return math.nan
    return float(ours) / float(pub) - 1.0


def _pair_row(o: dict | None, p: dict | None, match: str) -> dict[str, Any]:
    base = o if o is not None else p
    assert base is not None
    t_o = o["throughput_ips"] if o else math.nan
    t_p = p["throughput_ips"] if p else math.nan
    e_o = o["energy_per_inference_uj"] if o else math.nan
    e_p = p["energy_per_inference_uj"] if p else math.nan
    a_o = o["accuracy"] if o else math.nan
    a_p = p["accuracy"] if p else math.nan
    return {
        "round": base["round"],
        "division": base["division"],
        "submitter": base["submitter"],
        "published_submitter": p["submitter"] if p else None,
        "system": base["system"],
        "model": base["model"],
        "benchmark": base["benchmark"],
        "match": match,
        "throughput_ours": t_o,
        "throughput_published": t_p,
        "throughput_rel_diff": _rel(t_o, t_p),
        "energy_ours": e_o,
        "energy_published": e_p,
        "energy_rel_diff": _rel(e_o, e_p),
        "accuracy_ours": a_o,
        "accuracy_published": a_p,
        "accuracy_rel_diff": _rel(a_o, a_p),
        "ours_source": o["source"] if o else None,
        "published_source": p["source"] if p else None,
    }


def compare(ours: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """One row per pair or leftover: throughputs and energies side by side, ours/published - 1.

    `ours` and `published` are comparable frames (`comparable`, `read_summary_csv`,
    `read_cmx_tiny`); compare only the rounds both cover.
    """
    o = ours.reset_index(drop=True).to_dict("records")
    p = published.reset_index(drop=True).to_dict("records")
    out: list[dict[str, Any]] = []
    left_o, left_p = set(range(len(o))), set(range(len(p)))
    for with_sub, label in ((True, EXACT), (False, NO_SUBMITTER)):
        ko = _keyed(ours.reset_index(drop=True), with_sub) if len(o) else pd.Series([])
        kp = _keyed(published.reset_index(drop=True), with_sub) if len(p) else pd.Series([])
        groups_o: dict[tuple, list[int]] = {}
        groups_p: dict[tuple, list[int]] = {}
        for i in sorted(left_o):
            groups_o.setdefault(ko[i], []).append(i)
        for j in sorted(left_p):
            groups_p.setdefault(kp[j], []).append(j)
        for key in sorted(set(groups_o) & set(groups_p)):
            io_, ip_ = groups_o[key], groups_p[key]
            if len(io_) == 1 and len(ip_) == 1:
                out.append(_pair_row(o[io_[0]], p[ip_[0]], label))
                left_o.discard(io_[0])
                left_p.discard(ip_[0])
            elif with_sub:
                for i in io_:
                    out.append(_pair_row(o[i], None, AMBIGUOUS))
                    left_o.discard(i)
                for j in ip_:
                    out.append(_pair_row(None, p[j], AMBIGUOUS))
                    left_p.discard(j)
    out += [_pair_row(o[i], None, ONLY_OURS) for i in sorted(left_o)]
    out += [_pair_row(None, p[j], ONLY_PUBLISHED) for j in sorted(left_p)]
    df = pd.DataFrame(out)
    if df.empty:
        return df
    return df.sort_values(["round", "division", "submitter", "system", "model", "benchmark"])


def summarize(cmp: pd.DataFrame, tolerance: float = 0.01) -> dict[str, Any]:
    """Counts of a `compare` frame: pairs, leftovers, values within `tolerance` (relative)."""
    paired = cmp[cmp["match"].isin([EXACT, NO_SUBMITTER])]
    out: dict[str, Any] = {
        "pairs": int(len(paired)),
        "pairs_without_submitter": int((cmp["match"] == NO_SUBMITTER).sum()),
        "ambiguous_ours": int(((cmp["match"] == AMBIGUOUS) & cmp["ours_source"].notna()).sum()),
        "ambiguous_published": int(
            ((cmp["match"] == AMBIGUOUS) & cmp["published_source"].notna()).sum()
        ),
        "only_ours": int((cmp["match"] == ONLY_OURS).sum()),
        "only_published": int((cmp["match"] == ONLY_PUBLISHED).sum()),
        "tolerance": tolerance,
    }
    for what in ("throughput", "energy", "accuracy"):
        d = paired[f"{what}_rel_diff"]
        both = d.notna()
        within = both & (d.abs() <= tolerance)
        out[f"{what}_compared"] = int(both.sum())
        out[f"{what}_within"] = int(within.sum())
        out[f"{what}_share_within"] = float(within.sum() / both.sum()) if both.any() else math.nan
        out[f"{what}_max_abs_rel_diff"] = float(d.abs().max()) if both.any() else math.nan
        out[f"{what}_only_ours"] = int(
            (paired[f"{what}_ours"].notna() & paired[f"{what}_published"].isna()).sum()
        )
        out[f"{what}_only_published"] = int(
            (paired[f"{what}_ours"].isna() & paired[f"{what}_published"].notna()).sum()
        )
    return out


def agreement(cmp: pd.DataFrame, min_share: float = MIN_SHARE_WITHIN) -> pd.DataFrame:
    """Per round and published table of a cross-check (`compare` rows with a `reference`
    column): pairs, leftovers, values compared and within 1% for throughput, energy and
    accuracy, and `ok`: every share within 1% is at least `min_share` (or nothing compared)."""
    rows = []
    for (version, ref), grp in cmp.groupby(["round", "reference"], sort=True):
        s = summarize(grp)
        ok = all(
            s[f"{w}_compared"] == 0 or s[f"{w}_share_within"] >= min_share
            for w in ("throughput", "energy", "accuracy")
        )
        rows.append(
            {
                "round": str(version),
                "reference": str(ref),
                "pairs": s["pairs"],
                "ambiguous": s["ambiguous_ours"],
                "only_ours": s["only_ours"],
                "only_published": s["only_published"],
                **{
                    f"{w}_{k}": s[f"{w}_{k}"]
                    for w in ("throughput", "energy", "accuracy")
                    for k in ("compared", "within")
                },
                "ok": bool(ok),
            }
        )
    return pd.DataFrame(rows)


def check_rounds(tiny: pd.DataFrame, published: pd.DataFrame) -> pd.DataFrame:
    """`compare` of TinyResults rows with each published table in `published` (comparable
    rows with a `reference` column), over the rounds both cover; the rows of each comparison
    carry its `reference`."""
    if tiny.empty or published.empty or "reference" not in published.columns:
        return pd.DataFrame()
    ours = comparable(tiny)
    parts = []
    for ref, pub in published.groupby("reference", sort=False):
        rounds = set(pub["round"]) & set(ours["round"])
        if not rounds:
            continue
        cmp = compare(
            ours[ours["round"].isin(rounds)],
            _frame(pub[pub["round"].isin(rounds)].to_dict("records")),
        )
        parts.append(cmp.assign(reference=ref))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
