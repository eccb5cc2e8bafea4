"""Cold start of the ReportFunction's plotting stack, measured in fresh interpreters.

Three numbers, each the median of ``--repeat`` fresh processes:

- ``import``: ``import driftline_report`` (the pure-Python SVG renderer; a matplotlib reference imports matplotlib
  and numpy) with an EMPTY ``MPLCONFIGDIR`` — what a Lambda cold start pays, a reference's font cache included;
- ``import (warm cache)``: the same with the font cache already built (a second cold start on the same /tmp);
- ``render``: building and rendering a full binary report (20 runs of history, drift heatmaps) after the import.

Usage: ``PYTHONPATH=... python -m benchmarks.report_cold_start [--repeat 5] [--ref DIR]`` (see docs/reports.md;
``benchmarks/bench_report.py`` measures the render per problem type and the whole report step).
``--ref DIR``: a reference copy of the plotting layer (e.g. ``git archive <commit> layers/plotting | tar -x -C
/tmp/ref`` then ``--ref /tmp/ref/layers/plotting``), measured in the same run, alternating with this tree's, and
the CPU-time ratios printed.
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


def run(config_dir: str, ref: str | None = None) -> dict[str, float]:
    env = {**os.environ, "MPLCONFIGDIR": config_dir}
    if ref:
        env["PYTHONPATH"] = os.pathsep.join([ref, env.get("PYTHONPATH", "")])
    out = subprocess.run([sys.executable, "-c", CHILD], check=True, capture_output=True, text=True,  # noqa: S603
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(repeat: int, ref: str | None = None) -> dict[str, list[tuple[float, float]]]:
    rows: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "render": [], "bytes": []}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            first = run(tmp, ref)
            second = run(tmp, ref)
        rows["cold"].append((first["import"], first["import_cpu"]))
        rows["warm"].append((second["import"], second["import_cpu"]))
        rows["render"].append((second["render"], second["render_cpu"]))
        rows["bytes"].append((second["bytes"], second["bytes"]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--ref", help="a reference plotting layer directory, measured alongside")
    args = parser.parse_args()
    tree: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": [], "render": [], "bytes": []}
    ref: dict[str, list[tuple[float, float]]] = {k: [] for k in tree}
    for _ in range(args.repeat):  # alternate, so both see the same load
        for key, rows in measure(1).items():
            tree[key] += rows
        if args.ref:
            for key, rows in measure(1, args.ref).items():
                ref[key] += rows
    names = {"cold": "import driftline_report, empty font cache", "warm": "import driftline_report, warm font cache",
             "render": "build + render a binary report (20 runs)"}
    print(f"median of {args.repeat} fresh interpreters (wall time depends on the machine's load; CPU time less)")
    for key, label in names.items():
        wall = statistics.median(w for w, _ in tree[key])
        cpu = statistics.median(c for _, c in tree[key])
        line = f"{label:<44}: wall {wall:6.3f} s, CPU {cpu:6.3f} s"
        if args.ref:
            ref_cpu = statistics.median(c for _, c in ref[key])
            line += f" | reference CPU {ref_cpu:6.3f} s, ratio {cpu / ref_cpu:5.2f}"
        print(line)
    size = statistics.median(b for b, _ in tree["bytes"])
    print(f"{'page size':<44}: {size / 1024:7.1f} KiB" + (
        f" | reference {statistics.median(b for b, _ in ref['bytes']) / 1024:7.1f} KiB" if args.ref else ""))


if __name__ == "__main__":
    main()
