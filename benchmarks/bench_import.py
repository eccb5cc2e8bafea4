"""Cold-start import time of every function's handler, this tree side by side with a reference commit.

    .venv/bin/python benchmarks/bench_import.py [--ref main] [--runs 9]

Each handler module is imported in a fresh interpreter (``python -X importtime -c "import <handler>"``), with
the ``PYTHONPATH`` Lambda would give it (the two layers and the function's own directory). The reference is the
same layout extracted from ``git archive <ref>``; both trees are imported alternately (one warm-up each, so both
have their bytecode cached), and the median of the handler's cumulative import time (wall) and of the interpreter's
CPU time is compared. On a loaded machine both vary by ±10 % between identical trees, so a third row measures the
growth within one interpreter: the self time of the modules this tree imports and the reference does not, over
the rest of the handler's import. The target: the handler's import time grows by at most 10 % (Lambda's cold
start imports exactly this).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
HANDLERS = {
    "metric_evaluator": "metric_evaluator.handler",
    "drift_checker": "drift_checker.handler",
    "retrain_launcher": "retrain_launcher.handler",
    "deployer": "deployer.handler",
    "trigger_router": "trigger_router.handler",
    "api": "api.handler",
}
TARGET = 1.10
_LINE = re.compile(r"^import time:\s+(\d+)\s+\|\s+(\d+)\s+\|\s*(.+)$")


def importtime(tree: Path, function: str, module: str) -> tuple[dict[str, int], int, int]:
    """``-X importtime`` of ``module`` in a fresh interpreter with Lambda's ``PYTHONPATH``: every module's self
    time (µs), the module's cumulative time (wall, µs) and the interpreter's CPU time (user + system, µs)."""
    path = os.pathsep.join(str(tree / p) for p in ("layers/metrics", "layers/common", f"functions/{function}"))
    env = {**os.environ, "PYTHONPATH": path, "AWS_DEFAULT_REGION": "us-east-1"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],  # noqa: S603 (ours)
                          env=env, cwd=tree, capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    selfs: dict[str, int] = {}
    total = None
    for line in done.stderr.splitlines():
        match = _LINE.match(line)
        if match:
            selfs[match.group(3).strip()] = int(match.group(1))
            if match.group(3).strip() == module:
                total = int(match.group(2))
    if total is None:
        raise RuntimeError(f"no import time line for {module}: {done.stderr[-500:]}")
    return selfs, total, int(cpu * 1e6)


def import_us(tree: Path, function: str, module: str) -> tuple[int, int]:
    """The handler's cumulative import time (wall, µs) and the interpreter's CPU time (µs)."""
    _, total, cpu = importtime(tree, function, module)
    return total, cpu


def added_share(reference: Path, function: str, module: str, runs: int) -> float:
    """How much the modules this tree imports and the reference does not add to the handler's import, relative to
    the rest, measured within the same interpreter (so load on the machine scales both alike); median of runs."""
    before = set(importtime(reference, function, module)[0])
    shares = []
    for _ in range(runs):
        selfs, total, _ = importtime(ROOT, function, module)
        added = sum(t for name, t in selfs.items() if name not in before)
        shares.append(added / (total - added))
    return statistics.median(shares)


def extract(ref: str, into: Path) -> Path:
    """The ``layers`` and ``functions`` directories of ``ref`` under ``into``."""
    git = shutil.which("git") or "git"
    archive = subprocess.run([git, "archive", "--format=tar", ref, "layers", "functions"],  # noqa: S603 (a ref)
                             cwd=ROOT, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(into, filter="data")
    return into


def run(ref: str = "main", runs: int = 9) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        reference = extract(ref, Path(tmp))
        for function, module in HANDLERS.items():
            ours: list[tuple[int, int]] = []
            theirs: list[tuple[int, int]] = []
            import_us(ROOT, function, module), import_us(reference, function, module)  # bytecode caches
            for _ in range(runs):
                ours.append(import_us(ROOT, function, module))
                theirs.append(import_us(reference, function, module))
            share = added_share(reference, function, module, runs)
            rows.append({"case": f"import {module} (modules added, same process)", "driftline": None,
                         "reference": None, "ratio": 1 + share, "target": f"<= {TARGET:.2f}",
                         "met": 1 + share <= TARGET, "unit": "ms"})
            for i, what in ((0, "wall"), (1, "cpu")):
                mine = statistics.median(t[i] for t in ours)
                base = statistics.median(t[i] for t in theirs)
                rows.append({"case": f"import {module} ({what})", "driftline": mine / 1000, "reference": base / 1000,
                             "ratio": mine / base, "target": f"<= {TARGET:.2f}", "met": mine / base <= TARGET,
                             "unit": "ms"})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ref", default="main", help="the reference commit (default: main)")
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    rows = run(args.ref, args.runs)
    print(f"| handler | this tree (ms) | {args.ref} (ms) | ratio | target | met |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        ours = "—" if r["driftline"] is None else f"{r['driftline']:.1f}"
        theirs = "—" if r["reference"] is None else f"{r['reference']:.1f}"
        print(f"| {r['case']} | {ours} | {theirs} | {r['ratio']:.3f} | {r['target']} | {'yes' if r['met'] else 'NO'} |")


if __name__ == "__main__":
    main()
