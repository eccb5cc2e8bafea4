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


def test_main_counts_a_worker_result_of_another_module_identity_as_a_run(tmp_path: Path, monkeypatch, capsys) -> None:
    """Under ``python -m`` the demo module is also ``__main__``: a worker's ScenarioRun is of the other class."""
    from types import SimpleNamespace

    import driftline_examples.report as report
    from driftline_offline import demo

    run = SimpleNamespace(name="regression-drift", summary={"days": [], "retrains": 0, "deployments": 0,
                                                            "executions": {}},
                          details={}, setup_seconds=1.0, days_seconds=2.0, execution_seconds=[0.5],
                          retrain_execution_seconds=[], execution_cpu_seconds=[0.4], failures=[])
    monkeypatch.setattr(demo, "play_all", lambda names, **kw: [("regression-drift", run), ("stable", "Boom: no")])
    monkeypatch.setattr(report, "render_report", lambda summary, details: "<!DOCTYPE html>")
    assert demo.main(["--out", str(tmp_path), "--scenario", "regression-drift", "--scenario", "stable"]) == 1
    out = capsys.readouterr().out
    assert "regression-drift: retrains 0" in out
    assert "stable: set-up or simulation failed: Boom: no" in out
    assert "regression-drift: set-up" not in out
    # the 60 s target is judged on the whole demo's wall time (set-up included, scenarios side by side)
    assert "(target < 60 s: met)" in out.split("total wall time:", 1)[1].splitlines()[0]
