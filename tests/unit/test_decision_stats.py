"""The evaluator's statistics (metric_evaluator.stats) against SciPy / scikit-learn / brute force, and coverage.

References are test-only: scipy.stats.binomtest (McNemar, Wilson), sklearn.metrics (every metric value), a brute
force O(n1 n0) DeLong and brute-force row-resampling bootstraps (interval widths).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from metric_evaluator import stats
from scipy.stats import binom, binomtest
from sklearn import metrics as skm


# ------------------------------------------------------------------------------------------------ one window
@pytest.mark.parametrize(("k", "n", "conf"), [(80, 100, 0.9), (3, 40, 0.95), (0, 25, 0.9), (500, 500, 0.8)])
def test_wilson_bounds_equal_scipy(k: int, n: int, conf: float) -> None:
    # a one-sided bound at ``conf`` is the two-sided interval at level 2 conf - 1
    ci = binomtest(k, n).proportion_ci(confidence_level=2 * conf - 1, method="wilson")
    lo, hi = stats.wilson_bounds(k, n, conf)
    assert lo == pytest.approx(ci.low, abs=1e-12)
    assert hi == pytest.approx(ci.high, abs=1e-12)


def _random_cm(rng: np.random.Generator, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    y = rng.integers(0, k, 700)
    p = np.where(rng.random(700) < 0.6, y, rng.integers(0, k, 700))
    return y, p, skm.confusion_matrix(y, p, labels=list(range(k)))


@pytest.mark.parametrize("k", [2, 4])
def test_confusion_metrics_equal_sklearn(k: int) -> None:
    rng = np.random.default_rng(k)
    y, p, cm = _random_cm(rng, k)
    avg = "binary" if k == 2 else "macro"
    expected = {
        "accuracy": skm.accuracy_score(y, p), "balanced_accuracy": skm.balanced_accuracy_score(y, p),
        "precision": skm.precision_score(y, p, average=avg), "recall": skm.recall_score(y, p, average=avg),
        "f1": skm.f1_score(y, p, average=avg), "mcc": skm.matthews_corrcoef(y, p),
    }
    for name, value in expected.items():
        got = stats.confusion_metric(name, np.stack([cm, cm]), binary=k == 2)
        assert got.shape == (2,)
        assert got[0] == pytest.approx(value, abs=1e-12), name


def _delong_brute(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """DeLong's covariance from its definition: placement values by all pairwise comparisons."""
    def comps(s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, z = s[y == 1], s[y == 0]
        psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
        return psi.mean(axis=1), psi.mean(axis=0)
    (va, wa), (vb, wb) = comps(a), comps(b)
    n1, n0 = va.size, wa.size
    return np.cov(np.vstack([va, vb])) / n1 + np.cov(np.vstack([wa, wb])) / n0


def test_delong_equals_the_brute_force_definition_and_sklearn_auc() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    a = np.round(y + rng.normal(0, 1.2, 300), 1)  # ties on purpose
    b = np.round(y + rng.normal(0, 0.8, 300), 1)
    aucs, cov = stats.delong(y, [a, b])
    assert aucs[0] == pytest.approx(skm.roc_auc_score(y, a))
    assert aucs[1] == pytest.approx(skm.roc_auc_score(y, b))
    np.testing.assert_allclose(cov, _delong_brute(y, a, b), rtol=1e-10)


def test_mcnemar_one_sided_equals_binomtest() -> None:
    for k, m in [(12, 20), (3, 3), (0, 9), (30, 45)]:
        exact = binomtest(k, m, 0.5, alternative="greater").pvalue
        assert stats.binom_sf_half(k, m, mid_p=False) == pytest.approx(exact, rel=1e-10)
        assert stats.binom_sf_half(k, m, mid_p=True) == pytest.approx(exact - 0.5 * binom.pmf(k, m, 0.5), rel=1e-9)


def test_holm_equals_its_definition() -> None:
    p = [0.01, 0.04, 0.03, 0.20]
    # sorted 0.01 <= .05/4 yes; 0.03 <= .05/3 no -> stop
    assert stats.holm(p, 0.05) == [True, False, False, False]
    assert stats.holm([0.001, 0.02], 0.05) == [True, True]
    assert stats.holm([math.nan, 0.001], 0.05) == [False, True]
    assert stats.holm([], 0.05) == []


# ------------------------------------------------------------------------------------------------ coverage
def _coverage(draw, trials: int) -> float:  # type: ignore[no-untyped-def]
    return sum(bool(draw(i)) for i in range(trials)) / trials


def test_one_sided_90_percent_bounds_hold_in_about_90_percent_of_draws() -> None:
    """Accuracy (Wilson), ROC AUC (DeLong), RMSE (normal): the one-sided 0.9 upper bound is above the true value
    in ~90 % of windows drawn from a known population."""
    conf = 0.9
    rng = np.random.default_rng(42)
    # accuracy of a classifier that is right with probability 0.8
    def acc(_: int) -> bool:
        y = rng.integers(0, 2, 300)
        p = np.where(rng.random(300) < 0.8, y, 1 - y)
        b = stats.window_bounds("accuracy", kind="binary", y=y, y_pred=p, scores=None, confidence=conf)
        return b is not None and b["upper"] >= 0.8
    assert 0.87 <= _coverage(acc, 1500) <= 0.93

    # ROC AUC of binormal scores with d' = 1: AUC = Phi(1 / sqrt(2))
    true_auc = 0.5 * (1 + math.erf(0.5))
    def auc(_: int) -> bool:
        y = rng.integers(0, 2, 400)
        s = y + rng.normal(size=400)
        b = stats.window_bounds("roc_auc", kind="binary", y=y, y_pred=(s > 0.5).astype(int), scores=s,
                                confidence=conf)
        return b is not None and b["upper"] >= true_auc
    assert 0.86 <= _coverage(auc, 600) <= 0.94

    # RMSE of N(0, 1) errors: 1
    def rmse(_: int) -> bool:
        y = rng.normal(size=300)
        b = stats.window_bounds("rmse", kind="regression", y=y, y_pred=y + rng.normal(size=300), scores=None,
                                confidence=conf)
        return b is not None and b["upper"] >= 1.0
    assert 0.86 <= _coverage(rmse, 1000) <= 0.94


def test_multinomial_bound_of_f1_matches_a_row_bootstrap() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 600)
    p = np.where(rng.random(600) < 0.7, y, rng.integers(0, 3, 600))
    b = stats.window_bounds("f1", kind="multiclass", y=y, y_pred=p, scores=None, confidence=0.9)
    assert b is not None
    reps = []
    for _ in range(1000):
        idx = rng.integers(0, 600, 600)
        reps.append(skm.f1_score(y[idx], p[idx], average="macro"))
    assert b["lower"] == pytest.approx(np.quantile(reps, 0.1), abs=0.01)
    assert b["upper"] == pytest.approx(np.quantile(reps, 0.9), abs=0.01)


