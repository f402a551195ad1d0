"""Which per-round tables each cross-round asset reads (a light module: no Dagster, no plots).

The figure assets, the metric assets and the cross-check take their inputs from here, and a
warm `mlperf-power build` uses it to tell what is out of date without loading the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable

# The known rounds of every suite (catalog + rounds.json, with the commit each round's tables
# were built from, read from the footers of the results tables' files): the table the metrics,
# the figures that date or order rounds and the report take.
ROUNDS_KEY = "rounds"
ROUNDS_TABLES = ("inference_results", "tiny_results", "training_results")
ROUNDS_FOOTER_KEYS = ("source_commit",)  # all it reads of those files

# Figure key -> the suites whose results table it reads, the first one being its primary input.
FIGURE_SUITES: dict[str, tuple[str, ...]] = {
    "fig1": ("inference",),
    "fig2": ("inference", "tiny", "training"),
    "fig5a": ("inference",),
    "fig5b": ("inference",),
    "fig5c": ("tiny",),
    "fig6": ("training",),
    "fig7": ("inference", "tiny"),
    "fig8": ("inference",),
    "fig9": ("inference",),
    "fig10": ("inference",),
    "fig11a": ("inference",),
}
# Figure key -> per-round tables it reads besides results tables, by the keyword of its build
# function (fig5c marks, and on request leaves out, energy runs the tiny reader flagged).
FIGURE_EXTRA_TABLES: dict[str, dict[str, str]] = {"fig5c": {"problems": "tiny_problems"}}
# Figure key -> the metric tables it plots, by the keyword of its build function.
FIGURE_METRICS: dict[str, dict[str, str]] = {
    "fig5a": {"best_efficiency": "inference_best_efficiency"},
    "fig5b": {"best_efficiency": "inference_best_efficiency"},
    "fig8": {"accuracy_pairs": "inference_accuracy_pairs"},
    "fig9": {"accuracy_pairs": "inference_accuracy_pairs"},
    "fig10": {"software_gains": "inference_software_gains"},
}
# Figures whose build takes the rounds table (the dates on the axis, the round order).
FIGURE_ROUNDS = ("fig1", "fig5a", "fig5b", "fig5c", "fig10")
METRIC_KEYS = ("inference_best_efficiency", "inference_accuracy_pairs", "inference_software_gains")
METRIC_TABLES = ("inference_results",)
CROSSCHECK_KEY = "inference_crosscheck"
CROSSCHECK_TABLES = ("inference_results",)
# The published tables the inference cross-check compares with, for the tree rounds with power.
REFERENCE_KEY = "inference_reference_results"
REFERENCE_TABLES = ("inference_results",)
TINY_CROSSCHECK_KEY = "tiny_crosscheck"
TINY_CROSSCHECK_TABLES = ("tiny_results",)
TINY_REFERENCE_KEY = "tiny_reference_results"
TINY_REFERENCE_TABLES = ("tiny_results",)
# Cross-round asset -> the cross-round assets it reads (built first when it is asked for).
DOWNSTREAM_INPUTS: dict[str, tuple[str, ...]] = {
    CROSSCHECK_KEY: (REFERENCE_KEY,),
    TINY_CROSSCHECK_KEY: (TINY_REFERENCE_KEY,),
}
# The report reads every figure, the cross-checks and the three results tables.
REPORT_KEY = "report"
REPORT_TABLES = ("inference_results", "tiny_results", "training_results")


def figure_tables(key: str) -> list[str]:
    """The per-round tables a figure reads."""
    extra = list(FIGURE_EXTRA_TABLES.get(key, {}).values())
    return [f"{suite}_results" for suite in FIGURE_SUITES[key]] + extra


def downstream_tables() -> dict[str, list[str]]:
    """Every cross-round asset key -> the per-round tables it reads."""
    out = {ROUNDS_KEY: list(ROUNDS_TABLES)}
    out.update({key: figure_tables(key) for key in FIGURE_SUITES})
    out.update({key: list(METRIC_TABLES) for key in METRIC_KEYS})
    out[CROSSCHECK_KEY] = list(CROSSCHECK_TABLES)
    out[REFERENCE_KEY] = list(REFERENCE_TABLES)
    out[TINY_CROSSCHECK_KEY] = list(TINY_CROSSCHECK_TABLES)
    out[TINY_REFERENCE_KEY] = list(TINY_REFERENCE_TABLES)
    out[REPORT_KEY] = list(REPORT_TABLES)
    return out


def rounds_readers() -> tuple[str, ...]:
    """The cross-round assets that read the rounds table."""
    return (*METRIC_KEYS, *FIGURE_ROUNDS, REPORT_KEY)


def downstream_inputs(key: str) -> tuple[str, ...]:
    """The cross-round assets a cross-round asset reads."""
    rounds = (ROUNDS_KEY,) if key in rounds_readers() else ()
    return (*rounds, *DOWNSTREAM_INPUTS.get(key, ()), *FIGURE_METRICS.get(key, {}).values())


def with_inputs(keys: Iterable[str]) -> list[str]:
    """`keys` and every cross-round asset they read, directly or not; each after its inputs."""
    out: dict[str, None] = {}

    def visit(key: str) -> None:
        if key in out:
            return
        for upstream in downstream_inputs(key):
            visit(upstream)
        out[key] = None

    for key in keys:
        visit(key)
    return list(out)


def unchanged_reason(key: str) -> str:
    """What a warm build says of a cross-round asset whose fingerprint is unchanged."""
    if key == ROUNDS_KEY:
        return "catalog, rounds.json and built commits unchanged"
    return "inputs and code unchanged"


def fingerprint_args(key: str) -> dict[str, object]:
    """How a cross-round asset's input fingerprint is taken, besides its tables (keywords of
    `defs.fingerprint.current_fingerprint`): the rounds table covers rounds.json and the
    commits of the results tables' files; the others cover those files whole."""
    if key == ROUNDS_KEY:
        return {"footer_keys": ROUNDS_FOOTER_KEYS, "rounds_file": True}
    return {}


def figures_using(suite: str) -> tuple[str, ...]:
    """The figures that read a suite's results table."""
    return tuple(key for key, suites in FIGURE_SUITES.items() if suite in suites)
