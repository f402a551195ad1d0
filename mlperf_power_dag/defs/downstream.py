"""What each cross-round asset reads and writes, and the live progress of a downstream run."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dagster as dg

from mlperf_power_dag import settings
from mlperf_power_dag.defs.checks import CROSSCHECK_TABLES
from mlperf_power_dag.defs.figures import FIGURES, config_class, figure_tables
from mlperf_power_dag.defs.metrics import METRIC_ASSETS, METRIC_TABLES

progress_log = logging.getLogger("mlperf-power")


def downstream_inputs() -> dict[str, tuple[list[str], dict[str, Any], list[Path]]]:
    """Asset key -> (per-round tables it reads, its default config, files it writes)."""
    out: dict[str, tuple[list[str], dict[str, Any], list[Path]]] = {}
    for spec in FIGURES:
        files = [settings.figures_dir() / f"{spec.key}.{ext}" for ext in ("png", "svg", "csv")]
        out[spec.key] = (figure_tables(spec), config_class(spec)().model_dump(), files)
    for asset in METRIC_ASSETS:
        out[asset.key.to_user_string()] = (list(METRIC_TABLES), {}, [])
    out["inference_crosscheck"] = (list(CROSSCHECK_TABLES), {}, [])
    return out


class _ProgressHandler(logging.Handler):
    """One line per finished step: asset, seconds, rows or file."""

    def __init__(self) -> None:
        super().__init__()
        self.last: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            return
        kind, step = event.event_type_value, event.step_key
        data = event.event_specific_data
        if kind == "ASSET_MATERIALIZATION":
            meta = data.materialization.metadata
            rows = meta.get("dagster/row_count")
            png = meta.get("png")
            what = [f"{getattr(rows, 'value', rows)} rows"] if rows is not None else []
            if png is not None:
                what.append(str(getattr(png, "path", png)))
            self.last[step] = ", ".join(what)
        elif kind == "STEP_SUCCESS":
            seconds = (getattr(data, "duration_ms", 0) or 0) / 1000
            what = self.last.pop(step, None)
            progress_log.info(
                "  %s: %s in %.1fs", step, what if what is not None else "nothing written", seconds
            )
        elif kind == "STEP_FAILURE":
            progress_log.error("  %s: FAILED", step)


@dg.logger(description="One log line per finished asset, for the mlperf-power command line.")
def mlperf_progress(_init_context) -> logging.Logger:
    logger = logging.Logger("mlperf_progress", level=logging.DEBUG)
    logger.addHandler(_ProgressHandler())
    return logger
