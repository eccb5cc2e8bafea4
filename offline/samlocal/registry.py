"""Which runtime the moto extensions and the functions' simulated clock dispatch to.

moto's backends and the patches :mod:`samlocal.moto_ext` applies to them are process-wide, while a stack and its
:class:`~samlocal.runtime.OfflineRuntime` are not: a :class:`RuntimeRegistry` is the one link between them. The
stack activates its runtime in a registry and installs the extensions *with that registry*
(``moto_ext.install(registry)``); an extension asks the registry it received for the current runtime and behaves
as moto ships when there is none. The dependency runs one way: stack → runtime, moto_ext → registry; the registry
imports nothing of the emulator, the runtime knows nothing of the extensions.

Example
-------
>>> from datetime import UTC, datetime
>>> class Rt:
...     class clock:
...         @staticmethod
...         def now():
...             return datetime(2024, 1, 1, tzinfo=UTC)
>>> registry = RuntimeRegistry()
>>> registry.current() is None
True
>>> rt = Rt()
>>> registry.activate(rt)
>>> registry.current() is rt, registry.datetime.now(UTC).year
(True, 2024)
>>> registry.deactivate(rt)
>>> registry.current() is None
True
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import threading
from collections.abc import Iterator
from typing import Any, Protocol

__all__ = ["Runtime", "RuntimeRegistry"]


class _Clock(Protocol):
    def now(self) -> _dt.datetime: ...


class Runtime(Protocol):
    """What the extensions use of a runtime (:class:`samlocal.runtime.OfflineRuntime` is one)."""

    clock: _Clock


class RuntimeRegistry:
    """The active runtime of one process (at most one at a time) and a ``datetime`` class reading its clock."""

    def __init__(self) -> None:
        self._current: Any = None
        self._lock = threading.Lock()
        registry = self

        class ClockDatetime(_dt.datetime):
            """``datetime.datetime`` whose ``now()`` reads the registry's current runtime's simulated clock."""

            @classmethod
            def now(cls, tz=None):  # type: ignore[no-untyped-def,override]
                t = registry.now()
                if t is None:
                    return _dt.datetime.now(tz)
                return t.astimezone(tz) if tz is not None else t.astimezone(_dt.UTC).replace(tzinfo=None)

        #: substituted for ``datetime.datetime`` in the functions' modules and in moto's Step Functions interpreter
        self.datetime: type[_dt.datetime] = ClockDatetime

    def activate(self, runtime: Any) -> None:
        """Make ``runtime`` the current one (replacing any other)."""
        with self._lock:
            self._current = runtime

    def deactivate(self, runtime: Any = None) -> None:
        """No current runtime (only if ``runtime`` is the current one, when given)."""
        with self._lock:
            if runtime is None or self._current is runtime:
                self._current = None

    @contextlib.contextmanager
    def suspended(self, runtime: Any) -> Iterator[None]:
        """No current runtime meanwhile (moto as shipped: every extension falls back), then ``runtime`` again."""
        self.deactivate(runtime)
        try:
            yield
        finally:
            self.activate(runtime)

    def current(self) -> Any:
        """The current runtime, or ``None``."""
        return self._current

    def now(self) -> _dt.datetime | None:
        """The current runtime's simulated time, or ``None`` when no runtime is current."""
        rt = self._current
        return None if rt is None else rt.clock.now()

    def datetime_module(self) -> Any:
        """A ``datetime`` module whose ``datetime`` is :attr:`datetime` (for modules that ``import datetime``)."""
        import types

        shim = types.ModuleType("datetime")
        shim.__dict__.update({k: v for k, v in _dt.__dict__.items() if not k.startswith("__")})
        shim.datetime = self.datetime  # type: ignore[attr-defined]
        return shim
