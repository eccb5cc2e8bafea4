"""The scenario API: populations that move as stated, the demo's traffic unchanged behind it, the registry."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from driftline_common.config import parse_config
from driftline_examples import traffic
from driftline_examples.scenarios import Expectation, Feature, Scenario, classifier, get, register, registered
from driftline_examples.scenarios.example import from_traffic
from driftline_examples.scenarios.populations import (
    ClassConditionalPopulation,
    LinearRegressionPopulation,
    LogisticPopulation,
    MulticlassPriorPopulation,
    Schedule,
)
from driftline_offline.scenario import as_scenario, example_config, model_config

FEATURES = (Feature("a"), Feature("b"), Feature("c", "categorical"))


class Codes:
    """A population written from scratch: one categorical feature whose code distribution moves on day 2."""

    def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        X = np.column_stack([rng.normal(size=n), rng.normal(size=n), rng.integers(0, 3 if day < 2 else 4, n)])
        return X, (X[:, 0] > 0).astype(np.int64)


def _scenario(**kwargs: object) -> Scenario:
    base = {"name": "custom", "description": "d", "features": FEATURES, "population": Codes(),
            "model": classifier(FEATURES), "expected": Expectation("never retrain")}
    return Scenario(**{**base, **kwargs})  # type: ignore[arg-type]


def test_the_demo_traffic_is_unchanged_behind_the_api() -> None:
    for scenario in (traffic.STABLE, traffic.DRIFT):
        spec = from_traffic(scenario)
        for d in (0, 3, 9):
            want = traffic.day(d, 300, scenario)
            got = spec.day(d, 300)
            np.testing.assert_array_equal(got.X, want.X)
            np.testing.assert_array_equal(got.y, want.y)
            assert got.inference_ids == want.inference_ids
        np.testing.assert_array_equal(spec.training_set(500)[0], traffic.training_set(500)[0])
        # request bodies and training CSV as the traffic module writes them
        X, y, _ = traffic.day(1, 5, scenario)
        assert [spec.csv_row(row) for row in X] == [traffic.features_to_csv_row(row) for row in X]
        assert spec.training_csv(X, y) == traffic.to_training_csv(X, y)
    # the config of a wrapped traffic scenario is the example's config
    assert model_config(from_traffic(traffic.DRIFT), "bucket-1") == example_config("bucket-1")
    assert as_scenario(traffic.DRIFT) == from_traffic(traffic.DRIFT)
    with pytest.raises(TypeError, match="scenario must be"):
        as_scenario("drift")


def test_streams_are_independent_and_reproducible() -> None:
    s = _scenario()
    np.testing.assert_array_equal(s.day(3).X, s.day(3).X)
    assert not np.array_equal(s.day(3, 100).X, s.oracle(3, 100)[0])
    assert not np.array_equal(s.day(3, 100).X, s.training_set(100)[0])
    other = dataclasses.replace(s, seed=s.seed + 1)
    assert not np.array_equal(other.day(3, 100).X, s.day(3, 100).X)
    # the population changes on day 2: category 3 appears in the traffic, never before
    assert 3 not in s.day(1, 2000).X[:, 2]
    assert 3 in s.day(2, 2000).X[:, 2]
    assert s.csv_row([0.5, -1.0, 2.0]) == "0.5,-1.0,2"


def test_scenario_validation() -> None:
    class Bad:
        def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
            return np.zeros((n, 2)), np.zeros(n)

    with pytest.raises(TypeError, match="population must have sample"):
        _scenario(population=object())
    with pytest.raises(ValueError, match=r"returned X\(4, 2\)"):
        _scenario(population=Bad()).day(0, 4)
    with pytest.raises(ValueError, match="scenario name"):
        _scenario(name="no spaces")
    with pytest.raises(ValueError, match="first <= last"):
        Expectation("x", retrain_windows=((5, 2),))
    with pytest.raises(ValueError, match="index must be >= 0"):
        _scenario().day(-1)


def test_registry() -> None:
    scenarios = registered()
    kinds = {"stable", "sudden-concept", "gradual-concept", "recurring", "label-prior-shift", "moved-boundary",
             "virtual-drift", "noisy-small-windows", "large-negligible-shift", "regression-drift", "multiclass-drift",
             "multiclass-prior-shift"}
    assert kinds <= set(scenarios)
    assert get("regression-drift").problem_type == "regression"
    assert get("multiclass-drift").problem_type == "multiclass"
    for s in scenarios.values():
        assert s.expected.statement
        assert s.expected.retrain_expected == bool(s.expected.retrain_windows)
    mine = register(_scenario(name="custom-registered"))
    assert registered()["custom-registered"] is mine
    register(mine)  # the same object again is fine
    with pytest.raises(ValueError, match="already registered"):
        register(_scenario(name="custom-registered", days=5))
    with pytest.raises(KeyError, match="no scenario named"):
        get("nope")


@pytest.mark.parametrize("name", sorted({
    "stable", "sudden-concept", "gradual-concept", "recurring", "label-prior-shift", "moved-boundary",
    "virtual-drift", "noisy-small-windows", "large-negligible-shift", "regression-drift", "multiclass-drift",
    "multiclass-prior-shift"}))
def test_every_builtin_config_is_valid(name: str) -> None:
    s = get(name)
    cfg = parse_config(model_config(s, "bucket-1"))
    assert cfg.problem_type == s.problem_type
    assert [f.name for f in cfg.features] == [f.name for f in s.features]
    assert cfg.training.hyperparameters == dict(s.model.hyperparameters)
    for key, value in s.config.items():  # the scenario's overrides are applied
        got = model_config(s, "bucket-1")[key]
        assert got == value if not isinstance(value, dict) else {**got, **value} == got


def test_schedules() -> None:
    assert [Schedule.never()(d) for d in (0, 9)] == [0.0, 0.0]
    assert [Schedule.step(3)(d) for d in (2, 3, 9)] == [0.0, 1.0, 1.0]
    assert [Schedule.ramp(2, 4)(d) for d in (1, 2, 3, 5, 9)] == [0.0, 0.25, 0.5, 1.0, 1.0]
    assert [Schedule.alternate(2)(d) for d in range(6)] == [0.0, 0.0, 1.0, 1.0, 0.0, 0.0]


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_label_prior_shift_keeps_p_x_given_y() -> None:
    pop = ClassConditionalPopulation(mu0=(0.0, 0.0), mu1=(1.0, 0.5), prior=0.2, prior_after=0.4,
                                     schedule=Schedule.step(3))
    X0, y0 = pop.sample(0, 200_000, _rng(1))
    X1, y1 = pop.sample(5, 200_000, _rng(2))
    assert y0.mean() == pytest.approx(0.2, abs=0.005)
    assert y1.mean() == pytest.approx(0.4, abs=0.005)
    for cls in (0, 1):
        np.testing.assert_allclose(X0[y0 == cls].mean(axis=0), X1[y1 == cls].mean(axis=0), atol=0.02)
        np.testing.assert_allclose(X0[y0 == cls].std(axis=0), X1[y1 == cls].std(axis=0), atol=0.02)


def test_concept_and_covariate_drift_of_the_logistic_population() -> None:
    pop = LogisticPopulation(coef=(1.0, 0.0), intercept=0.0, intercept_after=2.0, concept=Schedule.step(3),
                             shift=(0.0, 2.0), covariate=Schedule.step(3), means=(5.0, 1.0), stds=(2.0, 0.5))
    X0, y0 = pop.sample(0, 100_000, _rng(3))
    X1, y1 = pop.sample(4, 100_000, _rng(4))
    np.testing.assert_allclose(X0.mean(axis=0), [5.0, 1.0], atol=0.02)
    np.testing.assert_allclose(X1.mean(axis=0), [5.0, 2.0], atol=0.02)  # f1 moved by 2 stds of 0.5
    # the moved boundary: P(y=1 | x) is sigmoid(z0 + 2) instead of sigmoid(z0) -- same ranking, more positives
    z = (X1[:, 0] - 5.0) / 2.0
    near = np.abs(z) < 0.05
    assert y1[near].mean() == pytest.approx(1 / (1 + np.exp(-2.0)), abs=0.03)
    assert y0.mean() == pytest.approx(0.5, abs=0.01)


def test_regression_population() -> None:
    pop = LinearRegressionPopulation(coef=(2.0, 0.0), intercept=10.0, noise=0.5, coef_after=(-2.0, 0.0),
                                     concept=Schedule.step(2))
    X, y = pop.sample(0, 50_000, _rng(5))
    assert np.polyfit(X[:, 0], y, 1)[0] == pytest.approx(2.0, abs=0.02)
    X, y = pop.sample(2, 50_000, _rng(6))
    assert np.polyfit(X[:, 0], y, 1)[0] == pytest.approx(-2.0, abs=0.02)
    assert np.std(y - (10.0 - 2.0 * X[:, 0])) == pytest.approx(0.5, abs=0.01)
    spec = get("regression-drift")
    assert spec.label_text(3.25) == "3.25"
    assert spec.training_csv(np.zeros((1, 6)), np.array([1.5])) == "1.5,0.0,0.0,0.0,0.0,0.0,0.0\n"


def test_module_examples() -> None:
    import doctest

    from driftline_examples.scenarios import populations

    assert doctest.testmod(populations).failed == 0


def test_multiclass_prior_population_moves_the_priors_only() -> None:
    pop = MulticlassPriorPopulation(mus=((0.0, 0.0), (2.0, 0.0), (0.0, 2.0)), priors=(0.6, 0.3, 0.1),
                                    priors_after=(0.2, 0.3, 0.5), schedule=Schedule.step(3))
    X0, y0 = pop.sample(0, 30000, _rng(1))
    X1, y1 = pop.sample(3, 30000, _rng(2))
    assert np.bincount(y0, minlength=3) / y0.size == pytest.approx([0.6, 0.3, 0.1], abs=0.01)
    assert np.bincount(y1, minlength=3) / y1.size == pytest.approx([0.2, 0.3, 0.5], abs=0.01)
    for c, mu in enumerate(((0.0, 0.0), (2.0, 0.0), (0.0, 2.0))):  # P(x | y) unchanged
        assert X0[y0 == c].mean(axis=0) == pytest.approx(mu, abs=0.05)
        assert X1[y1 == c].mean(axis=0) == pytest.approx(mu, abs=0.05)
    with pytest.raises(ValueError, match="priors must be 3 positive numbers"):
        MulticlassPriorPopulation(mus=((0.0,), (1.0,), (2.0,)), priors=(0.5, 0.5)).sample(0, 10, _rng())

