"""Fidelity: raw-trace numbers of tree rounds against MLCommons' published tables."""

import dagster as dg
import pandas as pd

from mlperf_power_dag import crosscheck, reference_cache
from mlperf_power_dag.asset_inputs import CROSSCHECK_TABLES
from mlperf_power_dag.buildstate import FINGERPRINT_KEY
from mlperf_power_dag.defs.automation import DOWNSTREAM
from mlperf_power_dag.defs.fingerprint import current_fingerprint
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.rounds import catalog
from mlperf_power_dag.rounds.catalog import CMX, CMX_REPO, TREE
from mlperf_power_dag.schemas import InferenceResults, conform

MIN_SHARE_WITHIN_1PCT = 0.98


def references(version: str) -> list[catalog.Round]:
    """Published tables to check one tree round against."""
    cmx = catalog.Round("inference", version, None, source=CMX, repo=CMX_REPO, ref=catalog.CMX_REF)
    out = [cmx]
    if version in catalog.SUMMARY_REFERENCES:
        out.append(catalog.SUMMARY_REFERENCES[version])
    return out


@dg.asset(
    group_name="checks",
    kinds={"parquet", "pandas"},
    automation_condition=DOWNSTREAM,
    description=(
        "Per power result of every tree round: the raw-trace value against the same result in "
        "MLCommons' published tables (CMX; summary_results.json where published), with the "
        "relative difference and a disagreement class."
    ),
)
def inference_crosscheck(
    context: dg.AssetExecutionContext,
    inference_results: pd.DataFrame,
    mlperf_home: MlperfHome,
    git: GitSource,
) -> pd.DataFrame:
    fingerprint = current_fingerprint(CROSSCHECK_TABLES, home=mlperf_home)
    cache = mlperf_home.cache_dir()
    context.add_output_metadata({FINGERPRINT_KEY: fingerprint})
    if inference_results.empty:
        return pd.DataFrame({"round": pd.Series([], dtype=object)})
    tree = conform(InferenceResults, inference_results)
    tree = tree[tree["source"] == TREE]
    parts, table = [], []
    for version in sorted(set(tree["round"]), key=catalog.version_tuple):
        primary = tree[tree["round"] == version]
        if primary["power_w"].notna().sum() + primary["energy_per_query_j"].notna().sum() == 0:
            continue
        for ref in references(version):
            reference = reference_cache.reference_results(
                ref,
                log=context.log.debug,
                cache=cache,
                git_base=git.base_url(),
                timeout_s=git.timeout_s,
            )
            if reference.empty:
                continue
            diff = crosscheck.compare(primary, reference)
            s = crosscheck.summarize(diff)
            label = f"{ref.source}:{ref.slug}@{ref.ref}"
            context.log.info(
                f"{version} vs {label}: {s['within_1pct']}/{s['matched']} within 1% {s['by_class']}"
            )
            parts.append(diff.assign(reference=label))
            table.append(
                {
                    "round": version,
                    "reference": label,
                    **{k: v for k, v in s.items() if k != "by_class"},
                    "classes": ", ".join(f"{k} {v}" for k, v in s["by_class"].items()),
                }
            )
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    summary = pd.DataFrame(table)
    context.add_output_metadata(
        {
            "summary": dg.MetadataValue.md(
                summary.to_markdown(index=False) if len(summary) else "no overlapping power results"
            ),
            "matched": int(summary["matched"].sum()) if len(summary) else 0,
            "within_1pct": int(summary["within_1pct"].sum()) if len(summary) else 0,
        }
    )
    return out


@dg.asset_check(
    asset=inference_crosscheck,
    description=f"At least {MIN_SHARE_WITHIN_1PCT:.0%} of matched power results within 1%, "
    "per round and reference.",
)
def crosscheck_agreement(inference_crosscheck: pd.DataFrame) -> dg.AssetCheckResult:
    if inference_crosscheck.empty:
        return dg.AssetCheckResult(passed=True, metadata={"matched": 0})
    rows, ok = [], True
    for (version, ref), diff in inference_crosscheck.groupby(["round", "reference"]):
        s = crosscheck.summarize(diff)
        good = s["matched"] == 0 or s["share_within_1pct"] >= MIN_SHARE_WITHIN_1PCT
        ok &= good
        rows.append(
            f"| {version} | {ref} | {s['within_1pct']}/{s['matched']} | "
            f"{'ok' if good else 'DRIFT'} |"
        )
    table = "| round | reference | within 1% | |\n|---|---|---|---|\n" + "\n".join(rows)
    return dg.AssetCheckResult(
        passed=bool(ok),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"by_round": dg.MetadataValue.md(table)},
    )


__all__ = ["inference_crosscheck", "crosscheck_agreement", "references"]
