"""The live progress of a downstream run: one log line per finished asset."""

from __future__ import annotations

import logging

import dagster as dg

progress_log = logging.getLogger("mlperf-power")


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
            png = meta.get("png") or meta.get("index")  # a figure, or the report
            what = [f"{getattr(rows, 'value', rows)} rows"] if rows is not None else []
            if png is not None:
                what.append(str(getattr(png, "path", png)))
            self.last[step] = ", ".join(what)
        elif kind == "ASSET_CHECK_EVALUATION":
            self.last[step] = "check passed" if data.passed else "check FAILED"
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
