"""Freshness rules: a figure built before the newest built round, discovery silent too long."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from mlperf_power_dag.rounds import catalog, discovery, download
from mlperf_power_dag.rounds.catalog import Round
from mlperf_power_dag.rounds.download import FetchError

MAX_DISCOVERY_AGE = dt.timedelta(days=2)
FIGURE_CHECK = "built_after_newest_round"
DISCOVERY_CHECK = "discovery_recent"


@dataclass(frozen=True)
class FreshnessState:
    """The outcome of one freshness rule for one asset."""

    asset: str
    check: str
    passed: bool
    detail: str

    def to_json(self) -> dict:
        return asdict(self)


def _when(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).replace(microsecond=0).isoformat()


def figure_state(
    asset: str, built_at: float | None, inputs: Mapping[str, float | None]
) -> FreshnessState:
    """Is `asset` (built at `built_at`, a Unix time, None if never) newer than the newest
    round build of every table it reads (`inputs`: table -> time of its latest round build)?"""
    built_inputs = {t: ts for t, ts in inputs.items() if ts is not None}
    if not built_inputs:
        names = ", ".join(inputs) or "no table"
        return FreshnessState(asset, FIGURE_CHECK, True, f"no round of {names} built yet")
    table, newest = max(built_inputs.items(), key=lambda kv: kv[1])
    if built_at is None:
        return FreshnessState(
            asset,
            FIGURE_CHECK,
            False,
            f"never built, while a {table} round was built at {_when(newest)}",
        )
    if built_at < newest:
        return FreshnessState(
            asset,
            FIGURE_CHECK,
            False,
            f"built {_when(built_at)}, before the newest {table} round ({_when(newest)})",
        )
    return FreshnessState(
        asset,
        FIGURE_CHECK,
        True,
        f"built {_when(built_at)}, after the newest round ({table}, {_when(newest)})",
    )


def check_reachable(suite: str, base: str, known: Sequence[Round] | None = None) -> None:
    """Raise FetchError unless the suite's newest known repository (`known` default: the
    suite's catalog rounds) answers at `base`: a probe that finds no new round only counts as a
    successful discovery if the host was reachable."""
    known = catalog.rounds(suite) if known is None else sorted(known, key=lambda r: r.sort_key)
    if not known:
        return  # nothing known to ask the host about
    newest = known[-1]
    url = download.repo_url(base, newest.owner, newest.repo_name)
    probe = discovery.probe(url, newest.version)
    if not probe.exists:
        raise FetchError(probe.error or f"{download.redact(url)} did not answer")


def record_discovery(path: Path, when: dt.datetime | None = None) -> None:
    """Record that discovery probed every suite without an error at `when` (default now)."""
    when = when or dt.datetime.now(dt.timezone.utc)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    tmp.write_text(json.dumps({"last_success": when.isoformat()}) + "\n")
    os.replace(tmp, path)


def last_discovery(path: Path) -> dt.datetime | None:
    """When discovery last succeeded, from the file `record_discovery` writes (None if never or
    unreadable)."""
    try:
        value = json.loads(path.read_text())["last_success"]
        when = dt.datetime.fromisoformat(value)
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.timezone.utc)


def discovery_state(
    asset: str,
    last: dt.datetime | None,
    now: dt.datetime | None = None,
    max_age: dt.timedelta = MAX_DISCOVERY_AGE,
) -> FreshnessState:
    """Has discovery succeeded within `max_age` of `now`?"""
    now = now or dt.datetime.now(dt.timezone.utc)
    if last is None:
        return FreshnessState(asset, DISCOVERY_CHECK, False, "discovery has never succeeded")
    age = now - last
    hours = age.total_seconds() / 3600
    stamp = last.replace(microsecond=0).isoformat()
    limit = max_age.total_seconds() / 3600
    if age > max_age:
        return FreshnessState(
            asset,
            DISCOVERY_CHECK,
            False,
            f"last succeeded {stamp}, {hours:.0f} h ago (limit {limit:.0f} h)",
        )
    return FreshnessState(
        asset, DISCOVERY_CHECK, True, f"last succeeded {stamp}, {hours:.1f} h ago"
    )


def html_section(states: Sequence[FreshnessState]) -> str:
    """The freshness table of the report's data page."""
    stale = sum(not s.passed for s in states)
    rows = "".join(
        f"<tr><td>{html.escape(s.asset)}</td><td>{html.escape(s.check)}</td>"
        f'<td class="{"ok" if s.passed else "stale"}">{"ok" if s.passed else "STALE"}</td>'
        f"<td>{html.escape(s.detail)}</td></tr>"
        for s in states
    )
    lead = (
        "Every figure was built after the newest round it reads, and discovery ran recently."
        if not stale
        else f"{stale} of {len(states)} freshness checks failed at build time."
    )
    return (
        '<h2 id="freshness">Freshness</h2>'
        f"<p>{html.escape(lead)} A figure is stale when a round of a table it reads was built "
        "after it; discovery is stale when it has not succeeded for more than "
        f"{MAX_DISCOVERY_AGE.days} days.</p>"
        '<div class="table-wrap"><table><thead><tr><th>Asset</th><th>Check</th><th>State</th>'
        f"<th>Detail</th></tr></thead><tbody>{rows}</tbody></table></div>"
    )
