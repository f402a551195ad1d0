"""Per-suite raw and tidy round assets, built by one factory."""

import warnings
from pathlib import Path

import dagster as dg
import pandas as pd
import pandera.pandas as pa
from dagster_pandera import pandera_schema_to_dagster_type

from mlperf_power_dag import local, table_checks, versions
from mlperf_power_dag.defs.io import SCHEMA_KEY, model_ref
from mlperf_power_dag.defs.resources import GitSource, MlperfHome
from mlperf_power_dag.rounds import catalog, load, registry
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.rounds.download import FetchError
from mlperf_power_dag.schemas import LOCAL_MODELS, Problems
from mlperf_power_dag.suites import SuiteSpec

warnings.filterwarnings("ignore", category=dg.BetaWarning, module=__name__)


def dagster_type(model: type[pa.DataFrameModel]) -> dg.DagsterType:
    """The Dagster type that validates frames against a pandera model."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.BetaWarning)
        return pandera_schema_to_dagster_type(model)


ProblemsType = dagster_type(Problems)


def round_table_type(model: type[pa.DataFrameModel]) -> dg.DagsterType:
    """The Dagster type of a suite's results: frames of published rounds are checked against
    `model`, frames of a local submission (round `local-<name>`) against its local variant."""
    published = dagster_type(model)
    mine = LOCAL_MODELS.get(model)
    if mine is None:  # a suite without local submissions
        return published

    def check(context, value) -> dg.TypeCheck:
        rounds = value["round"].astype(str) if isinstance(value, pd.DataFrame) else None
        if rounds is None or not len(rounds) or not rounds.str.startswith(local.PREFIX).all():
            return published.type_check(context, value)
        try:
            mine.validate(value)
        except (pa.errors.SchemaError, pa.errors.SchemaErrors) as e:
            return dg.TypeCheck(False, description=f"{mine.__name__}: {str(e)[:500]}")
        return dg.TypeCheck(True)

    return dg.DagsterType(
        type_check_fn=check,
        name=f"{model.__name__}Table",
        description=published.description,
        metadata=published.metadata,
        typing_type=pd.DataFrame,
    )


def _md_counts(counts: dict[str, int]) -> str:
    if not counts:
        return "no problems"
    rows = "\n".join(f"| {k} | {v} |" for k, v in counts.items())
    return f"| kind | count |\n|---|---|\n{rows}"


def round_assets(spec: SuiteSpec) -> list[dg.AssetsDefinition]:
    """`<suite>_raw` (sparse git fetch) and `<suite>_results` + `<suite>_problems` (tables)."""
    suite, model = spec.name, spec.results
    partitions = spec.partitions
    raw_key = spec.raw_key
    results_key = spec.results_table
    problems_key = spec.problems_table
    problems_type = ProblemsType if spec.problems is Problems else dagster_type(spec.problems)
    results_type = round_table_type(model)
    code_version = versions.tidy_code_version()
    results_asset = dg.AssetKey(results_key)
    problems_asset = dg.AssetKey(problems_key)
    checks = [
        dg.AssetCheckSpec(name, asset=results_asset, blocking=blocking, description=desc)
        for name, blocking, desc in (
            ("unique_result_keys", True, "One row per result key."),
            ("provenance_complete", True, "Repository, path and commit on every row."),
            ("row_count_kept", False, "No rows lost since the last build of the round, "
             "unless its commit or the reader code changed."),
            ("skipped_share", False, f"At most {table_checks.MAX_SKIPPED_SHARE:.0%} of the "
             "round's results skipped."),
        )
    ] + [
        dg.AssetCheckSpec(
            "problems_of_round",
            asset=problems_asset,
            description="Every problem names this suite and round, and a path.",
        )
    ]  # fmt: skip

    @dg.asset(
        name=raw_key,
        partitions_def=partitions,
        group_name=suite,
        kinds={"git"},
        description=(
            f"The files of one MLPerf {suite} round the parsers read: a partial, sparse git "
            "checkout of the round's MLCommons results repository, cached by commit."
        ),
    )
    def raw(
        context: dg.AssetExecutionContext, mlperf_home: MlperfHome, git: GitSource
    ) -> dg.MaterializeResult:
        if local.is_local(context.partition_key):
            sub = local.lookup(mlperf_home.root(), context.partition_key)
            root, commit = local.snapshot(sub)
            context.log.info(f"{suite} {sub.key}: local tree {root} at {commit[:19]}")
            return dg.MaterializeResult(
                metadata={"path": dg.MetadataValue.path(str(root)), "commit": commit,
                          "rules": sub.rules, "official": False},
                data_version=dg.DataVersion(commit),
            )  # fmt: skip
        rnd = registry.round_for(suite, context.partition_key, mlperf_home.root())
        fetched = git.fetch_round(  # the network is retried in the run; anything else fails it
            rnd,
            mlperf_home.cache_dir(),
            context.log.info,
            fmt=spec.source(rnd.source),
            warn=context.log.warning,
        )
        return dg.MaterializeResult(
            metadata={
                "url": fetched.url,
                "ref": fetched.ref,
                "commit": fetched.commit,
                "source": rnd.source,
                "path": dg.MetadataValue.path(str(fetched.path)),
                "files": fetched.files,
                "bytes": fetched.bytes,
                "seconds": round(fetched.seconds, 2),
                "reused_cache": fetched.reused,
            },
            data_version=dg.DataVersion(fetched.commit),
        )

    @dg.multi_asset(
        name=f"{suite}_tidy",
        partitions_def=partitions,
        group_name=suite,
        deps=[raw],
        check_specs=checks,
        outs={
            results_key: dg.AssetOut(
                dagster_type=results_type,
                code_version=code_version,
                metadata={
                    SCHEMA_KEY: model_ref(model),
                    "dagster/column_schema": results_type.metadata["schema"].schema,
                },
                description=f"One row per MLPerf {suite} result, with provenance.",
                kinds={"parquet", "pandas"},
            ),
            problems_key: dg.AssetOut(
                dagster_type=problems_type,
                code_version=code_version,
                metadata={
                    SCHEMA_KEY: model_ref(spec.problems),
                    "dagster/column_schema": problems_type.metadata["schema"].schema,
                },
                description=f"Results and files of a {suite} round skipped or flagged, and why.",
                kinds={"parquet", "pandas"},
            ),
        },
    )
    def tidy(context: dg.AssetExecutionContext, mlperf_home: MlperfHome):
        key = context.partition_key
        if local.is_local(key):
            sub = local.lookup(mlperf_home.root(), key)
            root, commit = local.snapshot(sub)
            read = spec.source(catalog.TREE).read
            table = read(root, sub.rules, f"local/{sub.name}", local.READER_COMMIT,
                         log=context.log.info)  # fmt: skip
            if table.results.empty:
                raise load.EmptyRoundError(
                    f"{suite} {key}: no results read from {root}; "
                    f"problems: {table.problems['kind'].value_counts().to_dict()}"
                )
            mine, theirs = local.as_local(table.results, table.problems, sub, commit)
            rnd = Round(suite, key, None, owner="local", repo=sub.name)
            source = "local"
            results = LOCAL_MODELS[model].validate(mine)
            problems = spec.problems.validate(theirs)
        else:
            rnd = registry.round_for(suite, key, mlperf_home.root())
            fmt = spec.source(rnd.source)
            root, commit = raw_checkout(context, raw_key, rnd)
            table = load.read_checkout(rnd, root, commit, log=context.log.info, fmt=fmt)
            if table.results.empty:
                raise load.EmptyRoundError(
                    f"{suite} {rnd.version}: no results found in {rnd.slug}@{commit[:12]} "
                    f"(source kind {rnd.source!r}); has the repository's layout changed? "
                    f"{len(table.problems)} problems: "
                    f"{table.problems['kind'].value_counts().to_dict()}"
                )
            source = rnd.source
            results = model.validate(table.results)
            problems = spec.problems.validate(table.problems)
        counts = problems.groupby(["severity", "kind"]).size()
        count_map = {f"{s}:{k}": int(n) for (s, k), n in counts.items()}
        context.log.info(
            f"{suite} {rnd.version}: {len(results)} rows, {len(problems)} problems {count_map}"
        )
        info = {
            "source": source,
            "source_repo": rnd.slug,
            "source_commit": commit,
            "code_version": code_version,
        }
        previous = _previous(context, results_asset, rnd.version)
        outcomes = [
            table_checks.unique_keys(results, model),
            table_checks.provenance(results),
            table_checks.row_count(len(results), previous, info),
            table_checks.skipped_share(results, problems),
        ]
        problems_check = table_checks.problems_of_round(problems, suite, rnd.version)
        extra = {}
        if "power_w" in results.columns:
            extra["rows_with_power"] = int(results["power_w"].notna().sum())
        yield dg.Output(
            results,
            output_name=results_key,
            metadata={
                "round": rnd.version,
                **info,
                "dagster/row_count": len(results),
                **extra,
                "skipped": int((problems["severity"] == "skipped").sum()),
                "flagged": int((problems["severity"] == "flagged").sum()),
            },
        )
        yield dg.Output(
            problems,
            output_name=problems_key,
            metadata={
                **info,
                "dagster/row_count": len(problems),
                "by_kind": dg.MetadataValue.md(_md_counts(count_map)),
            },
        )
        for c in outcomes:
            if not c.passed:
                context.log.warning(f"{suite} {rnd.version}: check {c.name} failed: {c.metadata}")
            yield dg.AssetCheckResult(
                asset_key=results_asset,
                check_name=c.name,
                passed=c.passed,
                severity=dg.AssetCheckSeverity.ERROR
                if c.name in ("unique_result_keys", "provenance_complete")
                else dg.AssetCheckSeverity.WARN,
                metadata=c.metadata,
            )
        if not problems_check.passed:
            context.log.warning(
                f"{suite} {rnd.version}: check {problems_check.name} failed: "
                f"{problems_check.metadata}"
            )
        yield dg.AssetCheckResult(
            asset_key=problems_asset,
            check_name=problems_check.name,
            passed=problems_check.passed,
            severity=dg.AssetCheckSeverity.WARN,
            metadata=problems_check.metadata,
        )

    return [raw, tidy]


def raw_checkout(context: dg.AssetExecutionContext, raw_key: str, rnd: Round) -> tuple[Path, str]:
    """(folder, commit) of a round's checkout, as its raw asset last recorded it (the
    folder's fetch stamp names the commit of the files there); FetchError if there is none."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(raw_key), asset_partitions=[rnd.version]),
        limit=1,
    ).records
    mat = records[0].asset_materialization if records else None
    path = mat.metadata.get("path") if mat else None
    if path is None:
        raise FetchError(
            f"{rnd.suite} {rnd.version}: {raw_key} was never materialized; materialize it first"
        )
    return load.checkout_commit(rnd, Path(getattr(path, "path", path)))


def _previous(context: dg.AssetExecutionContext, key: dg.AssetKey, version: str) -> dict | None:
    """Rows, commit and code version of the last materialization of one round, if any."""
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=[version]), limit=1
    ).records
    mat = records[0].asset_materialization if records else None
    if mat is None:
        return None
    meta = {k: getattr(v, "value", v) for k, v in mat.metadata.items()}
    return {
        "rows": meta.get("dagster/row_count"),
        "source_commit": meta.get("source_commit"),
        "code_version": meta.get("code_version"),
    }
