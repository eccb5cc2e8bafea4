"""In-process Lambda runtime: the real handlers, called the way the Lambda Python runtime calls them.

Each registered function carries its handler string (``pkg.module.func``), its code and layer
directories (put on ``sys.path``), its resolved environment, memory size and timeout. Each function is one
sandbox: its invocations run one at a time (a per-function re-entrant lock: handlers keep per-process state
such as Powertools' metric buffer and logger keys in their modules, which Lambda never shares between two
concurrent invocations), while different functions run concurrently, each in the calling thread.
``os.environ`` is replaced (once) by a mapping that, inside an
invocation, reads the function's own environment (plus the variables the Lambda runtime defines) layered
over the process environment *for that thread only*, so two functions running at once each see their own
variables, as in their own Lambda sandboxes. A handler that publishes an event invoking another function in
the same thread gets a fresh layer for that call. Writes to ``os.environ`` inside an invocation stay in its
layer; outside one they go to the process environment as usual.

*Background* invocations (through the Lambda service's ``Invoke``: Step Functions tasks, EventBridge targets) run
at most ``background_slots`` at a time; the others wait for a slot before their handler starts. Python runs one
thread at a time (the GIL): a burst of pipeline runs would otherwise share the interpreter between dozens of
handlers, and a *foreground* invocation (a request of the HTTP API, ``stack.invoke``), which never waits for a
slot, would get a sliver of it; while a foreground invocation is in flight, background ones wait (up to 2 s) before
they take a slot. An invocation made inside another one (a handler publishing an event whose rule
invokes a function in the same thread) neither takes nor waits for a slot.

Waiting background invocations get a free slot *oldest first*, not first come first served: a state machine
task waits with its execution's ticket (taken when the execution started, :meth:`LambdaRegistry.ticket`), any
other background invocation with a ticket taken when it arrives. Many executions started at once then finish one
after another, the first started first, instead of all advancing step by step and all finishing late.

An unhandled exception becomes the Lambda runtime's error envelope
``{"errorMessage", "errorType", "requestId", "stackTrace"}`` with ``errorType`` the exception's class
name, which is what Step Functions' ``Retry``/``Catch`` match on.

Example
-------
>>> ctx = LambdaContext("fn", memory_limit_in_mb=128, timeout_s=3, region="us-east-1",
...                     account_id="123456789012")
>>> ctx.function_name, ctx.memory_limit_in_mb
('fn', 128)
"""

from __future__ import annotations

import contextlib
import heapq
import importlib
import itertools
import json
import os
import sys
import threading
import time
import traceback
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FunctionSpec",
    "HandlerError",
    "LambdaContext",
    "LambdaRegistry",
    "error_envelope",
]

_ENVIRON_LOCK = threading.Lock()


class _LayeredEnviron(os._Environ):  # type: ignore[type-arg]
    """``os.environ`` with a per-thread stack of overlays (one per running invocation).

    Shares the process environment's storage, so outside an invocation it *is* ``os.environ`` (reads, writes,
    ``putenv``); inside one, the innermost overlay of the calling thread wins (``None`` marks a deleted name).
    """

    def __init__(self, base: os._Environ) -> None:  # type: ignore[type-arg]
        self.__dict__.update(base.__dict__)  # _data, encodekey, decodekey, encodevalue, decodevalue
        self._local = threading.local()

    def _layer(self) -> dict[str, str | None] | None:
        stack = getattr(self._local, "stack", None)
        return stack[-1] if stack else None

    def enter(self, layer: dict[str, str]) -> None:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        stack.append(dict(layer))

    def leave(self) -> None:
        self._local.stack.pop()

    def __getitem__(self, key: str) -> str:
        layer = self._layer()
        if layer is not None and key in layer:
            value = layer[key]
            if value is None:
                raise KeyError(key)
            return value
        return super().__getitem__(key)

    def __setitem__(self, key: str, value: str) -> None:
        layer = self._layer()
        if layer is None:
            super().__setitem__(key, value)
            return
        self.encodekey(key)  # type checks as os.environ does
        self.encodevalue(value)
        layer[key] = value

    def __delitem__(self, key: str) -> None:
        layer = self._layer()
        if layer is None:
            super().__delitem__(key)
            return
        if key not in self:
            raise KeyError(key)
        layer[key] = None

    def __iter__(self) -> Iterator[str]:
        layer = self._layer()
        if layer is None:
            yield from super().__iter__()
            return
        base = list(super().__iter__())
        yield from (k for k in base if layer.get(k, "") is not None)
        yield from (k for k, v in layer.items() if v is not None and k not in base)

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _layered_environ() -> _LayeredEnviron:
    """Install (once) and return the per-invocation ``os.environ``."""
    with _ENVIRON_LOCK:
        if not isinstance(os.environ, _LayeredEnviron):
            os.environ = _LayeredEnviron(os.environ)  # noqa: B003 - same storage: nothing is cleared
        return os.environ


