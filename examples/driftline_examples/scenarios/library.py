"""The built-in scenarios of ``make scenarios``, registered on import.

Every scenario states its correct decision (:class:`~driftline_examples.scenarios.base.Expectation`). The
thresholds sit between the model's value on the healthy population and on the harmful drift, as measured on
the oracle (a large fresh sample of the day's true population); the retrain policy and the promotion rule are
the example's defaults (:func:`driftline_offline.scenario.model_config`: ``consecutiveBreaches`` 2, cooldown
48 h, at most 2 retrains per 7 days, ``triggers`` performance and drift, promotion on ``roc_auc`` by 0.01 with a
paired bootstrap) unless a scenario overrides them for the reason given next to the override. Nothing here is
tuned to make a decision come out right: the suite measures the decisions of whatever code it runs on.
"""

from __future__ import annotations

from .base import Expectation, Feature, Scenario, classifier, multiclass, register, regressor
from .populations import (
    ClassConditionalPopulation,
    LinearRegressionPopulation,
    LogisticPopulation,
    MulticlassPriorPopulation,
    Schedule,
    SoftmaxPopulation,
)

__all__ = ["BUILTIN"]

FEATURES = tuple(Feature(f"f{j}") for j in range(6))
#: the concept of the logistic scenarios: f4 and f5 do not affect the label
COEF = (1.2, -1.0, 0.8, 0.5, 0.0, 0.0)
#: after concept drift the effects of f1 and f3 are reversed: a model trained before falls from ROC AUC ~0.85 to ~0.57
COEF_AFTER = (1.2, 1.0, 0.8, -0.5, 0.0, 0.0)
#: healthy ~0.85 / ~0.77 on the oracle; under the harmful drifts ~0.57 / ~0.56 (moved boundary: accuracy 0.65)
BINARY_THRESHOLDS = [{"metric": "roc_auc", "min": 0.78}, {"metric": "accuracy", "min": 0.70}]
CLASSIFIER = classifier(FEATURES)


def _logistic(**kwargs: object) -> LogisticPopulation:
    return LogisticPopulation(coef=COEF, intercept=-0.3, **kwargs)  # type: ignore[arg-type]


