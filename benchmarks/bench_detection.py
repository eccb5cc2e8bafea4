"""Operating characteristics of the breach rules (docs/decisions.md section 1), by Monte Carlo in standard-error units.

Every rule reads a window only through its deficit against the threshold in standard errors of that window,
``z = (threshold - value) / se`` (positive on the wrong side), so its false-alarm and detection rates depend on
nothing else: not the metric, problem type or window size. This simulates ``z ~ N(mean, 1)`` per window and
prints, per rule, the probability of any breach over 16 windows of a model on the right side of its threshold,
after one disastrous window, and the probability of detecting a sustained deficit within a few windows.

    python -m benchmarks.bench_detection [--streams 20000] [--seed 1]

The rules use ``consecutiveBreaches`` 2 and 90 % bounds; the CUSUM the defaults of
``retrainPolicy.sequentialBreaches`` (reference 0.25, limit 1.5), vectorised here with the same recursion as
``retrain_launcher.policy_cusum`` (whose unit tests check the same rates on the evaluator's own bounds).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

import numpy as np

Z90 = 1.2815515655446004
Rule = Callable[[np.ndarray], np.ndarray]


def _first(hit_at: Callable[[np.ndarray, int], np.ndarray], z: np.ndarray, start: int = 0) -> np.ndarray:
    out = np.full(z.shape[0], z.shape[1])
    for t in range(start, z.shape[1]):
        hit = hit_at(z, t) & (out == z.shape[1])
        out[hit] = t
    return out


def own_bound(z: np.ndarray) -> np.ndarray:
    return _first(lambda z, t: (z[:, t] > Z90) & (z[:, t - 1] > Z90), z, 1)


def pooled(z: np.ndarray) -> np.ndarray:
    return _first(lambda z, t: (z[:, t] > 0) & (z[:, t - 1] > 0) & ((z[:, t] + z[:, t - 1]) / np.sqrt(2) > Z90),
                  z, 1)


def cusum(z: np.ndarray, reference: float = 0.25, limit: float = 1.5, min_windows: int = 2) -> np.ndarray:
    out = np.full(z.shape[0], z.shape[1])
    s = np.zeros(z.shape[0])
    length = np.zeros(z.shape[0], dtype=int)
    for t in range(z.shape[1]):
        s = np.maximum(0.0, s + np.minimum(z[:, t], reference + limit) - reference)
        length = np.where(s > 0, length + 1, 0)
        hit = (s > limit) & (length >= min_windows) & (z[:, t] > 0) & (out == z.shape[1])
        out[hit] = t
    return out


RULES: dict[str, Rule] = {
    "own bound, 2 in a row": own_bound,
    "pooled pair": pooled,
    "own bound or pooled (previous default)": lambda z: np.minimum(own_bound(z), pooled(z)),
    "CUSUM alone": cusum,
    "own bound or CUSUM (default)": lambda z: np.minimum(own_bound(z), cusum(z)),
    "CUSUM or pooled (pooledBreaches true)": lambda z: np.minimum(cusum(z), pooled(z)),
}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    n = args.streams
    rows: list[tuple[str, np.ndarray, Callable[[np.ndarray], float]]] = []
    for margin in (1.0, 0.5):
        rows.append((f"{margin} SE on the right side: P(any breach in 16 windows)", rng.normal(-margin, 1, (n, 16)),
                     lambda a: float(np.mean(a < 16))))
    glitch = rng.normal(-1.0, 1, (n, 8))
    glitch[:, 0] = 10.0
    rows.append(("one window 10 SE wrong, then 1 SE right: P(breach in the next 7)", glitch,
                 lambda a: float(np.mean(a < 8))))
    pre = 5
    for deficit, within in ((1.0, 1), (1.0, 2), (1.3, 1), (1.3, 2), (1.65, 1), (1.65, 2), (0.7, 5)):
        z = np.concatenate([rng.normal(-4, 1, (n, pre)), rng.normal(deficit, 1, (n, 12))], axis=1)
        rows.append((f"{deficit} SE wrong from window 0: P(breach by window {within})", z,
                     lambda a, w=within: float(np.mean((a >= pre) & (a - pre <= w)))))
    print("| true metric, per window | " + " | ".join(RULES) + " |")
    print("|---|" + "---|" * len(RULES))
    for label, z, measure in rows:
        print(f"| {label} | " + " | ".join(f"{measure(rule(z)):.3f}" for rule in RULES.values()) + " |")


if __name__ == "__main__":
    main()