# ------------------------------------------------------------------------------------------------ paired tests
def _row_bootstrap_sd(y: np.ndarray, a: np.ndarray, b: np.ndarray, fn, reps: int = 400) -> float:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(11)
    out = []
    for _ in range(reps):
        idx = rng.integers(0, y.size, y.size)
        out.append(fn(y[idx], b[idx]) - fn(y[idx], a[idx]))
    return float(np.std(out, ddof=1))


def test_joint_multinomial_paired_bootstrap_matches_a_row_bootstrap() -> None:
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 800)
    pa = np.where(rng.random(800) < 0.75, y, 1 - y)
    pb = np.where(rng.random(800) < 0.85, y, pa)  # correlated with the champion, as a retrained model is
    res = stats.paired_test("f1", kind="binary", y=y, champion=(pa, None), candidate=(pb, None), confidence=0.95,
                            resamples=2000)
    assert res["champion"] == pytest.approx(skm.f1_score(y, pa))
    assert res["candidate"] == pytest.approx(skm.f1_score(y, pb))
    sd = _row_bootstrap_sd(y, pa, pb, skm.f1_score)
    width = (res["upper"] - res["lower"]) / (2 * stats.z_of(0.95))
    assert width == pytest.approx(sd, rel=0.15)
    assert res["pvalue"] < 0.01


def test_accuracy_uses_mcnemar_with_its_exact_counts() -> None:
    rng = np.random.default_rng(6)
    y = rng.integers(0, 2, 500)
    pa = np.where(rng.random(500) < 0.7, y, 1 - y)
    pb = np.where(rng.random(500) < 0.3, y, pa)
    res = stats.paired_test("accuracy", kind="binary", y=y, champion=(pa, None), candidate=(pb, None),
                            confidence=0.95, mid_p=False)
    b, c = res["challengerOnly"], res["championOnly"]
    assert b == int(np.sum((pb == y) & (pa != y)))
    assert res["pvalue"] == pytest.approx(binomtest(b, b + c, 0.5, alternative="greater").pvalue)
    assert res["delta"] == pytest.approx(skm.accuracy_score(y, pb) - skm.accuracy_score(y, pa))


def test_regression_poisson_bootstrap_matches_a_row_bootstrap() -> None:
    rng = np.random.default_rng(7)
    y = rng.normal(size=600)
    a = y + rng.normal(0, 1.0, 600)
    b = y + rng.normal(0, 0.9, 600)

    def rmse(t: np.ndarray, p: np.ndarray) -> float:
        return float(np.sqrt(skm.mean_squared_error(t, p)))
    for metric, fn in (("rmse", rmse), ("mae", skm.mean_absolute_error), ("r2", skm.r2_score)):
        res = stats.paired_test(metric, kind="regression", y=y, champion=(a, None), candidate=(b, None),
                                confidence=0.95, resamples=2000)
        assert res["champion"] == pytest.approx(fn(y, a), rel=1e-9)
        assert res["candidate"] == pytest.approx(fn(y, b), rel=1e-9)
        sign = -1.0 if metric in ("rmse", "mae") else 1.0
        assert res["delta"] == pytest.approx(sign * (fn(y, b) - fn(y, a)))
        width = (res["upper"] - res["lower"]) / (2 * stats.z_of(0.95))
        assert width == pytest.approx(_row_bootstrap_sd(y, a, b, fn), rel=0.2), metric


