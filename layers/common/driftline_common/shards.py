"""Shared by the sharded actions of the evaluator and the drift checker (Step Functions Distributed Map)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from driftline_common.errors import DataFormatError, InvalidEvent
from driftline_common.s3io import get_json


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


def load_shards(results: Any) -> list[dict[str, Any]]:
    """The shard documents named by the Map's results (``[{"stateUri", ...}]``)."""
    if not isinstance(results, list) or not all(isinstance(r, dict) and isinstance(r.get("stateUri"), str)
                                                for r in results):
        raise InvalidEvent("'shards' must be the Map's list of shard results with a 'stateUri'", field="shards")
    docs = []
    for r in results:
        try:
            docs.append(get_json(r["stateUri"]))
        except FileNotFoundError:
            raise DataFormatError(f"the shard state {r['stateUri']} does not exist", uri=r["stateUri"]) from None
    return docs
