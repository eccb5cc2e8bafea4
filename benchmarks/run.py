"""Run every benchmark in one process and print one markdown table.

    OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= .venv/bin/python benchmarks/run.py [bench_classification ...]

With module names, only those run (the results file then holds only their rows). Each
``bench_*`` module exposes ``run() -> list[dict]`` with the keys ``case``,
``driftline``, ``reference``, ``ratio``, ``target``, ``met`` (and optionally
``unit`` and ``note``; ``ours_s`` / ``reference_s`` / ``speedup`` with a numeric
speed-up ``target`` are accepted too). A module not written yet is skipped with a message. The
table is printed and written, with the machine's details, to
``build/bench/results.json``.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import math
import os
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
MODULES = ("bench_classification", "bench_drift", "bench_layer", "bench_pipeline")
OUT = ROOT / "build" / "bench" / "results.json"
COMMAND = "OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= .venv/bin/python benchmarks/run.py"

# The benchmarks import the layer exactly as Lambda sees it (/opt/python == layers/metrics).
for _p in (ROOT / "benchmarks", ROOT / "layers" / "metrics"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        text = f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        return f"{text} {unit}".strip()
    return f"{value} {unit}".strip()


def normalise(row: dict[str, Any]) -> dict[str, Any]:
    """Accept the ``ours_s`` / ``reference_s`` / ``speedup`` spelling too (times in seconds, target a speed-up)."""
    r = dict(row)
    if "driftline" not in r and "ours_s" in r:
        r["driftline"], r["unit"] = r["ours_s"], r.get("unit", "s")
    if "reference" not in r and "reference_s" in r:
        r["reference"] = r["reference_s"]
    if "ratio" not in r and "speedup" in r:
        r["ratio"] = r["speedup"]
    if isinstance(r.get("target"), int | float) and not isinstance(r.get("target"), bool):
        if "met" not in r and isinstance(r.get("ratio"), int | float):
            r["met"] = r["ratio"] >= r["target"]
        r["target"] = f"≥ {r['target']:g}×"
    return r


def table(rows: list[dict[str, Any]]) -> str:
    head = "| case | driftline | reference | ratio | target | met |\n|---|---:|---:|---:|---|:-:|"
    lines = [head]
    for r in rows:
        unit = r.get("unit", "")
        ratio = r.get("ratio")
        case = r["case"] + (f" ({r['note']})" if r.get("note") else "")
        lines.append(
            f"| {case} | {_fmt(r.get('driftline'), unit)} | {_fmt(r.get('reference'), unit)} | "
            f"{'—' if ratio is None else f'{ratio:.3g}×'} | {r.get('target', '')} | {_fmt(r.get('met'))} |"
        )
    return "\n".join(lines)


def _load() -> str:
    """The machine's load average (1, 5, 15 min): figures from a shared machine are upper bounds."""
    try:
        return " / ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover - platforms without getloadavg
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    """Run every module of ``MODULES``, or only those named on the command line (``bench_classification``)."""
    only = sys.argv[1:] if argv is None else argv
    unknown = [m for m in only if m not in MODULES]
    if unknown:
        print(f"unknown benchmark module(s) {unknown}; choose from {list(MODULES)}", file=sys.stderr)
        return 2
    rows: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    load_start = _load()
    for name in only or MODULES:
        if importlib.util.find_spec(name) is None:
            print(f"skipping {name}: benchmarks/{name}.py does not exist yet", file=sys.stderr)
            continue
        start = time.perf_counter()
        try:
            module = importlib.import_module(name)
            got = module.run()
        except Exception:  # noqa: BLE001 - one failing benchmark must not hide the others
            errors[name] = traceback.format_exc()
            print(f"{name} failed:\n{errors[name]}", file=sys.stderr)
            continue
        for r in got:
            r.setdefault("module", name)
        rows.extend(normalise(r) for r in got)
        print(f"{name}: {len(got)} rows in {time.perf_counter() - start:.1f} s", file=sys.stderr)

    print(table(rows))
    load_end = _load()
    print(f"\nload average (1 / 5 / 15 min) at start {load_start}, at end {load_end}; {os.cpu_count()} CPUs")
    import numpy as np

    OUT.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "command": COMMAND,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "machine": platform.machine(),
        "platform": platform.platform(),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "cpus": os.cpu_count(),
        "rows": rows,
        "errors": errors,
    }
    OUT.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\nwritten to {OUT.relative_to(ROOT)}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