BUILTIN: tuple[Scenario, ...] = (
    Scenario(
        name="stable", description="nothing changes (1,500 rows a day)",
        features=FEATURES, population=_logistic(), model=CLASSIFIER, config={"thresholds": BINARY_THRESHOLDS},
        expected=Expectation("nothing changes: never retrain"), days=12,
    ),
    Scenario(
        name="sudden-concept", description="day 6: the effects of f1 and f3 reverse at once (P(x) unchanged)",
        features=FEATURES, population=_logistic(coef_after=COEF_AFTER, concept=Schedule.step(6)), model=CLASSIFIER,
        config={"thresholds": BINARY_THRESHOLDS},
        expected=Expectation("retrain within 2 windows of day 6 and promote the challenger",
                             retrain_windows=((6, 15),), max_delay=2),
    ),
    Scenario(
        name="gradual-concept", description="days 4-11: the effects of f1 and f3 reverse linearly over 8 days",
        features=FEATURES, population=_logistic(coef_after=COEF_AFTER, concept=Schedule.ramp(4, 8)),
        model=CLASSIFIER, config={"thresholds": BINARY_THRESHOLDS},
        expected=Expectation("retrain within 2 windows of the model breaching; retrain again while the concept "
                             "keeps moving", retrain_windows=((4, 15),), max_delay=2),
    ),
    Scenario(
        name="recurring", description="seasonal: the concept alternates every 4 days (days 4-7 and 12-15 reversed)",
        features=FEATURES, population=_logistic(coef_after=COEF_AFTER, concept=Schedule.alternate(4)),
        model=CLASSIFIER, config={"thresholds": BINARY_THRESHOLDS},
        expected=Expectation("retrain within 2 windows of each season change that breaches",
                             retrain_windows=((4, 15),), max_delay=2),
    ),
    Scenario(
        name="label-prior-shift",
        description="day 6: the positive rate doubles (0.2 -> 0.4), P(x|y) unchanged: ranking intact, accuracy drops",
        features=FEATURES,
        population=ClassConditionalPopulation(mu0=(0.0,) * 6, mu1=(1.3, 1.0, 0.8, 0.6, 0.0, 0.0), prior=0.2,
                                              prior_after=0.4, schedule=Schedule.step(6)),
        model=CLASSIFIER,
        # healthy: ROC AUC 0.91, accuracy 0.88; after the shift the old model 0.91 / 0.81, a retrained one 0.91 / 0.84
        config={"thresholds": [{"metric": "roc_auc", "min": 0.85}, {"metric": "accuracy", "min": 0.825}]},
        expected=Expectation("fix accuracy (retrain or recalibrate) within 2 windows; at most 3 days below",
                             retrain_windows=((6, 15),), max_delay=2, max_days_below=3),
    ),
    Scenario(
        name="moved-boundary",
        description="day 6: the true log-odds move by +1.8 (same ranking): ROC AUC unchanged, accuracy 0.76 -> 0.65",
        features=FEATURES, population=_logistic(intercept_after=1.5, concept=Schedule.step(6)), model=CLASSIFIER,
        config={"thresholds": BINARY_THRESHOLDS},
        expected=Expectation("fix accuracy (retrain or recalibrate) within 2 windows; at most 3 days below",
                             retrain_windows=((6, 15),), max_delay=2, max_days_below=3),
    ),
    Scenario(
        name="virtual-drift",
        description="day 5: f4 and f5 (which the label ignores) move by 2 standard deviations; performance unchanged",
        features=FEATURES, population=_logistic(shift=(0.0, 0.0, 0.0, 0.0, 2.0, 2.0), covariate=Schedule.step(5)),
        model=CLASSIFIER, config={"thresholds": BINARY_THRESHOLDS},
        expected=Expectation("drift that does not hurt: no retrain (one attempt tolerated), no re-trigger",
                             tolerated_retrains=1),
    ),
    Scenario(
        name="noisy-small-windows",
        description="nothing changes; 150 rows a day, thresholds 0.03-0.05 below the healthy values",
        features=FEATURES, population=_logistic(), model=CLASSIFIER, rows_per_day=150,
        # the small windows must be eligible at all: minimum samples below the window size
        config={"thresholds": [{"metric": "roc_auc", "min": 0.80}, {"metric": "accuracy", "min": 0.74}],
                "retrainPolicy": {"minSamples": 100, "minNewLabels": 100},
                "promotion": {"minSamples": 100}},
        expected=Expectation("noise only: never retrain"),
    ),
    Scenario(
        name="large-negligible-shift",
        description="day 3: f0-f3 move by 0.1 standard deviation (PSI ~0.01); 20,000 rows a day",
        features=FEATURES, population=_logistic(shift=(0.1, 0.1, 0.1, 0.1, 0.0, 0.0), covariate=Schedule.step(3)),
        model=CLASSIFIER, config={"thresholds": BINARY_THRESHOLDS}, rows_per_day=20000, days=10,
        expected=Expectation("a significant but negligible shift: never retrain"),
    ),
    Scenario(
        name="regression-drift",
        description="regression, day 6: the effect of f1 reverses (RMSE of the old model 1.0 -> 3.2)",
        features=FEATURES, problem_type="regression", model_id="example-regressor", labels=(),
        population=LinearRegressionPopulation(coef=(2.0, -1.5, 1.0, 0.5, 0.0, 0.0), intercept=10.0, noise=1.0,
                                              coef_after=(2.0, 1.5, 1.0, 0.5, 0.0, 0.0), concept=Schedule.step(6)),
        model=regressor(FEATURES),
        config={"thresholds": [{"metric": "rmse", "max": 1.5}],
                "promotion": {"metric": "rmse", "minImprovement": 0.05}},
        expected=Expectation("retrain within 2 windows of day 6 and promote the challenger",
                             retrain_windows=((6, 15),), max_delay=2),
    ),
    Scenario(
        name="multiclass-drift",
        description="3 classes, day 6: f1 and f2 swap the classes they favour (accuracy 0.70 -> 0.35)",
        features=FEATURES, problem_type="multiclass", model_id="example-multiclass", labels=("0", "1", "2"),
        population=SoftmaxPopulation(
            coef=((1.2, -0.6, -0.6), (-0.5, 1.0, -0.5), (0.0, -0.8, 0.8), (0.4, 0.0, -0.4), (0, 0, 0), (0, 0, 0)),
            coef_after=((1.2, -0.6, -0.6), (-0.5, -0.5, 1.0), (0.0, 0.8, -0.8), (0.4, 0.0, -0.4), (0, 0, 0),
                        (0, 0, 0)),
            concept=Schedule.step(6)),
        model=multiclass(FEATURES, classes=3),
        # healthy: accuracy 0.70, ROC AUC (one-vs-rest) 0.87; after the swap the old model 0.35 / 0.52
        config={"thresholds": [{"metric": "roc_auc", "min": 0.80}, {"metric": "accuracy", "min": 0.62}]},
        expected=Expectation("retrain within 2 windows of day 6 and promote the challenger",
                             retrain_windows=((6, 15),), max_delay=2),
    ),
    Scenario(
        name="multiclass-prior-shift",
        description="3 classes, day 6: the class priors move 0.6/0.3/0.1 -> 0.2/0.3/0.5, P(x|y) unchanged",
        features=FEATURES, problem_type="multiclass", model_id="example-multiclass", labels=("0", "1", "2"),
        population=MulticlassPriorPopulation(
            mus=((0.0,) * 6, (1.4, 0.4, 0.6, 0.0, 0.0, 0.0), (0.2, 1.4, -0.5, 0.5, 0.0, 0.0)),
            priors=(0.6, 0.3, 0.1), priors_after=(0.2, 0.3, 0.5), schedule=Schedule.step(6)),
        model=multiclass(FEATURES, classes=3),
        # healthy: accuracy 0.74, ROC AUC (one-vs-rest) 0.85; after the shift the old model 0.49 / 0.84 (ranking
        # nearly intact), a model retrained on one window 0.72 / 0.86
        config={"thresholds": [{"metric": "roc_auc", "min": 0.80}, {"metric": "accuracy", "min": 0.66}]},
        expected=Expectation("fix accuracy (retrain or recalibrate) within 2 windows; at most 3 days below",
                             retrain_windows=((6, 15),), max_delay=2, max_days_below=3),
    ),
)

for _scenario in BUILTIN:
    register(_scenario)
