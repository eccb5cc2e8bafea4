"""Extension ``moto_backend_locks``: moto's non-thread-safe backends guarded per backend (see
:mod:`samlocal.moto_ext`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..registry import RuntimeRegistry


#: backend classes guarded by ``moto_backend_locks`` (module, class); methods left out run functions synchronously
_LOCKED_BACKENDS = (
    ("moto.dynamodb.models", "DynamoDBBackend"),
    ("moto.s3.models", "S3Backend"),
    ("moto.stepfunctions.parser.models", "StepFunctionsParserBackend"),
    ("moto.sqs.models", "SQSBackend"),
)
#: ``start_execution`` takes a lock per execution name instead (see below)
_UNLOCKED_METHODS = frozenset({"start_sync_execution", "start_execution"})
_NAME_LOCKS = tuple(threading.Lock() for _ in range(64))
BACKEND_LOCKS: dict[str, threading.RLock] = {}


_LOCAL = threading.local()


def _locked(method: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    import functools

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        depth = getattr(_LOCAL, "depth", 0)
        _LOCAL.depth = depth + 1
        try:
            with lock:
                return method(*args, **kwargs)
        finally:
            _LOCAL.depth = depth
            if depth == 0:  # out of every backend lock: now run what the call deferred (S3 notifications)
                pending, _LOCAL.pending = getattr(_LOCAL, "pending", []), []
                for deferred in pending:
                    deferred()

    call._driftline_locked = True  # type: ignore[attr-defined]
    return call


def _install_moto_backend_locks(registry: RuntimeRegistry) -> None:
    import importlib
    import inspect

    from moto.core.base_backend import BaseBackend

    active = registry.current

    for module_name, class_name in _LOCKED_BACKENDS:
        cls = getattr(importlib.import_module(module_name), class_name)
        lock = BACKEND_LOCKS.setdefault(class_name, threading.RLock())
        names: set[str] = set()
        for klass in cls.__mro__:
            if klass is BaseBackend or klass is object:
                break
            names.update(n for n, v in vars(klass).items() if inspect.isfunction(v) and not n.startswith("_"))
        for name in sorted(names - _UNLOCKED_METHODS):
            method = getattr(cls, name)
            if not getattr(method, "_driftline_locked", False):
                setattr(cls, name, _locked(method, lock))

    # StartExecution waits for the new execution's thread to start, which under load takes a while: holding the
    # backend's lock for it would queue every Step Functions call behind it. Its one race is two starts of the same
    # name both passing the idempotency check, so starts of one name are serialised, and starts of others are not.
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    unlocked_start = StepFunctionsParserBackend.start_execution

    def start_execution(self, state_machine_arn, name=None, execution_input=None, trace_header=None):  # type: ignore[no-untyped-def]
        if not name:
            return unlocked_start(self, state_machine_arn, name, execution_input, trace_header)
        with _NAME_LOCKS[hash((state_machine_arn, name)) % len(_NAME_LOCKS)]:
            return unlocked_start(self, state_machine_arn, name, execution_input, trace_header)

    start_execution._driftline_locked = True  # type: ignore[attr-defined]
    if not getattr(unlocked_start, "_driftline_locked", False):
        StepFunctionsParserBackend.start_execution = start_execution  # type: ignore[method-assign]

    import moto.s3.notifications as s3_notifications

    real_send_event = s3_notifications.send_event

    def send_event(*args: Any, **kwargs: Any) -> None:
        if getattr(_LOCAL, "depth", 0) and active() is not None:
            _LOCAL.pending = [*getattr(_LOCAL, "pending", []), lambda: real_send_event(*args, **kwargs)]
            return None
        return real_send_event(*args, **kwargs)

    s3_notifications.send_event = send_event
