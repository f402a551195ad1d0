"""mlperf-power-dag: the MLPerf Power energy-efficiency analysis as a Dagster pipeline."""

__version__ = "0.1.0"
