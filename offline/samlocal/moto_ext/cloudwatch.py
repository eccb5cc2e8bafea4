"""``cloudwatch_percentiles``: ``GetMetricData`` / ``GetMetricStatistics`` statistics ``p0``..``p100`` (moto 5.2
answers only Sum/Average/Minimum/Maximum/SampleCount and fails serialising the ``None`` it returns otherwise):
the nearest-rank percentile of the period's raw values, ``None`` (no datapoint) when there are none."""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry

PERCENTILE = re.compile(r"^p(100|\d{1,2}(\.\d+)?)$")


def percentile(values: list[float], stat: str) -> float | None:
    """Nearest-rank percentile ``stat`` (``"p99"``, ``"p99.9"``) of ``values``; ``None`` when empty."""
    match = PERCENTILE.match(stat)
    if match is None:
        raise ValueError(f"not a percentile statistic: {stat!r}")
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(float(match.group(1)) / 100 * len(ordered)))
    return ordered[rank - 1]


def _install_cloudwatch_percentiles(registry: RuntimeRegistry) -> None:
    from moto.cloudwatch.models import Statistics

    original = Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Statistics, stat: str) -> Any:
        if PERCENTILE.match(stat) is None:
            return original(self, stat)
        return percentile([float(v) for v in self.metric_single_values_list], stat)

    Statistics.get_statistics_for_type = get_statistics_for_type  # type: ignore[method-assign]
