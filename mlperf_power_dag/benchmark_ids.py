"""Canonical MLPerf ids: inference and tiny benchmarks (with the aliases used across rounds),
system categories and loadgen scenarios."""

from __future__ import annotations

import re

# System categories (an inference system may be in both) and loadgen scenarios.
CATEGORIES = ("datacenter", "edge")
SCENARIOS = ("Offline", "Server", "SingleStream", "MultiStream")
DIVISIONS = ("closed", "open", "network")
# Scenario spellings of folder names and table rows (lower case, no separators) -> canonical.
SCENARIO_BY_KEY = {s.lower(): s for s in SCENARIOS}

# Canonical lower-case MLCommons ids (the result folder names of recent rounds).
INFERENCE_BENCHMARKS = (
    "resnet50",
    "mobilenet",
    "ssd-mobilenet",
    "ssd-resnet34",
    "retinanet",
    "gnmt",
    "rnnt",
    "bert-99",
    "bert-99.9",
    "dlrm-99",
    "dlrm-99.9",
    "dlrm-v2-99",
    "dlrm-v2-99.9",
    "3d-unet-99",
    "3d-unet-99.9",
    "gptj-99",
    "gptj-99.9",
    "llama2-70b-99",
    "llama2-70b-99.9",
    "stable-diffusion-xl",
    "mixtral-8x7b",
)

# Folder or CMX/summary model names that mean a canonical id.
_ALIASES = {
    "resnet": "resnet50",
    "resnet50-v1.5": "resnet50",
    "ssd-small": "ssd-mobilenet",
    "ssd-large": "ssd-resnet34",
    "ssd-mobilenet-v1": "ssd-mobilenet",
    "mobilenet-v1": "mobilenet",
    "3d-unet": "3d-unet-99",
    "3d-unet-kits19-99": "3d-unet-99",
    "3d-unet-kits19-99.9": "3d-unet-99.9",
    "gpt-j-99": "gptj-99",
    "gpt-j-99.9": "gptj-99.9",
    "sdxl": "stable-diffusion-xl",
    "stable-diffusion-xl-base": "stable-diffusion-xl",
}

# Benchmarks whose loadgen result counts tokens, not samples.
TOKEN_BENCHMARKS = frozenset(
    {"gptj-99", "gptj-99.9", "llama2-70b-99", "llama2-70b-99.9", "mixtral-8x7b"}
)


def canonical_benchmark(name: str) -> tuple[str, bool]:
    """Map a benchmark name as written in a source to (canonical id, known?).

    Unknown names are returned lower-cased and flagged, never dropped.
    """
    key = re.sub(r"[\s_]+", "-", name.strip().lower())
    key = _ALIASES.get(key, key)
    return key, key in INFERENCE_BENCHMARKS


# ------------------------------------------------------------------- tiny

TINY_BENCHMARKS = ("ic", "vww", "kws", "ad")
# Benchmarks introduced after v1.2 that the analysis does not treat as comparable yet.
NEW_BENCHMARKS = ("sww",)
_TINY_ALIASES = {
    "image_classification": "ic",
    "imageclassification": "ic",
    "ic01": "ic",
    "resnet": "ic",
    "visual_wake_words": "vww",
    "visualwakewords": "vww",
    "vww01": "vww",
    "keyword_spotting": "kws",
    "keywordspotting": "kws",
    "kws01": "kws",
    "anomaly_detection": "ad",
    "anomalydetection": "ad",
    "ad01": "ad",
    "streaming_wakeword": "sww",
    "streaming_wake_word": "sww",
    "sww01": "sww",
}


def canonical_tiny_benchmark(name: str) -> tuple[str, bool]:
    """Folder name of a tiny benchmark -> (canonical id, known?); unknown ids lower-cased."""
    key = re.sub(r"[\s-]+", "_", name.strip().lower())
    key = _TINY_ALIASES.get(key, key)
    return key, key in TINY_BENCHMARKS
