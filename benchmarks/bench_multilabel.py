"""Does multilabel support slow the binary path? And the layer's import time (issue 16).

    .venv/bin/python benchmarks/bench_multilabel.py [--rows 1000000] [--repeat 7]

1. Binary metrics at ``--rows`` rows (0/1 labels unweighted — the fast path —, weighted, and string labels —
   the general path, which now asks ``_multilabel.check_multilabel_pair`` whether the pair is an indicator
   matrix): CPU time (``time.process_time``, median of ``--repeat``) of the layer as it is, side by side in
   the same process with the same call where that check is replaced by ``lambda *a: None`` (the binary path
   without multilabel support). Ratio = with / without; a ratio near 1.00 means the check costs nothing
   measurable. The results are checked equal first.
2. ``import driftline_metrics`` and ``driftline_metrics.drift`` in a fresh interpreter: CPU time of the child
   (``getrusage``) importing numpy and the layer, minus one importing numpy alone (medians of ``--repeat``,
   alternated); the target is < 150 ms.

The load average is printed with the figures: on a shared machine the times are upper bounds, the ratios are
what to compare.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "layers" / "metrics"))

import driftline_metrics as dm  # noqa: E402
from driftline_metrics import _confusion, _prf  # noqa: E402


def _cpu(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return statistics.median(times)


def _without_multilabel(fn: Callable[[], Any]) -> Callable[[], Any]:
    def call() -> Any:
        saved = (_prf.check_multilabel_pair, _confusion.check_multilabel_pair)
        _prf.check_multilabel_pair = _confusion.check_multilabel_pair = lambda *a: None  # type: ignore[assignment]
        try:
            return fn()
        finally:
            _prf.check_multilabel_pair, _confusion.check_multilabel_pair = saved

    return call


def binary_rows(n: int, repeat: int) -> list[tuple[str, float, float]]:
    rng = np.random.default_rng(16)
    yt = rng.integers(0, 2, n)
    yp = np.where(rng.random(n) < 0.8, yt, 1 - yt)
    w = rng.random(n)
    st, sp = np.array(["neg", "pos"])[yt], np.array(["neg", "pos"])[yp]
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("f1_score 0/1 unweighted (fast path)", lambda: dm.f1_score(yt, yp)),
        ("f1_score 0/1 weighted", lambda: dm.f1_score(yt, yp, sample_weight=w)),
        ("f1_score string labels", lambda: dm.f1_score(st, sp, pos_label="pos")),
        ("accuracy_score weighted", lambda: dm.accuracy_score(yt, yp, sample_weight=w)),
        ("precision_score list input", lambda: dm.precision_score(yt[:100_000].tolist(), yp[:100_000].tolist())),
    ]
    out = []
    for name, fn in cases:
        assert fn() == _without_multilabel(fn)(), name
        with_ml, without = [], []
        for _ in range(repeat):  # alternate, so that load changes hit both sides alike
            with_ml.append(_cpu(fn, 1))
            without.append(_cpu(_without_multilabel(fn), 1))
        out.append((name, statistics.median(with_ml), statistics.median(without)))
    return out


def _child_cpu(code: str, env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=True)  # noqa: S603 - fixed code
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def import_ms(repeat: int) -> tuple[float, float]:
    """CPU ms of a fresh interpreter importing numpy and the layer, and of one importing numpy only
    (medians, alternated); the layer's own import is the difference."""
    env = dict(os.environ, PYTHONPATH=str(ROOT / "layers" / "metrics"))
    layer = "import numpy, driftline_metrics, driftline_metrics.drift"
    _child_cpu(layer, env)  # warm the bytecode cache
    with_layer, numpy_only = [], []
    for _ in range(repeat):
        with_layer.append(_child_cpu(layer, env))
        numpy_only.append(_child_cpu("import numpy", env))
    return statistics.median(with_layer) * 1000, statistics.median(numpy_only) * 1000


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; {args.rows:,} rows; CPU-s medians")
    print(f"{'case':42s} {'with':>9s} {'without':>9s} {'ratio':>6s}")
    worst = 0.0
    for name, a, b in binary_rows(args.rows, args.repeat):
        ratio = a / b if b else float("nan")
        worst = max(worst, ratio)
        print(f"{name:42s} {a:9.4f} {b:9.4f} {ratio:6.2f}")
    print(f"worst ratio with / without multilabel support: {worst:.2f}")
    total, numpy_only = import_ms(args.repeat)
    print(
        f"import driftline_metrics + .drift: {total - numpy_only:.0f} ms CPU over numpy's own import "
        f"({total:.0f} ms with numpy, {numpy_only:.0f} ms numpy alone; target < 150 ms)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
