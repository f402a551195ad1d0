"""Fidelity: the numbers read from the submission trees against MLCommons' published tables.

The published tables are assets of their own (`inference_reference_results`,
`tiny_reference_results`), so that what each cross-check compares with shows in the lineage.
"""

from functools import partial

import dagster as dg
import pandas as pd

from mlperf_power_dag import crosscheck, reference_cache
from mlperf_power_dag import tiny_crosscheck as tiny_cc
from mlperf_power_dag.asset_inputs import (
    CROSSCHECK_TABLES,
    REFERENCE_TABLES,
    TINY_CROSSCHECK_TABLES,
    TINY_REFERENCE_TABLES,
)
from mlperf_power_dag.buildstate import FINGERPRINT_KEY
from mlperf_power_dag.defs.automation import DOWNSTREAM
from mlperf_power_dag.defs.fingerprint import current_fingerprint
from mlperf_power_dag.defs.key_checks import keys_and_provenance
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.rounds import catalog
from mlperf_power_dag.rounds.catalog import TREE
from mlperf_power_dag.schemas import InferenceResults, TinyResults, columns, conform

MIN_SHARE_WITHIN_1PCT = 0.98
REFERENCE = "reference"  # the column naming the published table a row belongs to
references = reference_cache.inference_references
COMMON = dict(group_name="checks", kinds={"parquet", "pandas"}, automation_condition=DOWNSTREAM)


def _tree_rounds_with_power(results: pd.DataFrame) -> list[str]:
    """Tree rounds of InferenceResults with at least one power value, oldest first."""
    tree = results[results["source"] == TREE]
    out = []
    for version in sorted(set(tree["round"]), key=catalog.version_tuple):
        primary = tree[tree["round"] == version]
        if primary["power_w"].notna().sum() + primary["energy_per_query_j"].notna().sum():
            out.append(version)
    return out


@dg.asset(
    description=(
        "MLCommons' published results (CMX; summary_results.json where published) of every "
        "inference tree round with power, one table per round and published table (column "
        "`reference`); read once per commit of its repository and kept in the cache."
    ),
    **COMMON,
)
def inference_reference_results(
    context: dg.AssetExecutionContext,
    inference_results: pd.DataFrame,
    mlperf_home: MlperfHome,
    git: GitSource,
) -> pd.DataFrame:
    context.add_output_metadata(
        {FINGERPRINT_KEY: current_fingerprint(REFERENCE_TABLES, home=mlperf_home)}
    )
    parts = []
    versions = [] if inference_results.empty else _tree_rounds_with_power(inference_results)
    fetch = partial(git.fetch_round, warn=context.log.warning)
    for version in versions:
        for ref in references(version):
            table = reference_cache.reference_results(
                ref, log=context.log.debug, cache=mlperf_home.cache_dir(), fetch=fetch
            )
            if len(table):
                parts.append(table.assign(**{REFERENCE: reference_cache.reference_label(ref)}))
    if not parts:
        return pd.DataFrame(columns=[*columns(InferenceResults), REFERENCE])
    out = pd.concat(parts, ignore_index=True)
    context.add_output_metadata(
        {"tables": ", ".join(f"{r} {v}" for r, v in out.groupby([REFERENCE, "round"]).groups)}
    )
    return out


@dg.asset(
    description=(
        "Per power result of every tree round: the raw-trace value against the same result in "
        "MLCommons' published tables (CMX; summary_results.json where published), with the "
        "relative difference and a disagreement class."
    ),
    **COMMON,
)
def inference_crosscheck(
    context: dg.AssetExecutionContext,
    inference_results: pd.DataFrame,
    inference_reference_results: pd.DataFrame,
    mlperf_home: MlperfHome,
) -> pd.DataFrame:
    fingerprint = current_fingerprint(CROSSCHECK_TABLES, home=mlperf_home)
    context.add_output_metadata({FINGERPRINT_KEY: fingerprint})
    if inference_results.empty:
        return pd.DataFrame({"round": pd.Series([], dtype=object)})
    tree = conform(InferenceResults, inference_results)
    tree = tree[tree["source"] == TREE]
    published = inference_reference_results
    if REFERENCE not in published.columns:
        published = pd.DataFrame(columns=[*columns(InferenceResults), REFERENCE])
    tables = {key: grp for key, grp in published.groupby([REFERENCE, "round"], sort=False)}
    parts, table = [], []
    for version in _tree_rounds_with_power(tree):
        primary = tree[tree["round"] == version]
        for ref in references(version):
            label = reference_cache.reference_label(ref)
            rows = tables.get((label, version))
            if rows is None or rows.empty:
                continue
            reference = conform(
                InferenceResults, rows.drop(columns=REFERENCE).reset_index(drop=True)
            )
            diff = crosscheck.compare(primary, reference)
            s = crosscheck.summarize(diff)
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


