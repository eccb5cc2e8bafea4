"""Fixtures for the offline runtime tests: one deployed fixture stack per test (fast: ~0.2 s)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest
from driftline_offline import OfflineStack

FIXTURES = Path(__file__).parent / "fixtures"
TEMPLATE = FIXTURES / "template.yaml"
T0 = datetime(2024, 1, 1, tzinfo=UTC)  # a Monday


@pytest.fixture
def stack():
    with OfflineStack.running(TEMPLATE, clock=T0) as st:
        yield st
