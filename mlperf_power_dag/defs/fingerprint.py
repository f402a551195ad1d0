"""The input fingerprint a cross-round asset records, so a warm build can skip it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from upath import UPath

from mlperf_power_dag import buildstate
from mlperf_power_dag.defs.resources import MlperfHome, home_from_env


def current_fingerprint(
    tables: Iterable[str],
    config: Mapping[str, Any] | None = None,
    home: MlperfHome | None = None,
    footer_keys: Iterable[str] | None = None,
    rounds_file: bool = False,
) -> str:
    """Fingerprint of the per-round `tables` as they are in the dataset now (only the
    `footer_keys` of their files, when given), plus config and, with `rounds_file`, the
    discovered rounds (`home` default: as the environment describes it)."""
    home = home or home_from_env()
    path = home.rounds_file()
    rounds_text = path.read_text() if rounds_file and path.exists() else ""
    base = UPath(home.dataset_dir())
    return buildstate.downstream_fingerprint(base, tables, rounds_text, config, footer_keys)
