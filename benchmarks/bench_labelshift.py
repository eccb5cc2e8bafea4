"""Label-shift breaches and the prior-corrected threshold (docs/decisions.md sections 1 and 2), by Monte Carlo.

Part 0 runs the change-point test alone (``retrain_launcher.policy_labelshift.change_point``, alpha 0.001) three
ways side by side on the same simulated class counts: main's test before issue 10 (binomial variance, no pooling
of sparse classes), ``labelShift.dispersion: "binomial"`` (sparse classes pooled) and ``"estimate"`` (the
default: quasi-likelihood dispersion, sparse classes pooled). It prints how often a *stable* history whose daily
positive rate varies beyond binomial noise (0.15 + sd × N(0, 1) per day, 1,000 rows) is declared shifted — on
the full history of 10 and 30 windows, and on any day of a 20-window stream tested daily as ``decide`` does — a
weekday/weekend pattern of the rate, and a stable multiclass history with one class of 0.5 expected rows a
window; then the detection of a real shift of the positive rate (10 windows, then 0.15 → 0.18 … 0.35, with and
without overdispersion): the share detected by the third shifted window and within eight, and the mean delay
(1 = the first shifted window) of those detected.

Part 1 runs the decision's own rules (``retrain_launcher.policy_cusum.cusum_breaches`` and
``retrain_launcher.policy_labelshift.label_shift_breaches``, defaults: CUSUM reference 0.25 / limit 1.5,
``consecutiveBreaches`` 2, label-shift ``alpha`` 0.001) on simulated streams of 1,000-row binary windows with the
evaluator's Wilson bounds; a model's accuracy depends on the class, so a window's accuracy and its label counts
are correlated as in real data. It prints, per rule, the probability of any breach without a shift, the
detection by the third window of a harmful prior shift, and the breaches after a shift that leaves the metric
0.5 / 1 / 2 standard errors above its threshold, and the false alarms when the positive rate varies from day to day
beyond binomial noise; the label-shift rule both with ``dispersion: "binomial"`` (before issue 10) and with
the default ``"estimate"``.

Part 2 fits the recalibration threshold two ways on n rows of a shifted population (the error-counting cut
``fit_threshold`` and the prior correction ``fit_prior_threshold``) for a logistic-regression champion trained on
the old prior (scikit-learn, as the example's trainer), and prints the oracle accuracy (200,000 rows) and how
often it falls below the threshold.

    python -m benchmarks.bench_labelshift [--tests 300] [--streams 1000] [--fits 300] [--seed 7]
        [--only-tests | --no-tests] [--no-fits]
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
from retrain_launcher.policy_labelshift import change_point, label_shift_breaches
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


def binomial_label_rule(ws: list[Window]) -> bool:
    return bool(label_shift_breaches(ACC, ws, alpha=0.001, min_windows=2, dispersion="binomial")[0])


def cusum_rule(ws: list[Window]) -> bool:
    return bool(cusum_breaches(ACC, [w for _, w in ws], reference=0.25, limit=1.5, min_windows=2)[0])


def _rates(rng: np.random.Generator, streams: int, make: Callable[[], list[Window]], by: int | None
           ) -> dict[str, float]:
    hits = {"cusum": 0, "label": 0, "either": 0, "labelBinomial": 0, "eitherBinomial": 0}
    for _ in range(streams):
        ws = make()
        c, lab, bino = first_breach(cusum_rule, ws), first_breach(label_rule, ws), first_breach(binomial_label_rule, ws)
        c_hit = c is not None and (by is None or c <= by)
        l_hit = lab is not None and (by is None or lab <= by)
        b_hit = bino is not None and (by is None or bino <= by)
        hits["cusum"] += c_hit
        hits["label"] += l_hit
        hits["either"] += c_hit or l_hit
        hits["labelBinomial"] += b_hit
        hits["eitherBinomial"] += c_hit or b_hit
    return {k: v / streams for k, v in hits.items()}


#: the three tests of part 0: (column, dispersion, sparse-class floor); floor 0 pools nothing (main's test)
TESTS = (("before (binomial, no pooling)", "binomial", 0.0), ('"binomial" (pooled)', "binomial", 5.0),
         ('"estimate" (default)', "estimate", 5.0))


def _shifted(counts: list[list[int]], dispersion: str, floor: float) -> bool:
    cp = change_point(counts, dispersion=dispersion, floor=floor)
    return cp is not None and cp["adjustedPvalue"] < 0.001


def _binary(rng: np.random.Generator, rates: np.ndarray, n: int = 1000) -> list[list[int]]:
    pos = rng.binomial(n, np.clip(rates, 0.001, 0.999))
    return np.column_stack([n - pos, pos]).tolist()


def part0(runs: int, seed: int) -> list[tuple[str, list[str]]]:
    """Part 0's rows: per row, one cell per test in :data:`TESTS` (the same draws for each)."""
    rows: list[tuple[str, list[str]]] = []
    for sd in (0.0, 0.01, 0.02, 0.04):
        for length in (10, 30):
            rng = np.random.default_rng([seed, int(sd * 1000), length])
            draws = [_binary(rng, 0.15 + sd * rng.standard_normal(length)) for _ in range(runs)]
            rows.append((f"stable, rate 0.15, day-to-day sd {sd}: P(shift) on the {length}-window history", [
                f"{np.mean([_shifted(c, d, f) for c in draws]):.3f}" for _, d, f in TESTS]))
        rng = np.random.default_rng([seed, int(sd * 1000), 20])
        draws = [_binary(rng, 0.15 + sd * rng.standard_normal(20)) for _ in range(runs)]
        rows.append((f"stable, rate 0.15, day-to-day sd {sd}: P(shift on any day of 20)", [
            f"{np.mean([any(_shifted(c[:t], d, f) for t in range(2, 21)) for c in draws]):.3f}"
            for _, d, f in TESTS]))
    weekly = np.where(np.arange(30) % 7 >= 5, 0.20, 0.15)
    for length in (10, 30):
        rng = np.random.default_rng([seed, 7, length])
        draws = [_binary(rng, weekly[:length]) for _ in range(runs)]
        rows.append((f"weekly pattern, rate 0.15 on weekdays, 0.20 on weekends: P(shift) on the {length}-window "
                     "history", [f"{np.mean([_shifted(c, d, f) for c in draws]):.3f}" for _, d, f in TESTS]))
    rng = np.random.default_rng([seed, 4])
    sparse = [rng.multinomial(1000, [0.6, 0.3, 0.0995, 0.0005], size=20).tolist() for _ in range(runs)]
    rows.append(("stable multiclass, 4 classes, one of 0.5 rows a window: P(shift on any day of 20)", [
        f"{np.mean([any(_shifted(c[:t], d, f) for t in range(2, 21)) for c in sparse]):.3f}" for _, d, f in TESTS]))
    for sd in (0.0, 0.02):
        for after in (0.18, 0.2, 0.25, 0.35):
            rng = np.random.default_rng([seed, int(sd * 1000), int(after * 100)])
            draws = [_binary(rng, np.r_[np.full(10, 0.15), np.full(8, after)] + sd * rng.standard_normal(18))
                     for _ in range(runs)]
            cells = []
            for _, d, f in TESTS:
                delays = []
                for c in draws:
                    delay = next((k for k in range(1, 9) if _shifted(c[: 10 + k], d, f)), None)
                    delays.append(delay)
                found = [x for x in delays if x is not None]
                by3 = np.mean([x is not None and x <= 3 for x in delays])
                mean = f"{np.mean(found):.2f}" if found else "-"
                cells.append(f"{by3:.3f} / {len(found) / runs:.3f} / {mean}")
            rows.append((f"shift 0.15 → {after} after 10 windows, sd {sd}: P(by the 3rd) / P(within 8) / mean delay",
                         cells))
    return rows


