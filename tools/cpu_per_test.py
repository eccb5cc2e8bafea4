"""CPU-seconds per test: a pytest plugin, and a summary of what it wrote.

On a machine whose cores are shared, a test's wall time says more about the load than about the test; its CPU
time (user + sys of the process running it, plus the children it waited for, such as a training job's
subprocess) does not. Each pytest process (every pytest-xdist worker) writes one JSON file at the end of the
session: the CPU of every test (set-up + call + tear-down) and the process's total.

Usage::

    PYTEST_ADDOPTS="-p tools.cpu_per_test" make test          # or any pytest command; writes build/cpu-per-test/
    python -m tools.cpu_per_test build/cpu-per-test [--top 30]  # per directory, per module, the costliest tests

``DRIFTLINE_CPU_PER_TEST`` sets the output directory. Module-scoped fixtures are counted in the first test that
uses them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_ROWS: list[tuple[str, float, float]] = []


def _cpu() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    cpu, wall = _cpu(), time.perf_counter()
    yield
    _ROWS.append((item.nodeid, _cpu() - cpu, time.perf_counter() - wall))


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = Path(os.environ.get("DRIFTLINE_CPU_PER_TEST", "build/cpu-per-test"))
    out.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    (out / f"{worker}.json").write_text(json.dumps({"rows": _ROWS, "total_cpu": _cpu()}))


def summary(directory: Path, top: int) -> str:
    """Per-process totals, CPU per test directory and per module, and the ``top`` costliest tests."""
    rows: list[tuple[str, float, float]] = []
    totals: dict[str, float] = {}
    for path in sorted(directory.glob("*.json")):
        doc: dict[str, Any] = json.loads(path.read_text())
        rows += [(str(r[0]), float(r[1]), float(r[2])) for r in doc["rows"]]
        totals[path.stem] = doc["total_cpu"]
    by_dir: defaultdict[str, float] = defaultdict(float)
    by_module: defaultdict[str, float] = defaultdict(float)
    for nodeid, cpu, _wall in rows:
        module = nodeid.split("::", 1)[0]
        by_module[module] += cpu
        by_dir["/".join(module.split("/")[:2])] += cpu
    lines = ["process CPU-s (a controller's includes its workers'): "
             + ", ".join(f"{k} {v:.1f}" for k, v in totals.items()),
             f"{len(rows)} tests, {sum(r[1] for r in rows):.1f} CPU-s in tests", "", "per directory:"]
    lines += [f"  {cpu:7.1f}  {name}" for name, cpu in _costliest(by_dir)]
    lines += ["", "per module:"] + [f"  {cpu:7.1f}  {name}" for name, cpu in _costliest(by_module)[:top]]
    lines += ["", "tests:"] + [f"  {cpu:7.2f}  {nodeid}" for nodeid, cpu, _ in sorted(rows, key=lambda r: -r[1])[:top]]
    return "\n".join(lines)


def _costliest(cpu: dict[str, float]) -> list[tuple[str, float]]:
    return sorted(cpu.items(), key=lambda kv: -kv[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, nargs="?", default=Path("build/cpu-per-test"))
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args(argv)
    print(summary(args.directory, args.top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
