"""Run-failure alerts: what one alert says and where it goes (a log file, a webhook)."""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from mlperf_power_dag.rounds.download import redact

WEBHOOK_TIMEOUT_S = 10


@dataclass(frozen=True)
class Alert:
    """One failed run of this code location, as written to the alert sinks."""

    run_id: str
    job: str
    suite: str | None  # None for a run that is not a round (downstream, checks)
    round: str | None  # the partition key (round version), if any
    step: str | None  # the first failed step, None when the run failed outside any step
    error: str  # the first line of the root error
    run_url: str
    failed_at: str  # ISO 8601, UTC
    consecutive_failures: int = 1  # failed runs of this job and round in a row, this one included

    def to_json(self) -> dict:
        """The alert as a JSON-ready dict (the log line and the webhook body)."""
        return asdict(self)

    def summary(self) -> str:
        """One line for humans: what failed, where, why."""
        what = f"{self.suite} {self.round}" if self.suite and self.round else self.job
        step = f" at {self.step}" if self.step else ""
        return f"{what}: run failed{step}: {self.error} ({self.run_url})"


def first_line(text: str | None, limit: int = 300) -> str:
    """The first non-empty line of `text`, cut to `limit` characters, credentials removed."""
    for line in (text or "").splitlines():
        line = line.strip()
        if line:
            line = redact(line)
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""


def error_line(cls_name: str | None, message: str | None) -> str:
    """`Class: first line` of an error, without the module path Dagster puts in front."""
    line = first_line(message)
    if cls_name:
        head, sep, rest = line.partition(": ")
        if sep and head.rsplit(".", 1)[-1] == cls_name:
            line = rest
        return f"{cls_name}: {line}" if line else cls_name
    return line


def suite_of(job: str, tags: dict[str, str]) -> str | None:
    """The suite of a round run: its `mlperf/suite` tag, else from a `<suite>_round` job name."""
    if tags.get("mlperf/suite"):
        return tags["mlperf/suite"]
    if job.endswith("_round"):
        return job.removesuffix("_round")
    return None


def run_link(base: str, run_id: str) -> str:
    """The run's page in the Dagster UI."""
    return f"{base.rstrip('/')}/runs/{run_id}"


def consecutive(statuses: Iterable[bool]) -> int:
    """How many failures lead `statuses` (newest first, True = failed)."""
    n = 0
    for failed in statuses:
        if not failed:
            break
        n += 1
    return n


class WebhookError(RuntimeError):
    """The webhook did not accept an alert (the message names the host, never a token)."""


def post_webhook(url: str, alert: Alert, timeout: float = WEBHOOK_TIMEOUT_S) -> int:
    """POST the alert as JSON (with a `text` line for chat webhooks); returns the HTTP status."""
    body = json.dumps({"text": alert.summary(), "alert": alert.to_json()}).encode()
    req = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    host = urllib.parse.urlsplit(url).netloc.rpartition("@")[2]
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (configured URL)
            return resp.status
    except (urllib.error.URLError, OSError) as e:
        raise WebhookError(f"webhook at {host} did not take the alert: {e}") from None


def append_log(path: Path, record: dict) -> None:
    """Append one JSON line to the alert log (one write, so concurrent writers do not mix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (json.dumps(record, sort_keys=True) + "\n").encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def deliver(alert: Alert, log_path: Path, webhook: str | None = None) -> dict:
    """Send `alert` to the webhook (if any), then log it with the outcome; returns the log
    record. A webhook that fails does not lose the alert: the log line says so."""
    record = {**alert.to_json(), "logged_at": now_iso()}
    if webhook:
        try:
            record["webhook"] = f"HTTP {post_webhook(webhook, alert)}"
        except WebhookError as e:
            record["webhook"] = f"failed: {e}"
    append_log(log_path, record)
    return record


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def read_log(path: Path) -> list[dict]:
    """Every alert in the log file, oldest first (none if there is no file)."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.splitlines() if line.strip()]