class LambdaContext:
    """The attributes and method of the Lambda Python runtime's context object."""

    def __init__(
        self,
        function_name: str,
        *,
        memory_limit_in_mb: int,
        timeout_s: float,
        region: str,
        account_id: str,
        version: str = "$LATEST",
    ) -> None:
        self.function_name = function_name
        self.function_version = version
        self.memory_limit_in_mb = int(memory_limit_in_mb)
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"offline/{self.aws_request_id}"
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + float(timeout_s)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class FunctionSpec:
    """What the offline runtime needs to invoke one function."""

    logical_id: str
    function_name: str
    handler: str
    code_dir: Path
    layer_dirs: list[Path] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    memory_size: int = 128
    timeout: float = 3.0
    runtime: str = "python3.11"
    arn: str = ""
    #: substituted for ``datetime.datetime`` in the function's modules (see :meth:`load`)
    datetime_class: type[Any] | None = None
    _callable: Callable[..., Any] | None = None
    _sandbox: threading.RLock = field(default_factory=threading.RLock, repr=False, compare=False)

    def load(self) -> Callable[..., Any]:
        """Import the handler (lazily, once), with the code and layer dirs on ``sys.path``.

        With :attr:`datetime_class` set (by the registry the function is registered with), the function's own
        modules that did ``from datetime import datetime`` get it instead (:func:`use_simulated_clock`).
        """
        if self._callable is None:
            for d in [self.code_dir, *self.layer_dirs]:
                if str(d) not in sys.path:
                    sys.path.insert(0, str(d))
            module_name, _, func_name = self.handler.rpartition(".")
            if not module_name:
                raise ValueError(f"{self.logical_id}: Handler {self.handler!r} is not 'module.function'")
            module = importlib.import_module(module_name)
            try:
                self._callable = getattr(module, func_name)
            except AttributeError as exc:
                raise ValueError(
                    f"{self.logical_id}: module {module_name!r} has no handler {func_name!r}"
                ) from exc
            if self.datetime_class is not None:
                use_simulated_clock([self.code_dir, *self.layer_dirs], self.datetime_class)
        return self._callable


def use_simulated_clock(dirs: list[Path], datetime_class: type[Any]) -> list[str]:
    """Make ``datetime.now()`` in the function's own modules read a simulated clock.

    Handlers take "now" from ``datetime.now(UTC)`` (cooldowns, lock expiry, retrain history); offline the
    clock is simulated, so every module loaded from the function's code or layer directories that did
    ``from datetime import datetime`` gets ``datetime_class`` (a subclass whose ``now()`` reads the current
    runtime's clock: :attr:`samlocal.registry.RuntimeRegistry.datetime`). Returns the names of the modules patched.
    """
    import datetime as _dt

    roots = [str(Path(d).resolve()) + os.sep for d in dirs]
    patched = []
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None)
        if not path or getattr(module, "datetime", None) is not _dt.datetime:
            continue
        if any(str(Path(path).resolve()).startswith(root) for root in roots):
            module.datetime = datetime_class  # type: ignore[attr-defined]
            patched.append(name)
    return patched


class HandlerError(Exception):
    """A handler raised: carries the original exception and the Lambda error envelope."""

    def __init__(self, original: BaseException, envelope: dict[str, Any]) -> None:
        super().__init__(envelope["errorMessage"])
        self.original = original
        self.envelope = envelope


def error_envelope(exc: BaseException, request_id: str) -> dict[str, Any]:
    """The Lambda Python runtime's error payload for an unhandled exception."""
    frames = traceback.extract_tb(exc.__traceback__)
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id,
        "stackTrace": [
            f'  File "{f.filename}", line {f.lineno}, in {f.name}\n    {f.line or ""}\n' for f in frames
        ],
    }


