"""Caps on the input files the readers accept: the largest file and the longest line per kind.

A file over its cap is not opened; its result gets a problem row (`file_too_large`,
`line_too_long`) and the round goes on. The defaults are far above every file of the rounds
this pipeline reads (the largest of each kind is noted next to its cap; docs/data.md has the
table), so they only stop hostile or broken inputs and bound the time and memory one file
costs: parsing any file at its cap takes well under 20 s and at most twice the largest cap
(128 MiB) of memory. `MLPERF_POWER_LIMITS` overrides them (see `parse_overrides`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from mlperf_power_dag import settings

KiB, MiB = 1 << 10, 1 << 20


@dataclass(frozen=True)
class Limit:
    """The caps of one kind of file: bytes of the file and, for line-based formats, of a line
    (None: a JSON document, read whole whatever its line breaks)."""

    max_bytes: int
    max_line: int | None = None


@dataclass(frozen=True)
class Limits:
    """The caps of every kind of input file (bytes)."""

    # inference submission tree
    loadgen_summary: Limit = Limit(1 * MiB, 64 * KiB)  # largest 3.3 KB, line 65 B
    loadgen_detail: Limit = Limit(16 * MiB, 8 * MiB)  # largest 2.6 MB, line 1.4 MB
    spl: Limit = Limit(64 * MiB, 64 * KiB)  # largest 3.3 MB, line 318 B
    system_json: Limit = Limit(1 * MiB)  # inference, tiny, training; largest 3.2 KB
    # inference tables
    cmx: Limit = Limit(16 * MiB)  # cm-result.json; largest 3.9 MB
    summary_results: Limit = Limit(16 * MiB)  # summary_results.json; largest 1.3 MB
    # tiny
    tiny_text: Limit = Limit(16 * MiB, 64 * KiB)  # results.txt, log.txt; largest 3.5 MB, 2.7 KB
    tiny_json: Limit = Limit(16 * MiB)  # results.json; largest 1.2 MB
    # training
    training_result: Limit = Limit(16 * MiB, 16 * KiB)  # result_*.txt; largest 3.0 MB, 2.9 KB
    training_power: Limit = Limit(16 * MiB, 16 * KiB)  # node_*/sw_*.txt; largest 0.24 MB, 272 B
    scaling_json: Limit = Limit(1 * MiB)  # scaling.json; largest 40 B

    def of(self, kind: str) -> Limit:
        """The caps of `kind` (a field name); KeyError for an unknown kind."""
        if kind not in KINDS:
            raise KeyError(kind)
        return getattr(self, kind)


KINDS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Limits))
DEFAULT = Limits()
_SUFFIX = {"": 1, "B": 1, "K": KiB, "KB": KiB, "KIB": KiB, "M": MiB, "MB": MiB, "MIB": MiB}
_SUFFIX |= {"G": 1 << 30, "GB": 1 << 30, "GIB": 1 << 30}


def _size(text: str) -> int:
    """`512M`, `64K`, `2G` or plain bytes -> bytes (binary units); ValueError otherwise."""
    t = text.strip().upper()
    digits = t.rstrip("KMGIB")
    unit = t[len(digits) :]
    if unit not in _SUFFIX or not digits.strip().isdigit():
        raise ValueError(f"not a size: {text!r} (say e.g. 512M, 64K or 1000)")
    n = int(digits) * _SUFFIX[unit]
    if n <= 0:
        raise ValueError(f"a cap must be positive: {text!r}")
    return n


def parse_overrides(spec: str, base: Limits = DEFAULT) -> Limits:
    """`base` with the caps of a spec such as `spl=512M,loadgen_detail.line=16M` replaced.

    `<kind>=<size>` sets the file cap of a kind, `<kind>.line=<size>` its line cap; sizes are
    bytes with an optional K, M or G (binary units). ValueError names a bad entry.
    """
    out = base
    for entry in (e.strip() for e in spec.split(",")):
        if not entry:
            continue
        key, eq, value = entry.partition("=")
        kind, _, what = key.strip().partition(".")
        if not eq or kind not in KINDS or what not in ("", "line"):
            raise ValueError(
                f"MLPERF_POWER_LIMITS: cannot read {entry!r}; entries are <kind>=<size> or "
                f"<kind>.line=<size>, kinds: {', '.join(KINDS)}"
            )
        old = out.of(kind)
        new = (
            dataclasses.replace(old, max_line=_size(value))
            if what
            else dataclasses.replace(old, max_bytes=_size(value))
        )
        out = dataclasses.replace(out, **{kind: new})
    return out


def current() -> Limits:
    """The caps in force: the defaults with `MLPERF_POWER_LIMITS` applied."""
    spec = settings.input_limits()
    return parse_overrides(spec) if spec else DEFAULT
