"""Label-shift breaches and the prior-corrected threshold (docs/decisions.md sections 1 and 2), by Monte Carlo.

Part 1 runs the decision's own rules (``retrain_launcher.policy_cusum.cusum_breaches`` and
``retrain_launcher.policy_labelshift.label_shift_breaches``, defaults: CUSUM reference 0.25 / limit 1.5,
``consecutiveBreaches`` 2, label-shift ``alpha`` 0.001) on simulated streams of 1,000-row binary windows with the
evaluator's Wilson bounds; a model's accuracy depends on the class, so a window's accuracy and its label counts
are correlated as in real data. It prints, per rule, the probability of any breach without a shift, the
detection by the third window of a harmful prior shift, and the breaches after a shift that leaves the metric
0.5 / 1 / 2 standard errors above its threshold.

Part 2 fits the recalibration threshold two ways on n rows of a shifted population (the error-counting cut
``fit_threshold`` and the prior correction ``fit_prior_threshold``) for a logistic-regression champion trained on
the old prior (scikit-learn, as the example's trainer), and prints the oracle accuracy (200,000 rows) and how
often it falls below the threshold.

    python -m benchmarks.benchlabel_ruleshift [--streams 1000] [--fits 300] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from driftline_common.config import parse_config
from metric_evaluator import stats
from retrain_launcher.policy_cusum import cusum_breaches
from retrain_launcher.policy_labelshift import label_shift_breaches
from retrain_launcher.recalibration import fit_prior_threshold, fit_threshold

ACC = [{"metric": "accuracy", "min": 0.83}]
Window = tuple[list[int], dict[str, dict[str, float]]]


def window(rng: np.random.Generator, n: int, prior: float, acc_pos: float, acc_neg: float) -> Window:
    pos = int(rng.binomial(n, prior))
    right = int(rng.binomial(pos, acc_pos)) + int(rng.binomial(n - pos, acc_neg))
    lo, hi = stats.wilson_bounds(right, n, 0.9)
    return [n - pos, pos], {"accuracy": {"value": right / n, "lower": lo, "upper": hi, "confidence": 0.9}}


def first_breach(rule: Callable[[list[Window]], bool], ws: list[Window]) -> int | None:
    for t in range(len(ws)):
        if rule(ws[: t + 1]):
            return t
    return None


def label_rule(ws: list[Window]) -> bool:
    return bool(label_shift_breaches(ACC, ws, alpha=0.001, min_windows=2)[0])


def cusum_rule(ws: list[Window]) -> bool:
    return bool(cusum_breaches(ACC, [w for _, w in ws], reference=0.25, limit=1.5, min_windows=2)[0])


def _rates(rng: np.random.Generator, streams: int, make: Callable[[], list[Window]], by: int | None
           ) -> dict[str, float]:
    hits = {"cusum": 0, "label": 0, "either": 0}
    for _ in range(streams):
        ws = make()
        c, lab = first_breach(cusum_rule, ws), first_breach(label_rule, ws)
        c_hit = c is not None and (by is None or c <= by)
        l_hit = lab is not None and (by is None or lab <= by)
        hits["cusum"] += c_hit
        hits["label"] += l_hit
        hits["either"] += c_hit or l_hit
    return {k: v / streams for k, v in hits.items()}


def detection(streams: int, seed: int) -> list[tuple[str, dict[str, float]]]:
    rng = np.random.default_rng(seed)
    n = 1000
    se = float(np.sqrt(0.83 * 0.17 / n))
    rows: list[tuple[str, dict[str, float]]] = []
    # no shift, true accuracy 0.3 * 0.70 + 0.7 * 0.903 = 0.842 (1 SE above 0.83)
    rows.append(("no shift, accuracy 1 SE above the threshold: P(any breach in 16 windows)", _rates(
        rng, streams, lambda: [window(rng, n, 0.3, 0.70, 0.903) for _ in range(16)], None)))
    # prior 0.15 -> 0.35 from window 5: accuracy 0.90 -> 0.814 (1.3 SE below 0.83)
    rows.append(("prior 0.15 -> 0.35, accuracy 0.90 -> 0.814: P(breach by the 3rd shifted window)", _rates(
        rng, streams, lambda: [window(rng, n, 0.15, 0.55, 0.962) for _ in range(5)]
        + [window(rng, n, 0.35, 0.55, 0.956) for _ in range(4)], 7)))
    rows.append(("prior 0.15 -> 0.35 that does not hurt (accuracy 0.86 after): P(any breach in 12 windows)", _rates(
        rng, streams, lambda: [window(rng, n, 0.15, 0.86, 0.86) for _ in range(12)], None)))
    for above in (0.5, 1.0, 2.0):
        target = 0.83 + above * se
        acc_neg = (target - 0.35 * 0.6) / 0.65  # after the shift: 0.35 * 0.6 + 0.65 * acc_neg = target
        rows.append((f"prior 0.15 -> 0.35, accuracy {above} SE above the threshold after it: P(any in 16)", _rates(
            rng, streams, lambda acc_neg=acc_neg: [window(rng, n, 0.15, 0.6, 0.95) for _ in range(4)]
            + [window(rng, n, 0.35, 0.6, acc_neg) for _ in range(12)], None)))
    return rows


def fits(n_fits: int, seed: int) -> list[dict[str, Any]]:
    from sklearn.linear_model import LogisticRegression

    base = json.loads((Path(__file__).resolve().parent.parent / "tests/fixtures/model_config_binary.json").read_text())
    mu1 = np.asarray([1.3, 1.0, 0.8, 0.6, 0.0, 0.0])
    rng = np.random.default_rng(seed)

    def sample(n: int, prior: float) -> tuple[np.ndarray, np.ndarray]:
        y = (rng.random(n) < prior).astype(int)
        return rng.standard_normal((n, 6)) + y[:, None] * mu1, y

    out = []
    for prior, after, thr in ((0.2, 0.45, 0.82), (0.15, 0.35, 0.83), (0.2, 0.4, 0.825)):
        cfg = parse_config({**base, "thresholds": [{"metric": "accuracy", "min": thr}]})
        model = LogisticRegression().fit(*sample(4000, prior))
        xo, yo = sample(200_000, after)
        so = model.predict_proba(xo)[:, 1]
        best = max(float(np.mean((so > t) == yo)) for t in np.linspace(0.02, 0.7, 137))
        for n in (500, 1000, 2000):
            cut, cor = [], []
            for _ in range(n_fits):
                x, y = sample(n, after)
                s = model.predict_proba(x)[:, 1]
                a, b = fit_threshold(cfg, y, s, ["accuracy"]), fit_prior_threshold(cfg, y, s, ["accuracy"], 0.5)
                if a is None or b is None:
                    continue
                cut.append(float(np.mean((so > a["threshold"]) == yo)))
                cor.append(float(np.mean((so > b["threshold"]) == yo)))
            out.append({"shift": f"{prior} -> {after}", "threshold": thr, "rows": n, "best": best,
                        "champion": float(np.mean((so > 0.5) == yo)),
                        "cut": float(np.mean(cut)), "cutBelow": float(np.mean(np.asarray(cut) < thr)),
                        "prior": float(np.mean(cor)), "priorBelow": float(np.mean(np.asarray(cor) < thr))})
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--fits", type=int, default=300)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)
    print("| stream (1,000-row windows, threshold 0.83) | CUSUM alone | label-shift rule alone | either (default) |")
    print("|---|---|---|---|")
    for name, r in detection(args.streams, args.seed):
        print(f"| {name} | {r['cusum']:.3f} | {r['label']:.3f} | {r['either']:.3f} |")
    print()
    print("| prior shift | rows fitted on | best possible | champion | cut: oracle accuracy | cut: P(below) |"
          " prior correction: oracle accuracy | prior correction: P(below) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in fits(args.fits, args.seed):
        print(f"| {r['shift']} (threshold {r['threshold']}) | {r['rows']} | {r['best']:.4f} | {r['champion']:.4f} | "
              f"{r['cut']:.4f} | {r['cutBelow']:.3f} | {r['prior']:.4f} | {r['priorBelow']:.3f} |")


if __name__ == "__main__":
    main()
