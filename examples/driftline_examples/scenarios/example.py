"""The demo's example population (:mod:`driftline_examples.traffic`) as a :class:`Scenario`.

:func:`from_traffic` wraps ``traffic.STABLE``/``traffic.DRIFT`` (or any ``traffic.Scenario``) so that the offline
stack's :func:`~driftline_offline.scenario.seed_example` takes the demo's traffic and any other scenario the same
way. The draws and the inference ids are exactly those of :func:`driftline_examples.traffic.day` and
:func:`~driftline_examples.traffic.training_set`: the seed and the random streams agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import traffic
from .base import Expectation, Feature, Scenario, classifier

__all__ = ["ExamplePopulation", "from_traffic"]


@dataclass(frozen=True)
class ExamplePopulation:
    """The demo's population (:mod:`driftline_examples.traffic`) behind the :class:`Population` protocol."""

    scenario: traffic.Scenario
    config: traffic.TrafficConfig = traffic.DEFAULT_CONFIG

    def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        return traffic.sample(rng, n, day, self.scenario, self.config)


def from_traffic(scenario: traffic.Scenario, *, config: traffic.TrafficConfig = traffic.DEFAULT_CONFIG,
                 days: int = 16, rows_per_day: int = 1500) -> Scenario:
    """The demo's ``stable``/``drift`` traffic as a :class:`Scenario` (same draws, same inference ids)."""
    features = tuple(Feature(name, "categorical" if j in config.categorical else "numeric")
                     for j, name in enumerate(config.feature_names))
    drift_day = min((part.start_day for part in (scenario.covariate, scenario.concept) if part is not None),
                    default=None)
    expected = (Expectation("no drift: never retrain") if drift_day is None else
                Expectation(f"drift from day {drift_day}: retrain soon after", retrain_windows=((drift_day, days),)))
    return Scenario(name=scenario.name, description="the demo's example population (driftline_examples.traffic)",
                    features=features, population=ExamplePopulation(scenario, config), model=classifier(features),
                    expected=expected, days=days, rows_per_day=rows_per_day, seed=config.seed)
