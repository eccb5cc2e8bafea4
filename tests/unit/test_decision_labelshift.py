"""Label-shift breaches (``retrainPolicy.labelShift``): a change point in the windows' class counts, tested by a
chi-square homogeneity test (the metrics layer's numpy ``chi2_contingency``; SciPy is the oracle here), lowers the
evidence a harmful change needs — never creates it. Monte Carlo checks the test's level and the rule's false-alarm
and detection rates on the evaluator's own (Wilson) bounds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from driftline_common.config import RetrainPolicy, parse_config
from driftline_common.errors import InvalidModelConfig
from metric_evaluator import stats
from retrain_launcher import policy as p
from retrain_launcher.policy_labelshift import (
    betainc,
    change_point,
    class_counts,
    f_sf,
    homogeneity,
    label_shift_breaches,
    pooling,
    split_test,
)
from retrain_launcher.recalibration import fit_prior_threshold, fit_threshold
from scipy import special
from scipy.stats import chi2, chi2_contingency, f

from benchmarks.bench_labelshift import cusum_rule, first_breach, label_rule, window
from tests.conftest import ROOT

END = datetime(2024, 5, 10, tzinfo=UTC)
ACC = [{"metric": "accuracy", "min": 0.83}]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def acc(correct: int, n: int) -> dict[str, dict[str, float]]:
    lo, hi = stats.wilson_bounds(correct, n, 0.9)
    return {"accuracy": {"value": correct / n, "lower": lo, "upper": hi, "confidence": 0.9}}


def test_homogeneity_agrees_with_scipy() -> None:
    rng = np.random.default_rng(3)
    for k in (2, 3, 5):
        for _ in range(40):
            a = rng.multinomial(int(rng.integers(50, 3000)), rng.dirichlet(np.ones(k)))
            b = rng.multinomial(int(rng.integers(50, 3000)), rng.dirichlet(np.ones(k)))
            keep = (a + b) > 0
            stat, pv, dof = homogeneity(a.tolist(), b.tolist())
            ref = chi2_contingency(np.asarray([a[keep], b[keep]]), correction=False)
            assert stat == pytest.approx(ref.statistic, rel=1e-10)
            assert pv == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
            assert dof == ref.dof
            assert pv == pytest.approx(chi2.sf(stat, dof), rel=1e-8, abs=1e-300)
    # a class absent from both parts is dropped (SciPy would refuse the zero column); one class left: no test
    assert homogeneity([10, 0, 5], [20, 0, 30])[2] == 1
    assert homogeneity([10, 0], [20, 0]) == (0.0, 1.0, 0)
    assert homogeneity([0, 0], [20, 3]) == (0.0, 1.0, 0)


def test_change_point_is_the_largest_statistic_and_bonferroni_adjusted() -> None:
    counts = [[850, 150], [845, 155], [860, 140], [650, 350], [660, 340]]
    cp = change_point(counts, dispersion="binomial")
    assert cp is not None
    assert cp["split"] == 3
    arr = np.asarray(counts)
    stats_by_split = [chi2_contingency([arr[:s].sum(0), arr[s:].sum(0)], correction=False).statistic
                      for s in range(1, 5)]
    assert cp["statistic"] == pytest.approx(max(stats_by_split))
    assert cp["adjustedPvalue"] == pytest.approx(min(1.0, 4 * cp["pvalue"]))
    assert cp["before"] == [2555, 445]
    assert cp["after"] == [1310, 690]
    assert change_point([[1, 2]]) is None
    assert change_point([[1, 2], [1, 2, 3]]) is None


def test_class_counts_rejects_malformed_values() -> None:
    assert class_counts([3, 4]) == [3, 4]
    assert class_counts([3.0, 4]) == [3, 4]
    for bad in (None, [3], [3, -1], [3, 1.5], [True, 2], ["3", 4], [0, 0], "34", [float("nan"), 1]):
        assert class_counts(bad) is None


def test_the_change_point_test_holds_its_level_without_a_shift() -> None:
    # 16 windows, no shift: the Bonferroni-adjusted p-value of the best split is below alpha at most alpha of the
    # time (conservative), binary and multiclass, small and large windows
    rng = np.random.default_rng(11)
    for n, prior in ((150, [0.8, 0.2]), (1000, [0.85, 0.15]), (500, [0.6, 0.3, 0.1])):
        hits = 0
        for _ in range(400):
            counts = rng.multinomial(n, prior, size=16).tolist()
            for dispersion in ("binomial", "estimate"):
                cp = change_point(counts, dispersion=dispersion)
                hits += cp is not None and cp["adjustedPvalue"] < 0.05
        assert hits / 800 <= 0.05


def _stream(rng: np.random.Generator, *, n: int, windows: int, shift_at: int | None, prior: float, prior_after: float,
            acc_pos: float, acc_neg: float, acc_pos_after: float, acc_neg_after: float) -> list[Any]:
    """Windows of a binary model whose accuracy depends on the class (so a window's accuracy and its label
    counts are correlated, as in real data); the benchmark's generator."""
    return [window(rng, n, prior_after, acc_pos_after, acc_neg_after) if shift_at is not None and i >= shift_at
            else window(rng, n, prior, acc_pos, acc_neg) for i in range(windows)]


