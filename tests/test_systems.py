"""System descriptions: categories, counts, availability, and odd values in real rounds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from mlperf_power_dag.parsers.systems import (
    parse_categories,
    parse_count,
    parse_system,
    read_system,
)

FIX = Path(__file__).parent / "fixtures" / "inference"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("datacenter", ("datacenter",)),
        ("edge", ("edge",)),
        ("datacenter,edge", ("datacenter", "edge")),
        ("edge,datacenter", ("datacenter", "edge")),
        ("Datacenter, Edge", ("datacenter", "edge")),
        ("data center", ("datacenter",)),
        ("cloud", ()),
        ("edge,cloud", ()),
        ("", ()),
        (None, ()),
        (["edge"], ()),
    ],
)
def test_parse_categories(raw, expected):
    assert parse_categories(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        (8, (8, True)),
        ("8", (8, True)),
        (" 16 ", (16, True)),
        (2.0, (2, True)),
        ("4.0", (4, True)),
        ("0", (0, True)),
        ("", (None, False)),
        ("N/A", (None, False)),
        ("(8,4)", (None, False)),
        (None, (None, False)),
        (True, (None, False)),
        (-1, (None, False)),
        (2.5, (None, False)),
    ],
)
def test_parse_count(raw, expected):
    assert parse_count(raw) == expected


def test_system_in_both_categories_with_string_counts():
    info = read_system(FIX / "system_both.json")
    assert info.categories == ("datacenter", "edge")
    assert (info.accelerators_per_node, info.nodes, info.accelerators) == (8, 2, 16)
    assert info.availability == "available"  # "Available"
    assert info.host_processor == "Synth CPU 9000"
    assert info.issues == []


def test_odd_system_fields_become_null_and_issues():
    info = read_system(FIX / "system_odd.json")
    assert info.categories == () and info.accelerators is None and info.nodes is None
    assert info.accelerator is None and info.host_processor is None  # "" and "N/A"
    assert info.availability == "on-premise"
    kinds = Counter(k for k, _ in info.issues)
    assert kinds == {"odd_system_type": 1, "odd_system_field": 2, "odd_availability": 1}
    assert any("accelerators_per_node is 'N/A'" in m for _, m in info.issues)


def test_v05_system_without_type():
    info = read_system(FIX / "system_v05.json")
    assert info.categories == () and info.availability == "rdi"
    assert info.nodes == 1 and info.accelerators_per_node is None
    assert [k for k, _ in info.issues] == ["missing_system_type", "odd_system_field"]
    assert parse_system({"status": "Research, Development, or Internal"}).availability == "rdi"


def test_unreadable_system_json():
    with pytest.raises(ValueError, match="not valid JSON"):
        read_system(FIX / "system_broken.json")


def test_real_round_odd_values(checkout):
    """v2.1 and v4.1 system descriptions: the odd accelerator counts the reader flags."""
    odd = {}
    for version in ("v2.1", "v4.1"):
        root = checkout(f"inference_results_{version}", ["/*/*/systems/*.json"])
        paths = sorted(root.glob("*/*/systems/*.json"))
        infos = {p.relative_to(root).as_posix(): read_system(p) for p in paths}
        odd[version] = {
            rel: m for rel, i in infos.items() for k, m in i.issues if k == "odd_system_field"
        }
        cats = Counter(i.categories for i in infos.values())
        if version == "v2.1":
            assert len(paths) == 190
            assert cats[("datacenter", "edge")] == 10  # 9 "datacenter,edge", 1 "edge,datacenter"
        else:
            assert len(paths) == 112 and cats[("datacenter", "edge")] == 1
        assert cats[()] == 0
    assert len(odd["v2.1"]) == 3
    assert sum("'(8,4)'" in m for m in odd["v2.1"].values()) == 2
    (v41,) = odd["v4.1"].values()
    assert "accelerators_per_node is 'N/A'" in v41