def detection(streams: int, seed: int) -> list[tuple[str, dict[str, float]]]:
    rng = np.random.default_rng(seed)
    n = 1000
    se = float(np.sqrt(0.83 * 0.17 / n))
    rows: list[tuple[str, dict[str, float]]] = []
    # no shift, true accuracy 0.3 * 0.70 + 0.7 * 0.903 = 0.842 (1 SE above 0.83)
    rows.append(("no shift, accuracy 1 SE above the threshold: P(any breach in 16 windows)", _rates(
        rng, streams, lambda: [window(rng, n, 0.3, 0.70, 0.903) for _ in range(16)], None)))
    # prior 0.15 -> 0.35 from window 5: accuracy 0.90 -> 0.814 (1.3 SE below 0.83)
    for sd in (0.02, 0.04):  # the same, the positive rate varying from day to day beyond binomial noise
        rows.append((f"no shift, the rate 0.3 varying by sd {sd} a day, accuracy about 1 SE above: P(any in 16)",
                     _rates(rng, streams, lambda sd=sd: [window(rng, n, float(np.clip(0.3 + sd * rng.standard_normal(),
                                                                                    0.01, 0.99)), 0.70, 0.903)
                                                         for _ in range(16)], None)))
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
    ap.add_argument("--tests", type=int, default=300, help="histories per row of part 0")
    ap.add_argument("--only-tests", action="store_true", help="part 0 only")
    ap.add_argument("--no-fits", action="store_true", help="skip part 2")
    ap.add_argument("--no-tests", action="store_true", help="skip part 0")
    args = ap.parse_args(argv)
    if not args.no_tests:
        print("| change-point test, 1,000-row windows, alpha 0.001 | " + " | ".join(t for t, _, _ in TESTS) + " |")
        print("|---|---|---|---|")
        for name, cells in part0(args.tests, args.seed):
            print(f"| {name} | " + " | ".join(cells) + " |")
        print()
    if args.only_tests:
        return
    print("| stream (1,000-row windows, threshold 0.83) | CUSUM alone | label-shift rule alone: binomial (before) |"
          " estimate (default) | either: binomial (before) | either (default) |")
    print("|---|---|---|---|---|---|")
    for name, r in detection(args.streams, args.seed):
        print(f"| {name} | {r['cusum']:.3f} | {r['labelBinomial']:.3f} | {r['label']:.3f} | {r['eitherBinomial']:.3f} |"
              f" {r['either']:.3f} |")
    print()
    if args.no_fits:
        return
    print("| prior shift | rows fitted on | best possible | champion | cut: oracle accuracy | cut: P(below) |"
          " prior correction: oracle accuracy | prior correction: P(below) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in fits(args.fits, args.seed):
        print(f"| {r['shift']} (threshold {r['threshold']}) | {r['rows']} | {r['best']:.4f} | {r['champion']:.4f} | "
              f"{r['cut']:.4f} | {r['cutBelow']:.3f} | {r['prior']:.4f} | {r['priorBelow']:.3f} |")


if __name__ == "__main__":
    main()