def test_monte_carlo_no_false_alarms_when_the_labels_do_not_move() -> None:
    # a model about 1 SE above its threshold on 1,000-row windows (true accuracy 0.842 against 0.83), accuracy
    # depending on the class: over 16 windows the label rule practically never adds a breach
    rng = np.random.default_rng(5)
    extra = 0
    for _ in range(300):
        ws = _stream(rng, n=1000, windows=16, shift_at=None, prior=0.3, prior_after=0.3, acc_pos=0.70,
                     acc_neg=0.903, acc_pos_after=0.70, acc_neg_after=0.903)
        extra += first_breach(label_rule, ws) is not None and first_breach(cusum_rule, ws) is None
    assert extra / 300 <= 0.01


def test_monte_carlo_a_shift_that_does_not_hurt_never_breaches() -> None:
    # the positive rate doubles but the accuracy stays 0.86 (> 0.83): a strong label shift, no breach ever
    rng = np.random.default_rng(6)
    for _ in range(100):
        ws = _stream(rng, n=1000, windows=12, shift_at=4, prior=0.15, prior_after=0.35, acc_pos=0.86,
                     acc_neg=0.86, acc_pos_after=0.86, acc_neg_after=0.86)
        assert first_breach(label_rule, ws) is None


def test_monte_carlo_detection_of_a_prior_shift_by_the_third_window() -> None:
    # prior 0.15 -> 0.35 at 1,000 rows: accuracy 0.90 -> 0.814 (1.3 SE of one window below 0.83, the documented
    # unseen variant); the label rule or the CUSUM breaches by the third shifted window in more streams than the
    # CUSUM alone (about 0.85 in docs/decisions.md)
    rng = np.random.default_rng(7)
    both = alone = 0
    runs = 300
    for _ in range(runs):
        ws = _stream(rng, n=1000, windows=9, shift_at=5, prior=0.15, prior_after=0.35, acc_pos=0.55, acc_neg=0.962,
                     acc_pos_after=0.55, acc_neg_after=0.956)
        c = first_breach(cusum_rule, ws)
        lab = first_breach(label_rule, ws)
        alone += c is not None and c <= 7
        both += (c is not None and c <= 7) or (lab is not None and lab <= 7)
    assert both / runs >= 0.95
    assert both > alone


def test_rule_details_roc_auc_healthy_metrics_and_the_guard() -> None:
    before = [([850, 150], acc(860, 1000))] * 4
    after = [([650, 350], acc(818, 1000)), ([640, 360], acc(812, 1000))]
    auc = {"roc_auc": {"value": 0.80, "lower": 0.79, "upper": 0.81, "confidence": 0.9}}
    with_auc = [(c, {**w, **auc}) for c, w in before + after]
    thresholds = [{"metric": "roc_auc", "min": 0.85}, *ACC]
    [b], test = label_shift_breaches(thresholds, with_auc, alpha=0.001, min_windows=2)
    assert b["metric"] == "accuracy"
    assert b["windows"] == 2
    assert b["value"] == pytest.approx(0.815, abs=0.002)
    assert test is not None
    assert test["shift"]
    assert test["split"] == 4
    # consecutiveBreaches 3: two windows since the shift are not enough
    assert label_shift_breaches(ACC, before + after, alpha=0.001, min_windows=3)[0] == []
    # a metric another rule already breached is not reported twice
    assert label_shift_breaches(ACC, before + after, alpha=0.001, min_windows=2, already=["accuracy"])[0] == []
    # a window without counts ends the chain: the windows before it are not the reference
    gap = [*before, (None, acc(860, 1000)), *after]
    found, test = label_shift_breaches(ACC, gap, alpha=0.001, min_windows=2)
    assert found == []
    assert test is not None
    assert (test["split"], test["windows"], test["shift"]) == (1, 1, False)  # the two windows after the gap
    # max thresholds mirror
    err = [{"metric": "log_loss", "max": 0.4}]
    ll = lambda v: {"log_loss": {"value": v, "lower": v - 0.02, "upper": v + 0.02, "confidence": 0.9}}  # noqa: E731
    ws = [([850, 150], ll(0.3))] * 4 + [([650, 350], ll(0.45)), ([640, 360], ll(0.43))]
    assert [x["metric"] for x in label_shift_breaches(err, ws, alpha=0.001, min_windows=2)[0]] == ["log_loss"]


