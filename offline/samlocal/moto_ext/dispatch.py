"""Extension ``dispatch_caches``: what moto recomputes for every in-process request, computed once per class.

moto's stubber routes every boto3 call made in the process (every handler's S3, DynamoDB, Step Functions call) by
building the backend's URL table again (``backend.urls``: every pattern formatted anew; for S3 it also
``importlib.reload``s ``moto.s3.urls``, a file-system walk) and then lists the response class's methods with
``inspect.getmembers`` to find the action. Both depend only on the class (and, for S3, on environment variables
read when the URL module loads: they are part of the key), so each is computed once and kept; a class's method list
is dropped when the extensions add a method to it. Under a burst of runs this was about a tenth of the CPU time.
"""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry

#: environment variables moto's URL modules read (S3's custom endpoints and ISO regions)
_URL_ENV = ("MOTO_S3_CUSTOM_ENDPOINTS", "MOTO_ENABLE_ISO_REGIONS", "S3_IGNORE_SUBDOMAIN_BUCKETNAME")
_URLS: dict[tuple[Any, ...], Any] = {}
_METHODS: dict[type, list[str]] = {}
_LOCK = threading.Lock()


def forget_methods() -> None:
    """Drop the cached method lists (after a class got a new action)."""
    with _LOCK:
        _METHODS.clear()


def _install_dispatch_caches(registry: RuntimeRegistry) -> None:
    import moto.core.responses as responses_mod
    from moto.core.base_backend import BaseBackend

    original_urls = BaseBackend.urls.fget  # type: ignore[attr-defined]

    def urls(self: Any) -> Any:
        key = (type(self), *(os.environ.get(name) for name in _URL_ENV))
        table = _URLS.get(key)
        if table is None:
            table = original_urls(self)
            with _LOCK:
                _URLS[key] = table
        return table

    BaseBackend.urls = property(urls)  # type: ignore[method-assign,assignment]

    original_names = responses_mod.method_names_from_class

    def method_names_from_class(clazz: Any) -> list[str]:
        names = _METHODS.get(clazz)
        if names is None:
            names = original_names(clazz)
            with _LOCK:
                _METHODS[clazz] = names
        return names

    responses_mod.method_names_from_class = method_names_from_class  # type: ignore[assignment]
