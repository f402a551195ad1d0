"""Figure builders (data) and renderers (matplotlib) of the MLPerf Power paper's figures.

Each module exposes ``build_<key>(results, params, ...) -> FigureData`` and
``render_<key>(data) -> Figure``; `common.save` writes PNG, SVG and the data CSV.
"""

from mlperf_power_dag.figures.common import FigureData, save

__all__ = ["FigureData", "save"]
