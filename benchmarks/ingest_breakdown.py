"""Where the columnar reader's CPU time goes: one window of ``bench_ingest.py``, stage by stage.

Wraps the reader's stage functions with CPU timers (``time.process_time``; nested stages are counted inside
their callers too, e.g. ``scan_fields`` inside ``read_capture``) and prints each as a ratio to the stdlib
``json.loads`` of the same lines, timed in this process before and after (their mean)::

    OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= nice -n 5 .venv/bin/python benchmarks/ingest_breakdown.py binary-json 1e6
"""

from __future__ import annotations

import collections
import sys
import time
from datetime import UTC, datetime
from typing import Any

import bench_ingest as bench


def main(argv: list[str]) -> int:
    shape, rows = argv[0], int(float(argv[1]))
    what = argv[2] if len(argv) > 2 else "evaluate"
    from driftline_common import columnar as col
    from driftline_common import datasets as ds
    from driftline_common import json_payloads as jp
    from driftline_common import linescan
    from driftline_common.config import parse_config
    from metric_evaluator.evaluate import evaluate_window

    folder = bench.generate(shape, rows)
    cfg = parse_config(bench._config(shape))
    bench._serve(folder)
    start, end = datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)
    spent: collections.Counter[str] = collections.Counter()

    def wrap(mod: Any, name: str) -> None:
        f = getattr(mod, name)

        def timed(*a: Any, **k: Any) -> Any:
            c0 = time.process_time()
            try:
                return f(*a, **k)
            finally:
                spent[name] += time.process_time() - c0

        setattr(mod, name, timed)

    for mod, name in [(ds, "join"), (ds, "read_capture"), (ds, "read_ground_truth"), (linescan, "scan_fields"),
                      (linescan, "_decode"), (jp, "typed_inputs"), (jp, "typed_outputs"), (jp, "match_payloads"),
                      (jp, "_numbers"), (jp, "_labels"), (col, "group_ids"),
                      (col, "lookup"), (col, "gather"), (col, "string_column"), (col, "parse_floats"),
                      (col, "csv_cells"), (col, "line_bounds")]:
        wrap(mod, name)
    kinds = ("capture",) if what == "drift" else ("capture", "gt")
    ref0 = bench._stdlib_cpu(folder, kinds)
    c0 = time.process_time()
    if what == "drift":
        ds.read_capture(cfg, start, end)
    else:
        window = ds.read_labelled_window(cfg, start, end)
        c1 = time.process_time()
        evaluate_window(cfg, window)
        spent["evaluate_window"] += time.process_time() - c1
    total = time.process_time() - c0
    ref = (ref0 + bench._stdlib_cpu(folder, kinds)) / 2
    print(f"{shape} {rows:,} rows, {what}: stdlib {ref:.2f} CPU-s, reader {total:.2f} CPU-s ({total / ref:.2f}x)")
    for name, secs in spent.most_common():
        print(f"  {name:18s} {secs:7.2f} s  {secs / ref:5.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
