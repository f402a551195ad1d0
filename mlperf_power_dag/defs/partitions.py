"""One dynamic partition set per suite; a partition key is a round version (e.g. v2.1)."""

from __future__ import annotations

import dagster as dg

PARTITIONS = {
    suite: dg.DynamicPartitionsDefinition(name=f"{suite}_rounds")
    for suite in ("inference", "tiny", "training")
}