def test_multiclass_counts() -> None:
    before = [([600, 300, 100], acc(740, 1000))] * 3
    after = [([200, 300, 500], acc(500, 1000)), ([210, 290, 500], acc(490, 1000))]
    [b], test = label_shift_breaches([{"metric": "accuracy", "min": 0.66}], before + after, alpha=0.001,
                                     min_windows=2)
    assert test is not None
    assert test["dof"] == 2
    assert test["split"] == 3
    assert b["metric"] == "accuracy"


def _run(days_ago: int, counts: list[int] | None, correct: int, n: int = 1000) -> dict[str, Any]:
    end = END - timedelta(days=days_ago)
    w = acc(correct, n)["accuracy"]
    rec = {"runId": f"r{days_ago}", "status": "SUCCEEDED", "startedAt": iso(end + timedelta(minutes=5)),
           "window": {"start": iso(end - timedelta(days=1)), "end": iso(end)}, "breached": False,
           "driftDetected": False, "sampleSize": n, "metrics": {"accuracy": w["value"]},
           "intervals": {"accuracy": {k: w[k] for k in ("lower", "upper", "confidence")}}}
    if counts is not None:
        rec["classCounts"] = counts
    return rec


def test_decide_breaches_on_a_label_shift_and_records_it() -> None:
    pol = RetrainPolicy.model_validate({"consecutiveBreaches": 2, "minSamples": 100, "minNewLabels": 0})
    # the documented unseen variant: 0.818, 0.835 (above), then the current 0.818 against 0.83
    history = [_run(d, [850, 150], 900) for d in range(3, 8)] + [_run(2, [650, 350], 818), _run(1, [645, 355], 835)]
    cur = acc(818, 1000)["accuracy"]
    evaluation = {"breached": False, "breaches": [], "sampleSize": 1000, "metrics": {"accuracy": cur["value"]},
                  "intervals": {"accuracy": {k: cur[k] for k in ("lower", "upper", "confidence")}},
                  "thresholds": ACC, "classCounts": [652, 348]}

    def decide(policy: RetrainPolicy, state: dict[str, Any], hist: list[dict[str, Any]]) -> p.PolicyDecision:
        return p.decide(policy, evaluation=evaluation, drift={"detected": False}, history=hist, state=state,
                        window_start=END - timedelta(days=1), window_end=END, now=END + timedelta(minutes=5),
                        run_id="current")

    d = decide(pol, {}, history)
    assert d.retrain
    assert d.reasons == [p.PERFORMANCE_BREACH, p.LABEL_SHIFT]
    assert d.details["breachedMetrics"] == ["accuracy"]
    assert "sequentialBreaches" not in d.details  # the CUSUM alone has not seen it yet (0.835 reset it)
    [b] = d.details["labelShiftBreaches"]
    assert b["windows"] == 3
    assert d.details["labelShift"]["since"] == iso(END - timedelta(days=3))  # the start of the first shifted window
    # off: the CUSUM alone does not breach yet
    off = decide(RetrainPolicy.model_validate({**pol.model_dump(by_alias=True), "labelShift": None}), {}, history)
    assert not off.retrain
    assert "labelShift" not in off.details
    # a champion version that started after the shift: its own windows are its reference, no shift in them
    fresh = decide(pol, {"champion": {"since": iso(END - timedelta(days=2, hours=-1))}}, history)
    assert not fresh.retrain
    assert "labelShift" not in fresh.details
    # the window breaching on its own bound after an own-bound breach (CUSUM off): sustained without the labels,
    # so the label-shift breach is recorded but LABEL_SHIFT does not join the reasons
    low = acc(790, 1000)["accuracy"]
    own = {**evaluation, "breached": True, "metrics": {"accuracy": low["value"]},
           "intervals": {"accuracy": {k: low[k] for k in ("lower", "upper", "confidence")}},
           "breaches": [{"metric": "accuracy", "value": low["value"], "min": 0.83}]}
    streaked = [*history[:-1], {**history[-1], "breached": True}]
    no_cusum = RetrainPolicy.model_validate({**pol.model_dump(by_alias=True), "sequentialBreaches": None})
    both = p.decide(no_cusum, evaluation=own, drift={"detected": False}, history=streaked, state={},
                    window_start=END - timedelta(days=1), window_end=END, now=END + timedelta(minutes=5),
                    run_id="current")
    assert both.retrain
    assert both.reasons == [p.PERFORMANCE_BREACH]
    assert both.details["labelShiftBreaches"][0]["metric"] == "accuracy"
    # runs recorded before classCounts existed: no evidence, the rule is silent
    old = decide(pol, {}, [{k: v for k, v in r.items() if k != "classCounts"} for r in history])
    assert not old.retrain


