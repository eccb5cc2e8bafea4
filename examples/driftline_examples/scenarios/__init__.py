"""Scenarios: pluggable populations, models and correct decisions; the suite that measures decision quality.

- :mod:`.base`: the API — :class:`Scenario`, :class:`Population`, :class:`Expectation`, :func:`register`;
- :mod:`.populations`: reusable populations (logistic, class-conditional, linear regression) and schedules;
- :mod:`.library`: the built-in scenarios (registered on import); :mod:`.example`: the demo's population;
- :mod:`.scoring`: the suite's measures on a day-by-day timeline (pure functions);
- :mod:`.runner`: plays scenarios on the offline stack; ``python -m driftline_examples.scenarios`` (``make
  scenarios``) prints the table and writes ``build/scenarios/results.json``.
"""

from .base import (
    DayTraffic,
    Expectation,
    Feature,
    ModelSpec,
    Population,
    Scenario,
    classifier,
    get,
    load_module,
    multiclass,
    register,
    registered,
    regressor,
)

__all__ = [
    "DayTraffic",
    "Expectation",
    "Feature",
    "ModelSpec",
    "Population",
    "Scenario",
    "classifier",
    "get",
    "load_module",
    "multiclass",
    "register",
    "registered",
    "regressor",
]
