from mlperf_power_dag.benchmark_ids import canonical_benchmark
from mlperf_power_dag.rounds import catalog


def test_inference_catalog_sources_and_order():
    rounds = catalog.rounds("inference")
    assert [r.version for r in rounds][:3] == ["v0.5", "v0.7", "v1.0"]
    by_v = {r.version: r for r in rounds}
    assert by_v["v3.1"].source == "cmx" and by_v["v3.1"].slug == "mlcommons/cm4mlperf-results"
    assert by_v["v2.1"].slug == "mlcommons/inference_results_v2.1"
    assert not by_v["v0.7"].has_power and by_v["v1.0"].has_power


def test_canonical_benchmark_aliases_and_unknown():
    assert canonical_benchmark("resnet") == ("resnet50", True)
    assert canonical_benchmark("ssd-large") == ("ssd-resnet34", True)
    assert canonical_benchmark("Bert-99.9") == ("bert-99.9", True)
    assert canonical_benchmark("llama3.1-405b") == ("llama3.1-405b", False)