def test_config_field_defaults_and_validation() -> None:
    base = json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text())
    shift = parse_config(base).retrain_policy.label_shift
    assert shift is not None
    assert shift.alpha == 0.001
    assert shift.dispersion == "estimate"
    strict = {**base, "retrainPolicy": {**base.get("retrainPolicy", {}), "labelShift": {"dispersion": "binomial"}}}
    assert parse_config(strict).retrain_policy.label_shift.dispersion == "binomial"  # type: ignore[union-attr]
    for bad, field in (({"alpha": 0}, "alpha"), ({"alpha": 0.2}, "alpha"), ({"alpha": "x"}, "alpha"),
                       ({"level": 0.01}, "level"), ({"dispersion": "quasi"}, "dispersion"),
                       ({"dispersion": 2}, "dispersion"), ({"dispersion": None}, "dispersion")):
        cfg = {**base, "retrainPolicy": {**base.get("retrainPolicy", {}), "labelShift": bad}}
        with pytest.raises(InvalidModelConfig) as exc:
            parse_config(cfg)
        assert any(pr.startswith(f"retrainPolicy.labelShift.{field}") for pr in exc.value.details["problems"])
    off = {**base, "retrainPolicy": {**base.get("retrainPolicy", {}), "labelShift": None}}
    assert parse_config(off).retrain_policy.label_shift is None


def test_prior_threshold_recovers_the_prior_correction() -> None:
    # a calibrated score under a prior shift: p(1|x) = sigmoid(z) at prior 0.2; at prior 0.45 the log odds move by
    # log(odds(0.45) / odds(0.2)) = 1.186; the fitted intercept recovers it and the threshold moves accordingly
    cfg = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()))
    rng = np.random.default_rng(2)
    shift = np.log((0.45 / 0.55) / (0.2 / 0.8))
    z = rng.normal(-1.8, 1.6, 20000)
    y = (rng.random(z.size) < 1 / (1 + np.exp(-(z + shift)))).astype(int)
    fit = fit_prior_threshold(cfg, y, 1 / (1 + np.exp(-z)), ["accuracy"], 0.5)
    assert fit is not None
    assert fit["intercept"] == pytest.approx(shift, abs=0.06)
    assert fit["threshold"] == pytest.approx(1 / (1 + np.exp(shift)), abs=0.015)
    # a non-default current threshold keeps its trade-off: logit(t') = logit(t) - b
    t3 = fit_prior_threshold(cfg, y, 1 / (1 + np.exp(-z)), ["accuracy"], 0.3)
    assert t3 is not None
    assert np.log(t3["threshold"] / (1 - t3["threshold"])) == pytest.approx(np.log(0.3 / 0.7) - fit["intercept"])
    # scores that are not probabilities, too few rows: no fit
    assert fit_prior_threshold(cfg, y, z, ["accuracy"], 0.5) is None
    assert fit_prior_threshold(cfg, y[:50], 1 / (1 + np.exp(-z[:50])), ["accuracy"], 0.5) is None


def test_monte_carlo_prior_threshold_is_less_noisy_than_the_cut_on_small_windows() -> None:
    # the 500-row unseen variant's population (prior 0.2 -> 0.45, champion = a logistic regression trained on the
    # old prior, scikit-learn here as the example's trainer is): fitted on one 500-row window of the new population,
    # the prior correction's oracle accuracy is never below the 0.82 threshold, the cut's sometimes is
    from sklearn.linear_model import LogisticRegression

    cfg = parse_config({**json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()),
                        "thresholds": [{"metric": "accuracy", "min": 0.82}]})
    rng = np.random.default_rng(1)
    mu1 = np.asarray([1.3, 1.0, 0.8, 0.6, 0.0, 0.0])

    def sample(n: int, prior: float) -> tuple[np.ndarray, np.ndarray]:
        y = (rng.random(n) < prior).astype(int)
        return rng.standard_normal((n, 6)) + y[:, None] * mu1, y

    model = LogisticRegression().fit(*sample(4000, 0.2))
    xo, yo = sample(100_000, 0.45)
    so = model.predict_proba(xo)[:, 1]
    cut, prior = [], []
    for _ in range(120):
        x, y = sample(500, 0.45)
        s = model.predict_proba(x)[:, 1]
        a, b = fit_threshold(cfg, y, s, ["accuracy"]), fit_prior_threshold(cfg, y, s, ["accuracy"], 0.5)
        assert a is not None
        assert b is not None
        cut.append(np.mean((so > a["threshold"]) == yo))
        prior.append(np.mean((so > b["threshold"]) == yo))
    assert np.mean(prior) > np.mean(cut)
    assert np.std(prior) < np.std(cut) / 2
    assert min(prior) >= 0.82
    assert np.mean(np.asarray(cut) < 0.82) > 0


