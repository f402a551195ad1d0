"""One asset per paper figure: PNG, SVG and the CSV of the plotted data, with a preview."""

import base64
import dataclasses
import typing
from collections.abc import Callable
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import dagster as dg  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pydantic  # noqa: E402

from mlperf_power_dag import local  # noqa: E402
from mlperf_power_dag.asset_inputs import (  # noqa: E402
    FIGURE_EXTRA_TABLES,
    FIGURE_METRICS,
    FIGURE_ROUNDS,
    FIGURE_SUITES,
    ROUNDS_KEY,
    figure_tables,
)
from mlperf_power_dag.buildstate import FINGERPRINT_KEY  # noqa: E402
from mlperf_power_dag.defs.automation import downstream_of  # noqa: E402
from mlperf_power_dag.defs.fingerprint import current_fingerprint  # noqa: E402
from mlperf_power_dag.defs.io import OPTIONAL_KEY, WITH_LOCAL_KEY  # noqa: E402
from mlperf_power_dag.defs.known_rounds import ROUNDS_IN, rounds_input  # noqa: E402
from mlperf_power_dag.defs.resources import MlperfHome  # noqa: E402
from mlperf_power_dag.figures import (  # noqa: E402
    common,
    fig1,
    fig2,
    fig5,
    fig5c,
    fig6,
    fig7,
    fig8,
    fig9,
    fig10,
    fig11a,
    links,
)
from mlperf_power_dag.schemas import (  # noqa: E402
    InferenceResults,
    Problems,
    TinyResults,
    TrainingResults,
    conform,
    empty,
)


@dataclass(frozen=True)
class FigureSpec:
    """How to build and draw one figure, and which tables it reads."""

    key: str
    title: str
    params: type
    build: Callable[..., common.FigureData]
    render: Callable[[common.FigureData], typing.Any]

    @property
    def tables(self) -> tuple[str, ...]:
        """Suites whose results table the figure reads, the primary one first."""
        return FIGURE_SUITES[self.key]


FIGURES = [
    FigureSpec(
        "fig1",
        "Performance trend vs Moore's law",
        fig1.Fig1Params,
        fig1.build_fig1,
        fig1.render_fig1,
    ),
    FigureSpec(
        "fig2",
        "Minimum and maximum power per scale",
        fig2.Fig2Params,
        fig2.build_fig2,
        fig2.render_fig2,
    ),
    FigureSpec(
        "fig5a",
        "Datacenter efficiency trends",
        fig5.Fig5aParams,
        fig5.build_fig5a,
        fig5.render_fig5a,
    ),
    FigureSpec(
        "fig5b", "Edge efficiency trends", fig5.Fig5bParams, fig5.build_fig5b, fig5.render_fig5b
    ),
    FigureSpec(
        "fig5c",
        "Tiny efficiency trends",
        fig5c.Fig5cParams,
        fig5c.build_fig5c,
        fig5c.render_fig5c,
    ),
    FigureSpec(
        "fig6",
        "Llama2-70B LoRA: energy and time to train vs scale",
        fig6.Fig6Params,
        fig6.build_fig6,
        fig6.render_fig6,
    ),
    FigureSpec(
        "fig7",
        "Energy per sample vs model size",
        fig7.Fig7Params,
        fig7.build_fig7,
        fig7.render_fig7,
    ),
    FigureSpec(
        "fig8",
        "Cost of higher accuracy (BERT-99 vs 99.9)",
        fig8.Fig8Params,
        fig8.build_fig8,
        fig8.render_fig8,
    ),
    FigureSpec(
        "fig9",
        "BERT-99.9 vs BERT-99 efficiency over time",
        fig9.Fig9Params,
        fig9.build_fig9,
        fig9.render_fig9,
    ),
    FigureSpec(
        "fig10",
        "Software-only gains on the same hardware",
        fig10.Fig10Params,
        fig10.build_fig10,
        fig10.render_fig10,
    ),
    FigureSpec(
        "fig11a",
        "Software optimization on one system",
        fig11a.Fig11aParams,
        fig11a.build_fig11a,
        fig11a.render_fig11a,
    ),
]


