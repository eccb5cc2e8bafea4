"""A window's listing reads the window's hours, not the prefix's history, and never misses a key of the window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import boto3
import pytest
from driftline_common import hour_listing, sources
from driftline_common.s3io import list_objects
from driftline_common.sources import _window_listing

BUCKET = "driftline-test-data"
T0 = datetime(2026, 12, 30, 20, tzinfo=UTC)


def _put(s3: Any, keys: list[str]) -> None:
    for k in keys:
        s3.put_object(Bucket=BUCKET, Key=k, Body=b"{}\n")


def _hours(prefix: str, hours: int, files: int = 1) -> list[str]:
    return [f"{prefix}{(T0 + timedelta(hours=h)):%Y/%m/%d/%H}/{m:02d}-{f}.jsonl"
            for h in range(hours) for m, f in enumerate(range(files))]


def _full(base: str, start: datetime, end: datetime) -> list[tuple[str, int, str]]:
    """The reference: the whole prefix listed and filtered by the same hour rule (as before this module)."""
    with mock.patch.object(sources, "window_listing", return_value=None):
        return _window_listing(base, start, end, False)


@pytest.fixture
def s3(stack_env: dict[str, str]) -> Any:
    return boto3.client("s3", region_name="us-east-1")


WINDOWS = [
    (T0 + timedelta(hours=4), T0 + timedelta(hours=28)),  # a day across the new year
    (T0 + timedelta(hours=4, minutes=30), T0 + timedelta(hours=5, minutes=10)),  # part of two hours
    (T0 - timedelta(days=3), T0 + timedelta(hours=1)),  # starts before the first key
    (T0 + timedelta(hours=50), T0 + timedelta(hours=70)),  # after the last key: nothing
    (T0 + timedelta(hours=10), T0 + timedelta(hours=10)),  # empty window
]


def test_capture_layout_with_variants_lists_only_the_window(s3: Any) -> None:
    base = "datacapture/ep"
    _put(s3, [*_hours(f"{base}/AllTraffic/", 40), *_hours(f"{base}/Canary/", 30), *_hours("datacapture/ep2/A/", 40)])
    calls: list[dict[str, Any]] = []
    s3c = hour_listing.client("s3")
    s3c.meta.events.register("provide-client-params.s3.ListObjectsV2", lambda params, **_: calls.append(params))
    for start, end in WINDOWS:
        got = _window_listing(f"s3://{BUCKET}/{base}", start, end, False)
        assert got == _full(f"s3://{BUCKET}/{base}", start, end)
        listed = sum(1 for _ in hour_listing.window_listing(BUCKET, f"{base}/", start, end) or [])
        assert listed == len(got)  # nothing beyond the window's hours is read
    assert any("StartAfter" in c for c in calls), "windows are listed from their first hour"
    assert sum(1 for _ in list_objects(f"s3://{BUCKET}/{base}/")) == 70


def test_ground_truth_layout_and_fallbacks(s3: Any) -> None:
    _put(s3, _hours("labels/m/", 30, files=2))
    start, end = T0 + timedelta(hours=2), T0 + timedelta(hours=9)
    assert hour_listing.partition_parents(BUCKET, "labels/m/") == ["labels/m/"]
    got = _window_listing(f"s3://{BUCKET}/labels/m", start, end, False)
    assert len(got) == 14
    assert got == _full(f"s3://{BUCKET}/labels/m", start, end)
    # an object beside the hour folders, or folders of another kind beside the years: the full listing
    _put(s3, ["labels/m/manifest.json", "labels/x/2026/12/31/01/a.jsonl", "labels/x/other/a.jsonl"])
    assert hour_listing.window_listing(BUCKET, "labels/m/", start, end) is None
    assert hour_listing.partition_parents(BUCKET, "labels/x/") is None
    assert _window_listing(f"s3://{BUCKET}/labels/m", start, end, False) == got
    # unpartitioned formats keep listing everything
    assert len(_window_listing(f"s3://{BUCKET}/labels/m", start, end, True)) == 15
    assert sum(1 for _ in list_objects(f"s3://{BUCKET}/labels/m/")) == 61