@dg.asset(
    description=(
        "MLCommons' published Tiny results covering the rounds read from the trees: the CMX "
        "tiny results and each round's summary.csv where published, as comparable rows "
        "(column `reference`: the published table)."
    ),
    **COMMON,
)
def tiny_reference_results(
    context: dg.AssetExecutionContext,
    tiny_results: pd.DataFrame,
    mlperf_home: MlperfHome,
    git: GitSource,
) -> pd.DataFrame:
    context.add_output_metadata(
        {FINGERPRINT_KEY: current_fingerprint(TINY_REFERENCE_TABLES, home=mlperf_home)}
    )
    rounds = [] if tiny_results.empty else sorted(set(tiny_results["round"].astype(str)))
    if not rounds:
        return pd.DataFrame(columns=[*tiny_cc.COLUMNS, REFERENCE])
    out = reference_cache.tiny_reference_results(
        rounds,
        log=context.log.debug,
        cache=mlperf_home.cache_dir(),
        fetch=partial(git.fetch_round, warn=context.log.warning),
        warn=context.log.warning,
    )
    counts = out.groupby([REFERENCE, "round"]).size()
    context.add_output_metadata(
        {"tables": ", ".join(f"{r} {v} ({n})" for (r, v), n in counts.items())}
    )
    return out


@dg.asset(
    description=(
        "Per Tiny result of every round read from the trees: throughput, energy per inference "
        "and accuracy against the same result in MLCommons' published tables (CMX tiny "
        "results; summary.csv where published), paired one to one, with relative differences."
    ),
    **COMMON,
)
def tiny_crosscheck(
    context: dg.AssetExecutionContext,
    tiny_results: pd.DataFrame,
    tiny_reference_results: pd.DataFrame,
    mlperf_home: MlperfHome,
) -> pd.DataFrame:
    context.add_output_metadata(
        {FINGERPRINT_KEY: current_fingerprint(TINY_CROSSCHECK_TABLES, home=mlperf_home)}
    )
    ours = conform(TinyResults, tiny_results) if len(tiny_results.columns) else tiny_results
    out = tiny_cc.check_rounds(ours, tiny_reference_results)
    if out.empty:
        context.add_output_metadata({"summary": "no overlapping results"})
        return pd.DataFrame({"round": pd.Series([], dtype=object)})
    summary = tiny_cc.agreement(out)
    context.add_output_metadata(
        {
            "summary": dg.MetadataValue.md(summary.to_markdown(index=False)),
            "pairs": int(summary["pairs"].sum()),
            "energy_within_1pct": int(summary["energy_within"].sum()),
            "throughput_within_1pct": int(summary["throughput_within"].sum()),
        }
    )
    return out


@dg.asset_check(
    asset=tiny_crosscheck,
    description=f"At least {tiny_cc.MIN_SHARE_WITHIN:.0%} of the compared throughputs, "
    "energies and accuracies within 1%, per round and published table.",
)
def tiny_crosscheck_agreement(tiny_crosscheck: pd.DataFrame) -> dg.AssetCheckResult:
    if tiny_crosscheck.empty or REFERENCE not in tiny_crosscheck.columns:
        return dg.AssetCheckResult(passed=True, metadata={"pairs": 0})
    summary = tiny_cc.agreement(tiny_crosscheck)
    rows = [
        f"| {r.round} | {r.reference} | {r.pairs} | {r.throughput_within}/{r.throughput_compared}"
        f" | {r.energy_within}/{r.energy_compared} | {r.accuracy_within}/{r.accuracy_compared}"
        f" | {'ok' if r.ok else 'DRIFT'} |"
        for r in summary.itertuples()
    ]
    head = "| round | reference | pairs | throughput | energy | accuracy | |\n"
    table = head + "|---|---|---|---|---|---|---|\n" + "\n".join(rows)
    return dg.AssetCheckResult(
        passed=bool(summary["ok"].all()),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"by_round": dg.MetadataValue.md(table)},
    )


# Reference table -> (its key, the columns that name where each row was published).
REFERENCE_KEYS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "inference_reference_results": (
        (REFERENCE, *InferenceResults.Config.unique),
        (REFERENCE, "source_repo", "source_path", "source_commit"),
    ),
    # published Tiny tables repeat a system name (never a whole row): no narrower key holds
    "tiny_reference_results": ((REFERENCE, *tiny_cc.COLUMNS), (REFERENCE, "source")),
}


inference_reference_keys = keys_and_provenance(
    inference_reference_results, *REFERENCE_KEYS["inference_reference_results"]
)
tiny_reference_keys = keys_and_provenance(
    tiny_reference_results, *REFERENCE_KEYS["tiny_reference_results"]
)


CROSSCHECK_ASSETS = [inference_reference_results, inference_crosscheck]
TINY_CROSSCHECK_ASSETS = [tiny_reference_results, tiny_crosscheck]

__all__ = [
    "CROSSCHECK_ASSETS",
    "inference_reference_keys",
    "tiny_reference_keys",
    "TINY_CROSSCHECK_ASSETS",
    "crosscheck_agreement",
    "inference_crosscheck",
    "inference_reference_results",
    "references",
    "tiny_crosscheck",
    "tiny_crosscheck_agreement",
    "tiny_reference_results",
]
