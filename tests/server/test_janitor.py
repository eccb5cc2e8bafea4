"""`make up` hands memory back after a burst of runs, not during one."""

from __future__ import annotations

import time
from types import SimpleNamespace

from samlocal import server


def test_memory_is_released_once_executions_have_ended_and_gone_quiet(monkeypatch):
    released = []
    monkeypatch.setattr(server, "release_memory", lambda: released.append(time.monotonic()))
    runtime = SimpleNamespace(terminations=0)
    janitor = server._Janitor(runtime, quiet=0.05)
    assert janitor.tick() is False  # nothing ended yet
    runtime.terminations = 3
    assert janitor.tick() is False  # executions are ending: not now
    runtime.terminations = 5
    assert janitor.tick() is False
    time.sleep(0.06)
    assert janitor.tick() is True  # quiet since the last end: release once
    assert janitor.tick() is False  # and not again until more executions end
    time.sleep(0.06)
    assert janitor.tick() is False
    assert len(released) == 1

