"""CloudWatch percentile statistics (``p50``, ``p99.9``...) for moto's GetMetricData, which answers only
Sum/Average/Minimum/Maximum/SampleCount (moto 5.2). Nearest-rank percentile of the raw values of the period,
as CloudWatch computes it for unaggregated data."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest
from moto.cloudwatch.models import Statistics

PERCENTILE = re.compile(r"^p(\d{1,2}(\.\d+)?|100)$")


def patch_percentiles(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Statistics, stat: str) -> Any:
        match = PERCENTILE.match(stat)
        if match is None:
            return original(self, stat)
        values = sorted(float(v) for v in self.metric_single_values_list)
        if not values:
            return None
        rank = max(1, math.ceil(float(match.group(1)) / 100 * len(values)))
        return values[rank - 1]

    monkeypatch.setattr(Statistics, "get_statistics_for_type", get_statistics_for_type)
