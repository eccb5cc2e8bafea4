"""Which counting path pays for scores with few distinct values: the sorted label keys, one equality
comparison per value, or the level table — side by side on the same scores, CPU time over one ``np.sort``.

    OPENBLAS_CORETYPE= OPENBLAS_L2_SIZE= .venv/bin/python benchmarks/bench_levels.py [--rows 1e6] [--levels 2,9,15]

The paths are forced by setting ``EQ_MAX_LEVELS`` / ``TABLE_MIN_LEVELS`` for the call (every result is checked
against the default path's). Scores: the benchmark's normal-logit scores rounded to ``k`` levels ``j / (k - 1)``
(``bench_classification``'s 10-levels for ``k = 10``). Which path wins depends on numpy's sort on the CPU
(docs/metrics-speed.md); the default thresholds are the module's.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT / "benchmarks", ROOT / "layers" / "metrics"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from bench_classification import scores  # noqa: E402
from driftline_metrics import _rank_fast, _rank_kernels, _rank_memo  # noqa: E402

PATHS = {"keys": (0, 1 << 30), "equality": (1 << 30, 1 << 30), "table": (0, 0)}


def _cpu(f: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.process_time()
        f()
        best = min(best, time.process_time() - t)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=float, default=1e6)
    ap.add_argument("--levels", default="2,5,9,10,12,15,20")
    ap.add_argument("--repeats", type=int, default=9)
    args = ap.parse_args(argv)
    n = int(args.rows)
    y, s = scores("normal-logit", n)
    _rank_memo.set_enabled(False)  # every call counts afresh (the memo would answer each repeat)
    defaults = (_rank_kernels.EQ_MAX_LEVELS, _rank_kernels.TABLE_MIN_LEVELS)
    print(f"{platform.processor() or platform.machine()}, numpy {np.__version__}, {n:,} rows; CPU time / np.sort")
    print("| levels | np.sort ms | " + " | ".join(f"{p} AUC / AP" for p in PATHS) + " |")
    print("|---|---:|" + "---:|" * len(PATHS))
    for k in (int(v) for v in args.levels.split(",")):
        sk = np.round(s * (k - 1)) / (k - 1)
        sort = _cpu(lambda sk=sk: np.sort(sk), args.repeats)
        want = (_rank_fast._fast_binary_auc(y, sk), _rank_fast._fast_binary_ap(y, sk))
        cells = []
        for eq_max, table_min in PATHS.values():
            _rank_kernels.EQ_MAX_LEVELS = eq_max
            _rank_kernels.TABLE_MIN_LEVELS = _rank_fast.TABLE_MIN_LEVELS = max(table_min, eq_max + 1)
            try:
                got = (_rank_fast._fast_binary_auc(y, sk), _rank_fast._fast_binary_ap(y, sk))
                assert np.allclose(got, want, rtol=1e-12), (k, got, want)
                auc = _cpu(lambda sk=sk: _rank_fast._fast_binary_auc(y, sk), args.repeats)
                apv = _cpu(lambda sk=sk: _rank_fast._fast_binary_ap(y, sk), args.repeats)
            finally:
                _rank_kernels.EQ_MAX_LEVELS, _rank_kernels.TABLE_MIN_LEVELS = defaults
                _rank_fast.TABLE_MIN_LEVELS = defaults[1]
            cells.append(f"{auc / sort:.2f} / {apv / sort:.2f}")
        print(f"| {k} | {sort * 1e3:.2f} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
