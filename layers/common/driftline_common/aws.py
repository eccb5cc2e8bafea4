"""AWS clients: created lazily on first use, cached per (service, region, endpoint), injectable in tests."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.loaders import Loader, create_loader

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=60)
#: one loader for every session: service models are parsed from botocore's JSON once per process (~0.1-0.3 s
#: per service), not once per session; the loader only reads files and caches what it read
_LOADER: Loader = create_loader()
_LOADER.search_paths.append(os.path.join(os.path.dirname(boto3.__file__), "data"))  # resource models, as boto3 adds


def _session() -> boto3.session.Session:
    """A fresh session (clients of different threads share no credential state) over the shared loader."""
    session = boto3.session.Session()
    session._session.register_component("data_loader", _LOADER)  # service models (clients)
    session._loader = _LOADER  # resource models
    return session


@lru_cache(maxsize=32)
def _client(service: str, region: str | None, endpoint: str | None) -> Any:
    return _session().client(
        service, region_name=region, endpoint_url=endpoint, config=_CONFIG  # type: ignore[call-overload]
    )


def client(service: str) -> Any:
    """A cached boto3 client for ``service`` (honours ``AWS_ENDPOINT_URL`` like the AWS SDKs do)."""
    return _client(service, os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION"),
                   os.environ.get("AWS_ENDPOINT_URL"))


@lru_cache(maxsize=8)
def _resource(service: str, region: str | None, endpoint: str | None) -> Any:
    return _session().resource(
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