def test_a_one_window_shift_names_its_reason_and_its_start() -> None:
    # consecutiveBreaches 1: a current window that breaches only by the label-shift rule (its own bound is not
    # below 0.83) is sustained by the labels: LABEL_SHIFT joins the reasons, and the shift starts at this window
    pol = RetrainPolicy.model_validate({"consecutiveBreaches": 1, "minSamples": 100, "minNewLabels": 0,
                                        "sequentialBreaches": None})
    history = [_run(d, [850, 150], 860) for d in range(1, 6)]
    cur = acc(820, 1000)["accuracy"]
    evaluation = {"breached": False, "breaches": [], "sampleSize": 1000, "metrics": {"accuracy": cur["value"]},
                  "intervals": {"accuracy": {k: cur[k] for k in ("lower", "upper", "confidence")}},
                  "thresholds": ACC, "classCounts": [650, 350]}
    start = END - timedelta(days=1)
    d = p.decide(pol, evaluation=evaluation, drift={"detected": False}, history=history, state={},
                 window_start=start, window_end=END, now=END + timedelta(minutes=5), run_id="current")
    assert d.retrain
    assert d.reasons == [p.PERFORMANCE_BREACH, p.LABEL_SHIFT]
    assert d.details["labelShift"]["windows"] == 1
    assert d.details["labelShift"]["since"] == iso(start)


def test_prior_threshold_converges_on_very_confident_scores() -> None:
    # scores at 1e-4 / 1 - 1e-4 with a tenth of the labels flipped: Newton's curvature underflows there; the
    # bisection finds the likelihood's maximum (the intercept that makes the mean corrected score the positive rate)
    cfg = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()))
    rng = np.random.default_rng(5)
    truth = rng.random(4000) < 0.3
    s = np.where(truth, 0.9999, 0.0001)
    y = np.where(rng.random(truth.size) < 0.1, ~truth, truth).astype(int)
    fit = fit_prior_threshold(cfg, y, s, ["accuracy"], 0.5)
    assert fit is not None
    b = fit["intercept"]
    logit = np.log(s / (1 - s))
    assert np.mean(1 / (1 + np.exp(-(logit + b)))) == pytest.approx(y.mean(), abs=1e-8)
    assert fit["threshold"] == pytest.approx(1 / (1 + np.exp(-(0.0 - b))))
    # scores exactly 0 and 1 (clipped to 1e-12 in the logits) still fit
    assert fit_prior_threshold(cfg, y, np.where(truth, 1.0, 0.0), ["accuracy"], 0.5) is not None


def test_recalibration_after_a_shift_in_the_current_window_alone_is_not_fitted() -> None:
    # the shift starts at the current window, which both remedies are judged on: no earlier row is of the new
    # population, so the pre-shift windows must not be fitted on (binary and multiclass alike)
    from retrain_launcher.decide import fit_recalibration

    cfg = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()))
    start = END - timedelta(days=1)
    state = {"champion": {"decisionThreshold": 0.4}}
    out = fit_recalibration(cfg, state, [], run_id="current", start=start, read=([], []), breached=["accuracy"],
                            shift_since=start)
    assert out["status"] == "NOT_FITTED"
    assert "current window alone" in out["reason"]
    assert out["previousThreshold"] == 0.4


