"""moto's CloudWatch with percentile statistics for one test (the offline emulator's ``cloudwatch_percentiles``
extension, applied with ``monkeypatch`` so it is undone after the test)."""

from __future__ import annotations

from typing import Any

import pytest
from moto.cloudwatch.models import Statistics
from samlocal.moto_ext.cloudwatch import PERCENTILE, percentile


def patch_percentiles(monkeypatch: pytest.MonkeyPatch) -> None:
    original = Statistics.get_statistics_for_type

    def get_statistics_for_type(self: Statistics, stat: str) -> Any:
        if PERCENTILE.match(stat) is None:
            return original(self, stat)
        return percentile([float(v) for v in self.metric_single_values_list], stat)

    monkeypatch.setattr(Statistics, "get_statistics_for_type", get_statistics_for_type)