class OldestFirstSlots:
    """At most ``n`` holders at once; a freed slot goes to the waiter with the lowest key (ties: arrival order).

    >>> slots = OldestFirstSlots(1)
    >>> slots.acquire(5); slots.release()
    """

    def __init__(self, n: int) -> None:
        self._free = n
        self._cond = threading.Condition()
        self._waiting: list[tuple[int, int]] = []
        self._arrivals = itertools.count()

    def acquire(self, key: int) -> None:
        with self._cond:
            entry = (key, next(self._arrivals))
            heapq.heappush(self._waiting, entry)
            while self._free == 0 or self._waiting[0] != entry:
                self._cond.wait()
            heapq.heappop(self._waiting)
            self._free -= 1
            if self._free and self._waiting:
                self._cond.notify_all()  # the next-oldest waiter may take another free slot

    def release(self) -> None:
        with self._cond:
            self._free += 1
            self._cond.notify_all()

    def waiting(self) -> int:
        with self._cond:
            return len(self._waiting)


#: the ticket the calling thread's background invocations wait with (set by :meth:`LambdaRegistry.priority`)
_PRIORITY = threading.local()
#: tickets of the newest executions kept (an execution's ticket is looked up at each of its tasks)
_TICKETS_KEPT = 10_000


class LambdaRegistry:
    """The functions of a stack, by logical id, function name and ARN."""

    def __init__(
        self,
        *,
        region: str,
        account_id: str,
        history: int = 1000,
        datetime_class: type[Any] | None = None,
        background_slots: int | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        self.datetime_class = datetime_class
        self._by_logical: dict[str, FunctionSpec] = {}
        self._by_name: dict[str, FunctionSpec] = {}
        self._load_lock = threading.Lock()
        self._slots = OldestFirstSlots(background_slots) if background_slots else None
        self._tickets = itertools.count()
        self._ticket_of: OrderedDict[str, int] = OrderedDict()
        self._ticket_lock = threading.Lock()
        self.background_slots = background_slots
        self._depth = threading.local()
        #: foreground invocations in flight, and the condition background ones wait on (see :meth:`_slot`)
        self._foreground = 0
        self._foreground_done = threading.Condition()
        #: the longest a background invocation defers to foreground ones before it takes its slot
        self.foreground_first_s = 2.0
        #: the newest ``history`` invocations (function, request id, event, result or error, duration)
        self.invocations: deque[dict[str, Any]] = deque(maxlen=history)

    def register(self, spec: FunctionSpec) -> None:
        if spec.datetime_class is None:
            spec.datetime_class = self.datetime_class
        self._by_logical[spec.logical_id] = spec
        self._by_name[spec.function_name] = spec

    def __contains__(self, key: str) -> bool:
        return self.find(key) is not None

    def specs(self) -> list[FunctionSpec]:
        return list(self._by_logical.values())

    def load_all(self) -> None:
        """Import every function's handler now (not in the first invocations)."""
        for spec in self.specs():
            with self._load_lock:
                spec.load()

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until no invocation is in flight (each function's sandbox is free); False after ``timeout`` s.

        A Parallel state that fails leaves its other branches' running tasks to finish, as Lambda does on AWS;
        closing a stack waits for them so that none writes into the next stack's (process-wide) moto backends.
        """
        deadline = time.monotonic() + timeout
        for spec in self.specs():
            if not spec._sandbox.acquire(timeout=max(0.0, deadline - time.monotonic())):
                return False
            spec._sandbox.release()
        return True

    def find(self, key: str) -> FunctionSpec | None:
        """By logical id, function name, function ARN (qualified or not) or ``name:qualifier``."""
        if key in self._by_logical:
            return self._by_logical[key]
        if key.startswith("arn:"):
            parts = key.split(":")
            key = parts[6] if len(parts) > 6 else key
        else:
            key = key.split(":")[0]
        return self._by_name.get(key)

    def ticket(self, owner: str | None = None) -> int:
        """A new ticket, or ``owner``'s (an execution ARN): the first ticket asked for it, kept for its later tasks.
        Lower tickets get a background slot first."""
        if owner is None:
            return next(self._tickets)
        with self._ticket_lock:
            ticket = self._ticket_of.get(owner)
            if ticket is None:
                ticket = self._ticket_of[owner] = next(self._tickets)
                while len(self._ticket_of) > _TICKETS_KEPT:
                    self._ticket_of.popitem(last=False)
            return ticket

    @contextlib.contextmanager
    def priority(self, ticket: int) -> Iterator[None]:
        """Background invocations made by this thread meanwhile wait for a slot with ``ticket``."""
        saved = getattr(_PRIORITY, "ticket", None)
        _PRIORITY.ticket = ticket
        try:
            yield
        finally:
            _PRIORITY.ticket = saved

    @contextlib.contextmanager
    def _slot(self, background: bool) -> Iterator[None]:
        """A background slot for an outermost background invocation of this thread (nothing otherwise).

        Foreground invocations go first: while one is in flight, a background invocation waits (at most
        :attr:`foreground_first_s`) before it takes a slot, so a burst of API requests gets the interpreter.
        """
        depth = getattr(self._depth, "n", 0)
        outermost = depth == 0
        take = background and outermost and self._slots is not None
        if take:
            assert self._slots is not None
            ticket = getattr(_PRIORITY, "ticket", None)
            if ticket is None:
                ticket = self.ticket()  # not a state machine task: its place is its arrival
            with self._foreground_done:
                self._foreground_done.wait_for(lambda: self._foreground == 0, timeout=self.foreground_first_s)
            self._slots.acquire(ticket)
        elif outermost and not background:
            with self._foreground_done:
                self._foreground += 1
        self._depth.n = depth + 1
        try:
            yield
        finally:
            self._depth.n = depth
            if take:
                assert self._slots is not None
                self._slots.release()
            elif outermost and not background:
                with self._foreground_done:
                    self._foreground -= 1
                    if self._foreground == 0:
                        self._foreground_done.notify_all()

    def invoke(self, key: str, event: Any, *, background: bool = False) -> Any:
        """Call the handler; return its result or raise :class:`HandlerError`.

        ``background``: the call comes through the Lambda service (a state machine task, an event target) and
        waits for one of the ``background_slots`` (see the module's docstring).
        """
        spec = self.find(key)
        if spec is None:
            raise KeyError(f"no offline function {key!r}")
        if spec._callable is None:
            with self._load_lock:  # imports and the clock patch happen once, not in two threads at once
                spec.load()
        handler = spec.load()
        context = LambdaContext(
            spec.function_name,
            memory_limit_in_mb=spec.memory_size,
            timeout_s=spec.timeout,
            region=self.region,
            account_id=self.account_id,
        )
        env = {
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_LAMBDA_FUNCTION_NAME": spec.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{spec.runtime}",
            "_HANDLER": spec.handler,
            **{k: str(v) for k, v in spec.environment.items()},
        }
        record: dict[str, Any] = {
            "function": spec.logical_id,
            "request_id": context.aws_request_id,
            "event": event,
        }
        environ = _layered_environ()
        with self._slot(background), spec._sandbox:
            context._deadline = time.monotonic() + float(spec.timeout)  # the timeout runs from the handler's start
            environ.enter(env)
            started = time.perf_counter()
            try:
                result = handler(event, context)
            except Exception as exc:
                record["error"] = error_envelope(exc, context.aws_request_id)
                raise HandlerError(exc, record["error"]) from exc
            finally:
                environ.leave()
                record["duration_s"] = time.perf_counter() - started
                self.invocations.append(record)
        record["result"] = result
        return result

    def invoke_payload(
        self, key: str, payload: bytes | str | None, *, background: bool = True
    ) -> tuple[bytes, str | None]:
        """Lambda ``Invoke`` semantics on bytes: ``(response payload, FunctionError or None)``; a background
        invocation by default (it comes through the Lambda service)."""
        if isinstance(payload, bytes):
            payload = payload.decode("utf-8")
        event = json.loads(payload) if payload else {}
        try:
            result = self.invoke(key, event, background=background)
        except HandlerError as err:
            return json.dumps(err.envelope).encode(), "Unhandled"
        try:
            return json.dumps(result).encode(), None
        except (TypeError, ValueError) as exc:
            envelope = {
                "errorMessage": f"Unable to marshal response: {exc}",
                "errorType": "Runtime.MarshalError",
                "requestId": "",
                "stackTrace": [],
            }
            return json.dumps(envelope).encode(), "Unhandled"