def test_a_second_prior_correction_corrects_the_configured_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    # the intercept is fitted on the model's own (uncorrected) scores, so it is the whole offset from the
    # population the model was trained for; applied to a threshold an earlier correction already moved, it would
    # count that correction twice (a calibrated model trained at prior 0.15: 0.5 -> 0.253 at 0.35 is right; at
    # 0.5 the right threshold is 0.150, not a second move from 0.253)
    from retrain_launcher import decide as d

    cfg = parse_config(json.loads((ROOT / "tests/fixtures/model_config_binary.json").read_text()))
    assert cfg.decision_threshold == 0.5
    rng = np.random.default_rng(11)
    z = rng.normal(-1.7, 1.5, 20000)  # the model's log odds at the training prior
    shift = np.log(1.0 / (0.15 / 0.85))  # prior 0.15 -> 0.5
    y = (rng.random(z.size) < 1 / (1 + np.exp(-(z + shift)))).astype(int)
    monkeypatch.setattr(d, "recalibration_rows", lambda _cfg, _texts: (y, 1 / (1 + np.exp(-z))))
    monkeypatch.setattr(d, "_training_sources", lambda *_a, **_k: ["s3://b/w.csv"])
    start = END - timedelta(days=1)
    state = {"champion": {"decisionThreshold": 0.253}}  # the first correction, deployed
    out = d.fit_recalibration(cfg, state, [], run_id="current", start=start, read=([("s3://b/w.csv", "")], []),
                              breached=["accuracy"], shift_since=start - timedelta(days=3))
    assert out["status"] == "FITTED"
    assert out["method"] == "prior"
    assert out["previousThreshold"] == 0.253
    assert out["intercept"] == pytest.approx(shift, abs=0.08)
    assert out["threshold"] == pytest.approx(1 / (1 + np.exp(shift)), abs=0.02)  # 0.150, from the configured 0.5


def test_f_distribution_and_incomplete_beta_agree_with_scipy() -> None:
    rng = np.random.default_rng(8)
    for _ in range(3000):
        d1 = int(rng.integers(1, 6))
        d2 = int(rng.integers(1, 120)) * d1
        x = float(np.exp(rng.uniform(-5, 7)))
        ref = f.sf(x, d1, d2)
        assert f_sf(x, d1, d2) == pytest.approx(ref, rel=1e-9, abs=1e-300)
        a, b, u = float(rng.uniform(0.5, 60)), float(rng.uniform(0.5, 3)), float(rng.random())
        assert betainc(a, b, u) == pytest.approx(special.betainc(a, b, u), rel=1e-9, abs=1e-300)
    assert f_sf(0.0, 1, 5) == 1.0
    assert (betainc(2, 3, 0.0), betainc(2, 3, 1.0)) == (0.0, 1.0)


def _within_oracle(windows: np.ndarray, split: int) -> float:
    """Pearson's chi-square of each part's windows x cells table (SciPy): the windows around their part's rates."""
    total = 0.0
    for part in (windows[:split], windows[split:]):
        part = part[:, part.sum(axis=0) > 0]
        if part.shape[0] > 1 and part.shape[1] > 1:
            total += chi2_contingency(part, correction=False).statistic
    return total


def test_quasi_likelihood_split_test_agrees_with_scipy() -> None:
    # the statistic: Pearson's chi-square of the two parts (pooled cells) over phi = the within-part Pearson
    # chi-square per degree of freedom, floored at 1; the p-value: F(dof, (T - 2) dof) of statistic / dof
    rng = np.random.default_rng(9)
    estimated = 0
    for k in (2, 3, 4):
        for _ in range(30):
            t = int(rng.integers(3, 25))
            rates = np.clip(rng.dirichlet(np.ones(k) * 4) + rng.normal(0, 0.03, (t, k)), 0.001, None)
            arr = np.asarray([rng.multinomial(int(rng.integers(300, 2000)), r / r.sum()) for r in rates])
            split = int(rng.integers(1, t))
            res = split_test(arr, split, dispersion="estimate")
            cells, _ = pooling(arr.sum(axis=0), int(min(arr[:split].sum(), arr[split:].sum())), int(arr.sum()))
            pooled = arr @ cells
            ref = chi2_contingency([pooled[:split].sum(0), pooled[split:].sum(0)], correction=False)
            df = (t - 2) * ref.dof
            phi = max(1.0, _within_oracle(pooled, split) / df)
            estimated += phi > 1
            assert res["chiSquare"] == pytest.approx(ref.statistic, rel=1e-10)
            assert res["dispersion"] == pytest.approx(phi, rel=1e-10)
            assert res["dispersionDof"] == df
            assert res["statistic"] == pytest.approx(ref.statistic / phi, rel=1e-10)
            assert res["pvalue"] == pytest.approx(f.sf(ref.statistic / phi / ref.dof, ref.dof, df), rel=1e-8,
                                                  abs=1e-300)
            binomial = split_test(arr, split, dispersion="binomial")
            assert binomial["pvalue"] == pytest.approx(ref.pvalue, rel=1e-8, abs=1e-300)
            assert (binomial["dispersion"], binomial["dispersionSource"]) == (1.0, "binomial")
    assert estimated > 30  # the overdispersed draws do exercise phi > 1