def _config_type(tp):
    """Dataclass field type -> a type Dagster config accepts (tuples become lists)."""
    origin = typing.get_origin(tp)
    if origin is tuple:
        return list[typing.get_args(tp)[0]]
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return typing.Optional[_config_type(args[0])]  # noqa: UP045
    return tp


def config_class(spec: FigureSpec) -> type[dg.Config]:
    """A Dagster Config mirroring the figure's parameters, the paper's choices as defaults."""
    hints = typing.get_type_hints(spec.params)
    fields = {}
    for f in dataclasses.fields(spec.params):
        if f.default is not dataclasses.MISSING:
            default = f.default
        else:
            default = f.default_factory()  # type: ignore[misc]
        if isinstance(default, tuple):
            default = list(default)
        fields[f.name] = (_config_type(hints[f.name]), default)
    # Not a figure parameter: draw local submission trees beside the published results.
    fields["include_local"] = (bool, False)
    name = spec.key.capitalize() + "Config"
    return pydantic.create_model(name, __base__=dg.Config, **fields)


def params_from_config(spec: FigureSpec, config: dg.Config):
    """The figure's parameters dataclass from its Dagster config."""
    values = {}
    for f in dataclasses.fields(spec.params):
        v = getattr(config, f.name)
        values[f.name] = tuple(v) if isinstance(v, list) else v
    return spec.params(**values)


MODELS = {"inference": InferenceResults, "tiny": TinyResults, "training": TrainingResults}


def typed(table: str, df: pd.DataFrame | None) -> pd.DataFrame:
    """A loaded table re-validated (types restored); an absent table as an empty frame."""
    model = MODELS[table]
    if df is None or len(df.columns) == 0:
        return empty(model)
    return conform(model, df)


def problems_table(df: pd.DataFrame | None) -> pd.DataFrame | None:
    """A loaded problems table re-validated; None when it was never built."""
    if df is None or len(df.columns) == 0:
        return None
    return conform(Problems, df)


def split_local(df: pd.DataFrame | None) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    """(published rows without the `official` column, rows of local submissions)."""
    if df is None or "official" not in df.columns:
        return df, pd.DataFrame()
    official = df["official"].astype(bool)
    return df.loc[official].drop(columns="official"), df.loc[~official]


def as_published(rows: pd.DataFrame, rules: dict[str, str], model) -> pd.DataFrame:
    """Local rows drawn as if published in the round whose rules read them: round = that
    round, system (and name) marked with `[local-<name>]`, no link."""
    if rows.empty:
        return rows
    key = rows["round"].astype(str)
    tag = " [" + key + "]"
    out = rows.drop(columns="official").assign(
        round=key.map(rules),
        system=rows["system"].astype(str) + tag,
        source_commit=local.READER_COMMIT,
    )
    if "system_name" in out.columns:
        out["system_name"] = out["system_name"].fillna(rows["system"]).astype(str) + tag
    return conform(model, out.loc[out["round"].notna()])


