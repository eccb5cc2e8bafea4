"""Shared by the sharded actions of the evaluator and the drift checker (Step Functions Distributed Map)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from driftline_common.errors import InvalidEvent


def shard_id(keys: Sequence[str]) -> str:
    """A stable id of a batch of objects: a retried child workflow overwrites its own files.

    >>> shard_id(["b", "a"]) == shard_id(["a", "b"])
    True
    """
    return hashlib.sha256("\n".join(sorted(keys)).encode()).hexdigest()[:20]


def item_keys(items: Any) -> list[str]:
    """The object keys of a Distributed Map batch (``ItemReader`` ``listObjectsV2`` items, ``$.Items``)."""
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("Key"), str) for i in items):
        raise InvalidEvent("'items' must be a list of S3 listing items with a 'Key'", field="items")
    return [i["Key"] for i in items]
