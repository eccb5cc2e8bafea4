"""Cold start of the ReportFunction's plotting stack, measured in fresh interpreters.

Three numbers, each the median of ``--repeat`` fresh processes:

- ``import``: ``import driftline_report`` (matplotlib with the SVG backend, numpy) with an EMPTY
  ``MPLCONFIGDIR`` — what a Lambda cold start pays, font cache build included;
- ``import (warm cache)``: the same with the font cache already built (a second cold start on the same /tmp);
- ``render``: building and rendering a full binary report (20 runs of history, drift heatmaps) after the import.

Usage: ``PYTHONPATH=... python -m benchmarks.report_cold_start [--repeat 5]`` (see docs/reports.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

CHILD = r"""
import json, sys, time
t0, c0 = time.perf_counter(), time.process_time()
import driftline_report
t1, c1 = time.perf_counter(), time.process_time()
from tests.report import _docs as d
runs = [d.run_record("binary", s % 6) for s in range(20)]
for i, r in enumerate(runs):
    r["runId"] = f"run-{i:03d}"
t2, c2 = time.perf_counter(), time.process_time()
rep = driftline_report.build_report(run=runs[-1], config={"version": 1, "config": d.config("binary")},
    evaluation=runs[-1]["evaluation"], drift=d.drift("binary", 5), comparison=None, history=runs,
    drift_history=[(r["runId"], d.drift("binary", i % 6)) for i, r in enumerate(runs)], generated_at="now")
html = driftline_report.render_html(rep)
t3, c3 = time.perf_counter(), time.process_time()
print(json.dumps({"import": t1 - t0, "render": t3 - t2, "import_cpu": c1 - c0, "render_cpu": c3 - c2,
                  "bytes": len(html)}))
"""


def run(config_dir: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, text=True,  # noqa: S603
                         env={**os.environ, "MPLCONFIGDIR": config_dir})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    rows: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "render": []}
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            first = run(tmp)
            second = run(tmp)
        rows["cold"].append((first["import"], first["import_cpu"]))
        rows["warm"].append((second["import"], second["import_cpu"]))
        rows["render"].append((second["render"], second["render_cpu"]))
    names = {"cold": "import driftline_report, empty font cache", "warm": "import driftline_report, warm font cache",
             "render": "build + render a binary report (20 runs)"}
    print(f"median of {args.repeat} fresh interpreters (wall time depends on the machine's load; CPU time less)")
    for key, label in names.items():
        wall = statistics.median(w for w, _ in rows[key])
        cpu = statistics.median(c for _, c in rows[key])
        print(f"{label:<44}: wall {wall:6.3f} s, CPU {cpu:6.3f} s")


if __name__ == "__main__":
    main()
