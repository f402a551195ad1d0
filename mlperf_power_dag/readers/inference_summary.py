"""Read one MLPerf Inference round from its published ``summary_results.json``.

The results-site table (see `parsers.summary_results`). v4.1 has it on
``refs/pull/2/head`` of its results repository; rounds from v5.0 on publish it on ``main``.

One InferenceResults row per result and category: an object with ``Suite``
``"datacenter,edge"`` gives a row in each. The performance and power halves of one result
(same ``Location`` and category) are joined one to one, whether they come in one object
(v4.1) or in two. Columns:

- division = ``Category``; system = ``Platform``; system_name = ``System``; benchmark =
  ``UsedModel`` (the result folder's name; ``Model`` if absent).
- accelerators = ``Total Accelerators`` if given, else ``a#`` (per node) x ``Nodes`` (a
  blank ``a#`` with no ``Accelerator`` counts 0).
- tokens_per_sample = the ``TOKENS_PER_SAMPLE`` of the accuracy field.
- a result labelled samples/s or queries/s that the round's checker reports in tokens/s
  (`inference_cmx.reports_tokens` for ``Model``, e.g. open-division variants of llama2-70b)
  is taken as tokens/s and flagged (``unit_conflict``).
- samples_per_second = the Offline/Server result in samples or queries per second, or
  tokens/s / tokens_per_sample; null and flagged without it (GPT-J's tokens/s are loadgen's
  *inferred* tokens, whose factor the file does not state).
- power_w = ``Watts`` (Offline/Server); energy_per_query_j = ``millijoules`` / 1000
  (SingleStream/MultiStream); samples_per_joule: see `inference_cmx.samples_per_joule`.
- valid is True (published results passed the submission checker); a nonzero ``errors``
  field is flagged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlperf_power_dag.benchmark_ids import SCENARIO_BY_KEY, canonical_benchmark
from mlperf_power_dag.parsers.cmx import integer, number, parse_location, text
from mlperf_power_dag.parsers.files import FileRefused, RoundFiles
from mlperf_power_dag.parsers.guards import brief, clip, int64, reason
from mlperf_power_dag.parsers.summary_results import (
    SummaryFormatError,
    categories,
    load_summary,
    row_parts,
    tokens_per_sample,
)
from mlperf_power_dag.readers.inference_cmx import (
    MAX_LOCATION_CHARS,
    checked_spj,
    drop_key_duplicates,
    flag_unknown_benchmarks,
    reports_tokens,
    samples_per_joule,
)
from mlperf_power_dag.rounds.catalog import SUMMARY
from mlperf_power_dag.schemas import InferenceResults
from mlperf_power_dag.tables import ProblemLog, RoundTable, finish

SUMMARY_PATTERNS = ("/summary_results.json",)

Log = Callable[[str], None]

_REQUIRED = ("Location", "Suite", "Category", "Scenario")
# An ``ID`` longer than this is not quoted in messages (real ones read ``v4.1-0001``).
MAX_ID_CHARS = 80


def _location(row: dict[str, Any]) -> str | None:
    loc = text(row.get("Location"))
    if loc is None:
        return None
    while loc.startswith("./"):
        loc = loc[2:]
    return loc.rstrip("/")


def read_summary_round(
    path_to_summary_results_json: Path,
    version: str,
    source_repo: str,
    commit: str,
    log: Log | None = None,
) -> RoundTable:
    """The validated InferenceResults rows of one round's summary_results.json.

    `log` receives progress messages. A missing or malformed file, missing fields and
    duplicate objects become problems (skipped or flagged), never exceptions.
    """
    say = log or (lambda _msg: None)
    path = Path(path_to_summary_results_json)
    name = path.name
    problems = ProblemLog("inference", version)
    try:
        entries = load_summary(RoundFiles(path.parent).read(path, "summary_results"))
    except FileRefused as e:
        problems.skip(name, e.kind, str(e))
        entries = []
    except (OSError, SummaryFormatError) as e:
        problems.skip(name, "bad_file", f"{name}: {e}")
        entries = []
    except Exception as e:  # an unreadable file is a problem, never a crash
        problems.skip(name, "bad_file", f"{name}: {reason(e)}")
        entries = []

    halves: dict[tuple[str, str], dict[str, list[tuple[int, dict, dict]]]] = {}
    copies: dict[str, list[dict]] = {}
    for i, entry in enumerate(entries):
        try:
            _add_entry(i, entry, name, halves, copies, problems)
        except Exception as e:  # one bad entry must not sink the round
            problems.skip(f"{name}#{i}", "bad_entry", f"{name} entry {i}: {reason(e)}")

    rows = []
    for (cat, loc), h in halves.items():
        try:
            row = _result_row(cat, loc, h, name, version, source_repo, commit, problems)
        except Exception as e:  # one bad result must not sink the round
            problems.skip(loc, "unreadable_result", f"{name} {clip(loc)}: {reason(e)}")
            continue
        if row is not None:
            rows.append(row)
    flag_unknown_benchmarks(rows, problems)
    rows = drop_key_duplicates(rows, problems)
    df = finish(rows, InferenceResults, problems)
    say(
        f"summary {version}: {len(entries)} objects -> {len(df)} results; "
        f"problems {problems.counts()}"
    )
    return RoundTable(results=df, problems=problems.frame())


def _add_entry(
    i: int,
    entry: dict[str, Any],
    name: str,
    halves: dict[tuple[str, str], dict[str, list[tuple[int, dict, dict]]]],
    copies: dict[str, list[dict]],
    problems: ProblemLog,
) -> None:
    """File the performance and power halves of object `i` under (category, Location)."""
    ident = text(entry.get("ID")) or f"entry {i}"
    if len(ident) > MAX_ID_CHARS:
        ident = f"entry {i}"
    loc = _location(entry)
    if loc is not None and len(loc) > MAX_LOCATION_CHARS:
        problems.skip(f"{name}#{i}", "bad_location", f"{name} {ident}: Location too long")
        return
    missing = [f for f in _REQUIRED if text(entry.get(f)) is None]
    if missing:
        where = loc or f"{name}#{i}"
        problems.skip(where, "missing_field", f"{name} {ident}: no {', '.join(missing)}")
        return
    cats, unknown = categories(entry.get("Suite"))
    if unknown:
        problems.skip(
            loc,
            "unknown_category",
            f"{name} {ident}: Suite "
            f"{brief(entry.get('Suite'))} has categories {brief(unknown)} outside "
            "datacenter/edge" + ("; kept for the others" if cats else ""),
        )
    perf, power = row_parts(entry)
    if perf is None and power is None:
        problems.skip(loc, "no_result", f"{name} {ident}: no Performance_Result or Power_Result")
        return
    if any(entry == seen for seen in copies.get(loc, [])):
        problems.flag(
            loc,
            "duplicate_row",
            f"{name} {ident}: identical copy of an earlier object for {clip(loc)}; counted once",
        )
        return
    copies.setdefault(loc, []).append(entry)
    for cat in cats:
        h = halves.setdefault((cat, loc), {})
        if perf is not None:
            h.setdefault("perf", []).append((i, entry, perf))
        if power is not None:
            h.setdefault("power", []).append((i, entry, power))


def _single(
    items: list[tuple[int, dict, dict]],
    what: str,
    cat: str,
    loc: str,
    name: str,
    problems: ProblemLog,
) -> tuple[int, dict, dict] | None | bool:
    """The single half among `items`: None if none, False (counted) if there are several."""
    if not items:
        return None
    distinct = {tuple(sorted(part.items())) for _, _, part in items}
    if len(items) > 1:
        ids = [text(e.get("ID")) or f"entry {i}" for i, e, _ in items]
        detail = "different" if len(distinct) > 1 else "separate"
        problems.skip(
            loc,
            "conflicting_rows",
            f"{name}: {len(items)} {detail} {what} "
            f"objects for {cat} {clip(loc)} ({', '.join(ids)}); result skipped",
        )
        return False
    return items[0]


def _accelerators(entry: dict[str, Any], nodes: int | None) -> tuple[int | None, bool]:
    """(accelerators in the whole system, understood?)."""
    if "Total Accelerators" in entry:
        total = integer(entry.get("Total Accelerators"))
        return total, total is not None
    raw = entry.get("a#")
    per_node = integer(raw)
    if per_node is None and text(raw) is None and text(entry.get("Accelerator")) is None:
        per_node = 0  # a system without accelerators
    if per_node is None or nodes is None:
        return None, False
    return per_node * nodes, True


def _result_row(
    cat: str,
    loc: str,
    h: dict[str, list[tuple[int, dict, dict]]],
    name: str,
    version: str,
    source_repo: str,
    commit: str,
    problems: ProblemLog,
) -> dict[str, Any] | None:
    perf = _single(h.get("perf", []), "performance", cat, loc, name, problems)
    power = _single(h.get("power", []), "power", cat, loc, name, problems)
    if perf is False or power is False:
        return None
    entry = (perf or power)[1]  # type: ignore[index]
    ident = text(entry.get("ID")) or loc
    if len(ident) > MAX_ID_CHARS:
        ident = loc

    scenario = SCENARIO_BY_KEY.get((text(entry.get("Scenario")) or "").lower())
    if scenario is None:
        problems.skip(
            loc, "unknown_scenario", f"{name} {ident}: scenario {brief(entry.get('Scenario'))}"
        )
        return None
    division = (text(entry.get("Category")) or "").lower()
    parsed = parse_location(loc)
    model = text(entry.get("UsedModel")) or text(entry.get("Model"))
    if model is None and parsed is not None:
        model = parsed.benchmark
    if model is None:
        problems.skip(loc, "missing_field", f"{name} {ident}: no Model/UsedModel")
        return None
    benchmark, known = canonical_benchmark(model)
    submitter = text(entry.get("Submitter")) or (parsed.submitter if parsed else None)
    system = text(entry.get("Platform")) or (parsed.system if parsed else None)
    if submitter is None or system is None:
        problems.skip(loc, "missing_field", f"{name} {ident}: no Submitter/Platform")
        return None

    nodes = integer(entry.get("Nodes"))
    if nodes is not None and nodes < 1:
        nodes = None
    accelerators, ok = _accelerators(entry, nodes)
    if not ok or (accelerators is not None and (accelerators < 0 or int64(accelerators) is None)):
        accelerators = None
        problems.flag(
            loc,
            "bad_accelerator_count",
            f"{name} {ident}: accelerators "
            f"(a#={brief(entry.get('a#'))}, Nodes={brief(entry.get('Nodes'))}) not a count; "
            "left empty",
        )
    errors = number(entry.get("errors"))
    if errors:
        problems.flag(loc, "checker_errors", f"{name} {ident}: errors={brief(entry.get('errors'))}")

    tps = tokens_per_sample(entry.get("Accuracy"))
    performance = unit = sps = None
    if perf is not None:
        performance, unit = perf[2]["value"], perf[2]["unit"]
        rule_model = canonical_benchmark(text(entry.get("Model")) or model)[0]
        if unit in ("samples/s", "queries/s") and reports_tokens(version, rule_model, scenario):
            problems.flag(
                loc,
                "unit_conflict",
                f"{name} {ident}: result labelled {unit} but the {version} checker reports "
                f"{rule_model} {scenario} in tokens/s; taken as tokens/s",
            )
            unit = "tokens/s"
        if performance < 0:
            problems.flag(
                loc, "negative_result", f"{name} {ident}: result {performance}; left empty"
            )
            performance = None
        if scenario in ("Offline", "Server") and performance is not None:
            if unit in ("samples/s", "queries/s"):
                sps = performance
            elif unit == "tokens/s" and tps is not None:
                sps = performance / tps
                if not sps < math.inf:
                    problems.flag(
                        loc,
                        "bad_value",
                        f"{name} {ident}: tokens/s / tokens per sample is not finite; "
                        "samples_per_second left empty",
                    )
                    sps = None
            elif unit == "tokens/s":
                problems.flag(
                    loc,
                    "no_tokens_per_sample",
                    f"{name} {ident}: {benchmark} "
                    f"{scenario} in tokens/s without TOKENS_PER_SAMPLE in its "
                    "accuracy; samples_per_second left empty",
                )
            else:
                problems.flag(
                    loc,
                    "unexpected_unit",
                    f"{name} {ident}: {scenario} result in {brief(unit)}; "
                    "samples_per_second left empty",
                )
    elif power is not None:
        problems.flag(
            loc,
            "no_performance_row",
            f"{name} {ident}: power of {clip(loc)} without its performance; performance left empty",
        )

    power_w = energy_j = None
    if power is not None:
        value, punit = power[2]["value"], power[2]["unit"]
        if value <= 0 or value / 1000.0 <= 0:
            problems.flag(loc, "bad_power", f"{name} {ident}: power {value}; left empty")
        elif punit == "watts" and scenario in ("Offline", "Server"):
            power_w = value
        elif punit == "millijoules" and scenario in ("SingleStream", "MultiStream"):
            energy_j = value / 1000.0
        else:
            problems.flag(
                loc,
                "unexpected_power_unit",
                f"{name} {ident}: {scenario} power in {brief(punit)}; left empty",
            )
    spj = samples_per_joule(version, scenario, sps, power_w, energy_j)
    spj = checked_spj(spj, loc, f"{name} {ident}", problems)

    return {
        "round": version,
        "category": cat,
        "division": division,
        "submitter": submitter,
        "system": system,
        "system_name": text(entry.get("System")),
        "accelerator": text(entry.get("Accelerator")),
        "accelerators": accelerators,
        "nodes": nodes,
        "host_processor": text(entry.get("Processor")),
        "availability": text(entry.get("Availability")),
        "benchmark": benchmark,
        "benchmark_known": known,
        "scenario": scenario,
        "valid": True,
        "performance": performance,
        "performance_unit": unit,
        "samples_per_second": sps,
        "tokens_per_sample": tps,
        "power_w": power_w,
        "energy_per_query_j": energy_j,
        "samples_per_joule": spj,
        "source": SUMMARY,
        "source_repo": source_repo,
        "source_path": loc,
        "source_commit": commit,
    }
