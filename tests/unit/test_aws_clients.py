"""``driftline_common.aws``: cached clients whose sessions share one model loader."""

from __future__ import annotations

import botocore.loaders
import pytest
from driftline_common import aws
from moto import mock_aws


def test_clients_after_a_reset_reuse_the_parsed_service_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new session per client (no shared credential state), but botocore's JSON models are read once."""
    reads: list[str] = []
    real = botocore.loaders.JSONFileLoader.load_file

    def load_file(self: object, file_path: str) -> object:
        reads.append(file_path)
        return real(self, file_path)  # type: ignore[arg-type]

    monkeypatch.setattr(botocore.loaders.JSONFileLoader, "load_file", load_file)
    with mock_aws():
        aws.reset_clients()
        first = aws.client("sqs")
        first.list_queues()
        aws.resource("dynamodb").Table("t")
        read_once = len(reads)
        aws.reset_clients()
        second = aws.client("sqs")
        second.list_queues()
        aws.resource("dynamodb").Table("t")
    aws.reset_clients()
    assert second is not first
    assert read_once > 0
    assert len(reads) == read_once, reads[read_once:]