def test_average_precision_poisson_bootstrap_matches_a_row_bootstrap() -> None:
    rng = np.random.default_rng(8)
    y = rng.integers(0, 2, 500)
    a = np.round(y + rng.normal(0, 1.2, 500), 2)
    b = np.round(y + rng.normal(0, 0.9, 500), 2)
    res = stats.paired_test("average_precision", kind="binary", y=y, champion=((a > 0.5).astype(int), a),
                            candidate=((b > 0.5).astype(int), b), confidence=0.95, resamples=1000)
    assert res["champion"] == pytest.approx(skm.average_precision_score(y, a))
    width = (res["upper"] - res["lower"]) / (2 * stats.z_of(0.95))
    assert width == pytest.approx(_row_bootstrap_sd(y, a, b, skm.average_precision_score), rel=0.2)


def test_paired_delong_for_multiclass_roc_auc() -> None:
    rng = np.random.default_rng(9)
    y = rng.integers(0, 3, 600)

    def scores(sig: float) -> np.ndarray:
        logits = rng.normal(size=(600, 3)) + sig * np.eye(3)[y]
        return np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    a, b = scores(0.5), scores(1.5)
    res = stats.paired_test("roc_auc", kind="multiclass", y=y, champion=(a.argmax(1), a),
                            candidate=(b.argmax(1), b), confidence=0.95)
    assert res["champion"] == pytest.approx(skm.roc_auc_score(y, a, multi_class="ovr"))
    assert res["candidate"] == pytest.approx(skm.roc_auc_score(y, b, multi_class="ovr"))
    assert res["pvalue"] < 1e-6
    assert res["lower"] > 0


@pytest.mark.parametrize("metric", ["rmse", "average_precision"])
def test_the_subsampled_bootstrap_keeps_the_full_samples_interval(metric: str) -> None:
    """Past ``max_rows`` the bootstrap resamples a subsample and rescales by sqrt(m / n): same centre, same width."""
    rng = np.random.default_rng(12)
    n = 6000
    if metric == "rmse":
        y = rng.normal(size=n)
        a, b = y + rng.normal(0, 1.0, n), y + rng.normal(0, 0.95, n)
        kind, champion, candidate = "regression", (a, None), (b, None)
    else:
        y = rng.integers(0, 2, n)
        a, b = np.round(y + rng.normal(0, 1.2, n), 2), np.round(y + rng.normal(0, 1.1, n), 2)
        kind, champion, candidate = "binary", ((a > 0.5).astype(int), a), ((b > 0.5).astype(int), b)
    full = stats.paired_test(metric, kind=kind, y=y, champion=champion, candidate=candidate, confidence=0.95,
                             resamples=1000, max_rows=10**9)
    sub = stats.paired_test(metric, kind=kind, y=y, champion=champion, candidate=candidate, confidence=0.95,
                            resamples=1000, max_rows=1500)
    assert sub["bootstrapRows"] == 1500
    assert full["bootstrapRows"] == n
    assert sub["delta"] == full["delta"]
    assert (sub["upper"] - sub["lower"]) == pytest.approx(full["upper"] - full["lower"], rel=0.2)
    assert (sub["upper"] + sub["lower"]) / 2 == pytest.approx((full["upper"] + full["lower"]) / 2,
                                                              abs=0.1 * (full["upper"] - full["lower"]))


def test_paired_tests_reject_equal_models_about_alpha_of_the_time() -> None:
    """Type I error: two models equally good on the population; the one-sided test at 0.05 rejects ~5 %."""
    rng = np.random.default_rng(21)
    trials, n = 400, 400
    rejected = {"accuracy": 0, "f1": 0, "roc_auc": 0, "rmse": 0}
    for _ in range(trials):
        y = rng.integers(0, 2, n)
        a = y + rng.normal(size=n)
        b = y + rng.normal(size=n)  # same law, independent noise
        pa, pb = (a > 0.5).astype(int), (b > 0.5).astype(int)
        for metric in ("accuracy", "f1", "roc_auc"):
            res = stats.paired_test(metric, kind="binary", y=y, champion=(pa, a), candidate=(pb, b),
                                    confidence=0.95, resamples=400, seed=int(rng.integers(1 << 30)))
            rejected[metric] += res["pvalue"] <= 0.05
        yr = rng.normal(size=n)
        res = stats.paired_test("rmse", kind="regression", y=yr, champion=(yr + rng.normal(size=n), None),
                                candidate=(yr + rng.normal(size=n), None), confidence=0.95, resamples=400,
                                seed=int(rng.integers(1 << 30)))
        rejected["rmse"] += res["pvalue"] <= 0.05
    for metric, count in rejected.items():
        assert 0.02 <= count / trials <= 0.085, (metric, count / trials)
