"""A scenario registered from outside the library (``--module tests.examples.scenario_plugin``), short enough to test.

Sudden concept drift on day 1 (the effect of f1 reverses), 4 days of 800 rows: with the default policy
(``consecutiveBreaches`` 2, ``trainingWindowDays`` 1) day 1 breaches, day 2 retrains on day 1's labels and
promotes the challenger, day 3 is served by it. The correct decision is known, so is every column of the table.
"""

from driftline_examples.scenarios import Expectation, Feature, Scenario, classifier, register
from driftline_examples.scenarios.populations import LogisticPopulation, Schedule

FEATURES = tuple(Feature(f"x{j}") for j in range(3))
THRESHOLDS = [{"metric": "roc_auc", "min": 0.75}, {"metric": "accuracy", "min": 0.68}]

SUDDEN = register(Scenario(
    name="test-sudden", description="day 1: the effect of x1 reverses",
    features=FEATURES,
    population=LogisticPopulation(coef=(1.5, -1.5, 0.5), coef_after=(1.5, 1.5, 0.5), concept=Schedule.step(1)),
    model=classifier(FEATURES), config={"thresholds": THRESHOLDS},
    expected=Expectation("retrain within 1 window of day 1", retrain_windows=((1, 3),), max_delay=1),
    days=4, rows_per_day=800, n_train=2000, oracle_rows=5000, model_id="test-model",
))
