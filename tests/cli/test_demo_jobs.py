"""``make demo`` plays its scenarios side by side: one worker process (and stack) per scenario, order kept."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

from driftline_offline.demo import _Prefixed, play_all


def _fake_play(name: str, days: int, rows: int, log_path: Path) -> str:
    time.sleep(0.3)  # long enough for the pool to hand the next scenario to the other worker
    return f"{name}:{days}:{rows}:{os.getpid()}"


def test_scenarios_run_in_worker_processes_and_come_back_in_order(tmp_path: Path) -> None:
    got = play_all(["drift", "stable", "regression-drift"], days=3, rows=10, jobs=2, log_path=tmp_path / "f.log",
                   out=io.StringIO(), play=_fake_play)
    assert [n for n, _ in got] == ["drift", "stable", "regression-drift"]
    assert [str(r).split(":")[:3] for _, r in got] == [[n, "3", "10"] for n, _ in got]
    pids = {str(r).split(":")[3] for _, r in got}
    assert str(os.getpid()) not in pids
    assert len(pids) == 2


def test_prefixed_lines_are_written_whole() -> None:
    sink = io.StringIO()
    out = _Prefixed(sink, "[drift] ")
    print("day  0", "ok", file=out)
    out.write("half ")
    assert sink.getvalue() == "[drift] day  0 ok\n"
    print("line\n[drift] set-up 1 s\n", file=out)
    assert sink.getvalue() == "[drift] day  0 ok\n[drift] half line\n[drift] set-up 1 s\n\n"