def test_sparse_classes_are_pooled_so_every_expected_count_reaches_the_floor() -> None:
    rng = np.random.default_rng(10)
    for _ in range(200):
        k = int(rng.integers(3, 7))
        shares = rng.dirichlet(np.ones(k) * 0.4)
        arr = rng.multinomial(int(rng.integers(100, 1500)), shares, size=int(rng.integers(2, 12)))
        split = int(rng.integers(1, arr.shape[0]))
        before, after = arr[:split].sum(0), arr[split:].sum(0)
        cells, pooled = pooling(before + after, int(min(before.sum(), after.sum())), int(arr.sum()))
        assert (cells.sum(axis=1) <= 1).all()  # every class in at most one cell
        assert (cells.sum(axis=1) == ((before + after) > 0)).all()  # ...and every observed class in one
        table = np.asarray([before @ cells, after @ cells])
        if table.shape[1] >= 2:
            assert chi2_contingency(table, correction=False).expected_freq.min() >= 5 - 1e-9
        assert sorted(pooled) == pooled


def test_a_sparse_class_alone_does_not_fire() -> None:
    # four classes, the last one almost never seen: six of it in the current window (0.55 expected) carried
    # Pearson's chi-square alone (about 60) before the pooling; pooled into the smallest class it is no shift
    counts = [[600, 300, 100, 0]] * 10 + [[598, 300, 96, 6]]
    unpooled = change_point(counts, dispersion="binomial", floor=0.0)
    assert unpooled is not None
    assert unpooled["adjustedPvalue"] < 1e-9
    for dispersion in ("binomial", "estimate"):
        cp = change_point(counts, dispersion=dispersion)
        assert cp is not None
        assert cp["adjustedPvalue"] > 0.5
        assert 3 in cp["pooled"]
    # the same counts with the rare class grown to a real shift (60 of 1,000) still fire
    moved = [[600, 300, 100, 0]] * 10 + [[560, 290, 90, 60], [555, 295, 92, 58]]
    for dispersion in ("binomial", "estimate"):
        cp = change_point(moved, dispersion=dispersion)
        assert cp is not None
        assert cp["adjustedPvalue"] < 0.001


def _overdispersed(rng: np.random.Generator, rates: np.ndarray, n: int = 1000) -> list[list[int]]:
    pos = rng.binomial(n, np.clip(rates, 0.001, 0.999))
    return np.column_stack([n - pos, pos]).tolist()


def test_monte_carlo_an_overdispersed_stable_history_does_not_fire() -> None:
    # the positive rate 0.15 varies by sd 0.02 from day to day (phi about 4 at 1,000 rows), no shift: the binomial
    # test declares one in about a quarter of 10- to 30-window histories, the quasi-likelihood test (the default)
    # holds alpha
    rng = np.random.default_rng(12)
    runs, binomial, estimate = 200, 0, 0
    for i in range(runs):
        counts = _overdispersed(rng, 0.15 + 0.02 * rng.standard_normal(10 + i % 21))
        binomial += change_point(counts, dispersion="binomial")["adjustedPvalue"] < 0.001  # type: ignore[index]
        cp = change_point(counts)
        assert cp is not None
        assert cp["dispersionSource"] == "estimate"
        estimate += cp["adjustedPvalue"] < 0.001
        assert cp["dispersion"] > 1.5 or cp["adjustedPvalue"] > 0.001
    assert binomial / runs > 0.15
    assert estimate / runs <= 0.01


def test_monte_carlo_a_real_prior_shift_still_fires_under_overdispersion() -> None:
    # 10 windows at 0.2, then 0.4, both varying by sd 0.02 a day: found by the second shifted window, at the split
    rng = np.random.default_rng(13)
    runs, found = 200, 0
    for _ in range(runs):
        counts = _overdispersed(rng, np.r_[np.full(10, 0.2), np.full(2, 0.4)] + 0.02 * rng.standard_normal(12))
        cp = change_point(counts)
        assert cp is not None
        found += cp["adjustedPvalue"] < 0.001 and cp["split"] == 10
    assert found / runs >= 0.95


