"""Dagster wiring: assets, checks, sensors and resources over the pure core."""
