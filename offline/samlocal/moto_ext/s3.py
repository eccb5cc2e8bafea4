"""``s3_prefix_listing``: moto 5.2 answers a ``ListObjects``/``ListObjectsV2`` with a ``Prefix`` by copying the
bucket's whole key store and reading every key's latest version through Python-level calls, then keeping the keys
under the prefix: ~1-2 µs per key in the bucket, for every listing. A stack that has run for a while (a year's
backtest: ~10^4 objects, listed per hour of every window) paid for its history on every run. The names under the
prefix are now picked from the store's key names first (C-level) and moto's own listing runs over just those, so
the result (keys, common prefixes, delete markers, markers, truncation) is moto's. A ``ListObjectsV2`` with a
``StartAfter`` or a continuation token leaves out the names at or before it first as well."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry


class _PrefixBucket:
    """The bucket as moto's listing sees it, with only the keys whose names start with the prefix."""

    def __init__(self, bucket: Any, keys: dict[str, Any]) -> None:
        self._bucket = bucket
        self.keys = keys

    def __getattr__(self, name: str) -> Any:
        return getattr(self._bucket, name)


def _install_s3_prefix_listing(registry: RuntimeRegistry) -> None:
    from moto.s3.models import FakeTableStorageBucket, S3Backend
    from moto.s3.utils import _VersionedKeyStore

    original = S3Backend.list_objects

    def list_objects(self, bucket, prefix, delimiter, marker, max_keys):  # type: ignore[no-untyped-def]
        store = getattr(bucket, "keys", None)
        if not prefix or isinstance(bucket, FakeTableStorageBucket) or not isinstance(store, _VersionedKeyStore):
            return original(self, bucket, prefix, delimiter, marker, max_keys)
        names = [name for name in list(dict.keys(store)) if name.startswith(prefix)]
        latest: dict[str, Any] = {}
        for name in names:
            versions = dict.get(store, name)
            if versions:
                latest[name] = versions[-1]  # what the store's items() gives: the latest version
        return original(self, _PrefixBucket(bucket, latest), prefix, delimiter, marker, max_keys)

    list_objects.original = original  # type: ignore[attr-defined]  # moto's, for the differential test
    S3Backend.list_objects = list_objects  # type: ignore[method-assign]

    original_v2 = S3Backend.list_objects_v2

    def list_objects_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys):  # type: ignore[no-untyped-def]
        # moto lists every key under the prefix, then keeps the names after the start (``StartAfter`` or the
        # continuation token's last name). A key at or before that name cannot be in the answer, nor make a common
        # prefix that is (every key under a common prefix sorts at or after it): they are left out first, so a
        # listing from a window's first hour reads that window's keys, not the whole history under the prefix
        store = getattr(bucket, "keys", None)
        after = self._pagination_tokens.get(continuation_token) if continuation_token else start_after
        if (not prefix or not after or isinstance(bucket, FakeTableStorageBucket)
                or not isinstance(store, _VersionedKeyStore)):
            return original_v2(self, bucket, prefix, delimiter, continuation_token, start_after, max_keys)
        latest: dict[str, Any] = {}
        for name in [name for name in list(dict.keys(store)) if name > after and name.startswith(prefix)]:
            versions = dict.get(store, name)
            if versions:
                latest[name] = versions[-1]
        return original_v2(self, _PrefixBucket(bucket, latest), prefix, delimiter, continuation_token, start_after,
                           max_keys)

    list_objects_v2.original = original_v2  # type: ignore[attr-defined]
    S3Backend.list_objects_v2 = list_objects_v2  # type: ignore[method-assign]