def test_too_few_windows_to_estimate_the_dispersion() -> None:
    # two windows: no within-part degree of freedom; "estimate" does not test, "binomial" does
    two = [[850, 150], [650, 350]]
    cp = change_point(two)
    assert cp is not None
    assert (cp["dispersionSource"], cp["pvalue"], cp["dispersionEstimate"]) == ("too few windows", 1.0, None)
    assert change_point(two, dispersion="binomial")["adjustedPvalue"] < 1e-20  # type: ignore[index]
    # three windows: estimated (F with one degree of freedom in the denominator)
    three = change_point([[850, 150], [845, 155], [650, 350]])
    assert three is not None
    assert (three["dispersionSource"], three["dispersionDof"]) == ("estimate", 1)


def test_the_rule_passes_the_configured_dispersion_and_regression_is_untouched() -> None:
    # an overdispersed stable history whose metric sits just below the threshold by point estimate: the binomial
    # test calls the day-to-day swing a shift and breaches; the default does not
    swing = [[850, 150], [800, 200], [860, 140], [790, 210], [845, 155], [805, 195], [855, 145], [770, 230],
             [765, 235], [775, 225]]
    ws = [(c, acc(826, 1000)) for c in swing]
    assert label_shift_breaches(ACC, ws, alpha=0.001, min_windows=2, dispersion="binomial")[0]
    breaches, test = label_shift_breaches(ACC, ws, alpha=0.001, min_windows=2)
    assert breaches == []
    assert test is not None
    assert not test["shift"]
    assert test["dispersion"] > 2
    # through decide: the configured dispersion reaches the rule (consecutiveBreaches 1, CUSUM off)
    pol = {"consecutiveBreaches": 1, "minSamples": 100, "minNewLabels": 0, "sequentialBreaches": None}
    history = [_run(len(swing) - i, c, 826) for i, c in enumerate(swing[:-1])]
    cur = acc(826, 1000)["accuracy"]
    evaluation = {"breached": False, "breaches": [], "sampleSize": 1000, "metrics": {"accuracy": cur["value"]},
                  "intervals": {"accuracy": {k: cur[k] for k in ("lower", "upper", "confidence")}},
                  "thresholds": ACC, "classCounts": swing[-1]}
    for dispersion, fires in (("binomial", True), ("estimate", False)):
        policy = RetrainPolicy.model_validate({**pol, "labelShift": {"dispersion": dispersion}})
        d = p.decide(policy, evaluation=evaluation, drift={"detected": False}, history=history, state={},
                     window_start=END - timedelta(days=1), window_end=END, now=END + timedelta(minutes=5),
                     run_id="current")
        assert d.retrain is fires
        assert ("labelShift" in d.details) is fires  # recorded when a shift was found
        assert d.details.get("labelShift", {}).get("dispersionSource", dispersion) == dispersion
    # regression windows carry no class counts: no test, no breach, whatever the dispersion setting
    rmse = {"rmse": {"value": 1.3, "lower": 1.2, "upper": 1.4, "confidence": 0.9}}
    assert label_shift_breaches([{"metric": "rmse", "max": 1.0}], [(None, rmse)] * 6, alpha=0.001,
                                min_windows=2) == ([], None)


def test_monte_carlo_multiclass_overdispersion_and_a_real_multiclass_shift() -> None:
    # three classes whose daily shares vary (Dirichlet with concentration 300 around 0.6 / 0.3 / 0.1: a
    # Dirichlet-multinomial of dispersion (1000 + 300) / (1 + 300) = 4.3 at 1,000 rows), no shift: the binomial
    # test fires often, the default not; a real move of the shares to 0.45 / 0.3 / 0.25 after 8 windows is still
    # found by the second window, at the split
    rng = np.random.default_rng(14)
    runs, binomial, estimate, found = 150, 0, 0, 0
    for _ in range(runs):
        shares = rng.dirichlet(np.asarray([0.6, 0.3, 0.1]) * 300, size=20)
        counts = [rng.multinomial(1000, s).tolist() for s in shares]
        binomial += change_point(counts, dispersion="binomial")["adjustedPvalue"] < 0.001  # type: ignore[index]
        cp = change_point(counts)
        assert cp is not None
        assert cp["dof"] == 2
        estimate += cp["adjustedPvalue"] < 0.001
        moved = [*counts[:8], *(rng.multinomial(1000, s).tolist()
                                for s in rng.dirichlet(np.asarray([0.45, 0.3, 0.25]) * 300, size=2))]
        shift = change_point(moved)
        assert shift is not None
        found += shift["adjustedPvalue"] < 0.001 and shift["split"] == 8
    assert binomial / runs > 0.2
    assert estimate / runs <= 0.01
    assert found / runs >= 0.95
