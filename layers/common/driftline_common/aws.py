"""AWS clients: created lazily on first use, cached per (service, region, endpoint), injectable in tests."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)


@lru_cache(maxsize=32)
def _client(service: str, region: str | None, endpoint: str | None) -> Any:
    return boto3.session.Session().client(
        service, region_name=region, endpoint_url=endpoint, config=_CONFIG  # type: ignore[call-overload]
    )


def client(service: str) -> Any:
    """A cached boto3 client for ``service`` (honours ``AWS_ENDPOINT_URL`` like the AWS SDKs do)."""
    return _client(service, os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                   os.environ.get("AWS_ENDPOINT_URL"))


@lru_cache(maxsize=8)
def _resource(service: str, region: str | None, endpoint: str | None) -> Any:
    return boto3.session.Session().resource(
        service, region_name=region, endpoint_url=endpoint, config=_CONFIG  # type: ignore[call-overload]
    )


def resource(service: str) -> Any:
    """A cached boto3 resource (used for DynamoDB tables)."""
    return _resource(service, os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                     os.environ.get("AWS_ENDPOINT_URL"))


def reset_clients() -> None:
    """Forget cached clients (tests switch between mocked accounts)."""
    _client.cache_clear()
    _resource.cache_clear()