def provenance(frames: typing.Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Round, source path, repository and commit of every result in the input tables."""
    cols = links.SOURCE_COLUMNS
    parts = [f[cols] for f in frames if not f.empty and set(cols) <= set(f.columns)]
    if not parts:
        return pd.DataFrame(columns=cols)
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def figure_asset(spec: FigureSpec) -> dg.AssetsDefinition:
    cfg_cls = config_class(spec)
    ins = {f"{t}_results": dg.AssetIn(f"{t}_results") for t in spec.tables}
    primary = f"{spec.tables[0]}_results"
    ins[primary] = dg.AssetIn(primary, metadata={WITH_LOCAL_KEY: True})  # see include_local
    extra_tables = FIGURE_EXTRA_TABLES.get(spec.key, {})
    ins.update({table: dg.AssetIn(table) for table in extra_tables.values()})
    metric_tables = FIGURE_METRICS.get(spec.key, {})  # what the figure plots, precomputed
    optional = {OPTIONAL_KEY: True}  # a figure launched alone before its metric table exists
    ins.update({t: dg.AssetIn(t, metadata=optional) for t in metric_tables.values()})
    if spec.key in FIGURE_ROUNDS:  # the dates on its axis or its round order
        ins[ROUNDS_KEY] = ROUNDS_IN

    @dg.asset(
        name=spec.key,
        group_name="figures",
        ins=ins,
        kinds={"matplotlib"},
        description=f"Figure {spec.key[3:]}: {spec.title}. Writes {spec.key}.png/.svg/.csv.",
        automation_condition=downstream_of(f"{t}_results" for t in spec.tables),
        output_required=False,
    )
    def _figure(
        context: dg.AssetExecutionContext,
        config: cfg_cls,  # type: ignore[valid-type]
        mlperf_home: MlperfHome,
        **tables,
    ):
        rounds = tables.pop(ROUNDS_KEY, None)
        values = config.model_dump()
        custom = None if values == cfg_cls().model_dump() else values  # a launchpad variant
        fingerprint = current_fingerprint(figure_tables(spec.key), custom, mlperf_home)
        params = params_from_config(spec, config)
        tables[primary], mine = split_local(tables.get(primary))
        frames = {t: typed(t, tables.get(f"{t}_results")) for t in spec.tables}
        out_dir = mlperf_home.figures_dir()
        if config.include_local:  # drawn apart, under local/figures: the published one stays
            subs = local.load(mlperf_home.root())
            rules = {s.key: s.rules for s in subs.values()}
            shown = as_published(mine, rules, MODELS[spec.tables[0]])
            t0 = spec.tables[0]
            frames[t0] = (
                pd.concat([frames[t0], shown], ignore_index=True) if len(shown) else frames[t0]
            )
            out_dir = mlperf_home.local_dir() / "figures"
            names = ", ".join(sorted(set(mine["round"]))) if len(mine) else "none registered"
            context.log.info(f"{spec.key}: with local submissions ({names})")
        if all(f.empty for f in frames.values()):
            names = ", ".join(figure_tables(spec.key))
            context.log.warning(f"{spec.key}: skipped, no rows in {names} (build that suite first)")
            return
        extra = {t: (None if frames[t].empty else frames[t]) for t in spec.tables[1:]}
        extra.update({kw: problems_table(tables.get(t)) for kw, t in extra_tables.items()})
        if not config.include_local:  # the metric tables hold the published results only
            extra.update({kw: tables.get(t) for kw, t in metric_tables.items()})
        if spec.key in FIGURE_ROUNDS:
            extra["rounds"] = rounds_input(rounds, mlperf_home)
        data = spec.build(frames[spec.tables[0]], params, **extra)
        fig = spec.render(data)
        try:
            if config.include_local:
                data.notes.append(
                    "local submissions drawn as if published in the round whose rules read them, "
                    "marked [local-<name>]"
                )
            paths = common.save(
                fig,
                data,
                out_dir,
                spec.key,
                sources=provenance(frames.values()),
                title=spec.title,
                link_base=mlperf_home.links(),
            )
        finally:
            plt.close(fig)
        for note in data.notes:
            context.log.info(f"{spec.key}: {note}")
        png = paths["png"].read_bytes()
        b64 = base64.b64encode(png).decode()
        rounds = sorted(set(data.frame["round"].dropna().astype(str))) if len(data.frame) else []
        yield dg.MaterializeResult(
            metadata={
                "preview": dg.MetadataValue.md(f"![{spec.key}](data:image/png;base64,{b64})"),
                "png": dg.MetadataValue.path(str(paths["png"])),
                "svg": dg.MetadataValue.path(str(paths["svg"])),
                "csv": dg.MetadataValue.path(str(paths["csv"])),
                "dagster/row_count": len(data.frame),
                "rounds": ", ".join(rounds),
                "notes": dg.MetadataValue.md("\n".join(f"- {n}" for n in data.notes) or "none"),
                FINGERPRINT_KEY: fingerprint,
            }
        )

    return _figure


def figure_assets(suites: typing.Collection[str] | None = None) -> list[dg.AssetsDefinition]:
    """One asset per figure whose input tables all belong to `suites` (default: every figure)."""
    return [
        figure_asset(spec) for spec in FIGURES if suites is None or set(spec.tables) <= set(suites)
    ]
