"""The scenario API: a population that may change day by day, the model that learns it, and the correct decision.

A :class:`Scenario` is everything the offline stack needs to play a model's life, and everything the suite
needs to judge the decisions Driftline took:

- the problem (``binary``, ``multiclass`` or ``regression``), the feature schema and the class labels;
- a :class:`Population`: ``sample(day, n, rng) -> (X, y)`` draws ``n`` labelled rows from the true population
  of simulated day ``day`` (features as floats, categorical features as integer codes; labels as integers for
  classification, floats for regression). The population may change with the day in any way;
- the model: a script-mode source directory (``train.py`` / ``inference.py`` following the champion/challenger
  contract of the README) and its hyperparameters (:class:`ModelSpec`);
- overrides of the model config (thresholds, retrain policy, promotion rule, drift settings) merged into the
  defaults of :func:`driftline_offline.scenario.model_config`;
- what a correct decision is (:class:`Expectation`): the days on which a retrain is correct (none for a
  population that does not change in a way that matters), how many other retrain attempts are tolerated,
  the largest acceptable detection delay and the most days the model may serve below its thresholds.

Every random draw comes from ``SeedSequence([seed, stream, index])``: a day's traffic, the oracle sample of a
day (a large fresh sample of the same true population, used to judge decisions) and the training set are
independent streams, so the suite is reproducible from ``--seed`` alone.

Adding a scenario is writing one module that calls :func:`register` (see ``docs/scenarios.md``)::

    from driftline_examples.scenarios import Expectation, Feature, Scenario, register, classifier
    from driftline_examples.scenarios.populations import LogisticPopulation, Schedule

    register(Scenario(
        name="my-drift", description="the effect of f1 flips on day 6",
        features=tuple(Feature(f"f{j}") for j in range(4)),
        population=LogisticPopulation(coef=(1.0, -1.0, 0.5, 0.0), coef_schedule=Schedule.step(6, (1.0, 1.0, 0.5, 0.0))),
        model=classifier(), expected=Expectation(retrain_windows=((6, 15),), statement="retrain soon after day 6"),
    ))

and running ``python -m driftline_examples.scenarios --module my_package.my_scenarios --only my-drift``.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

import numpy as np

ProblemType = Literal["binary", "multiclass", "regression"]

#: Random streams of a scenario (the traffic streams agree with :mod:`driftline_examples.traffic`).
STREAM_TRAIN, STREAM_DAY, STREAM_ORACLE = 1, 2, 4
EXAMPLES_DIR = Path(__file__).resolve().parents[1]


@runtime_checkable
class Population(Protocol):
    """A true population that may change over the simulated days."""

    def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` rows of day ``day``: features ``(n, k)`` and labels ``(n,)``."""
        ...


@dataclass(frozen=True)
class Feature:
    """One input column, in the order of the model's CSV input."""

    name: str
    type: Literal["numeric", "categorical"] = "numeric"


@dataclass(frozen=True)
class ModelSpec:
    """The training/inference scripts (SageMaker script mode) and the hyperparameters of every training job."""

    source_dir: Path
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    entry_point: str = "train.py"
    inference_program: str = "inference.py"


def classifier(features: Iterable[Feature] = (), *, l2: float = 1.0) -> ModelSpec:
    """The bundled numpy logistic regression (``examples/driftline_examples/classifier``)."""
    categorical = ",".join(str(j) for j, f in enumerate(features) if f.type == "categorical")
    hps = {"l2": repr(float(l2))}
    if categorical:
        hps["categorical"] = categorical
    return ModelSpec(EXAMPLES_DIR / "classifier", hps)


def regressor(features: Iterable[Feature] = (), *, l2: float = 1.0) -> ModelSpec:
    """The bundled numpy ridge regression (``examples/driftline_examples/regressor``)."""
    categorical = ",".join(str(j) for j, f in enumerate(features) if f.type == "categorical")
    hps = {"l2": repr(float(l2))}
    if categorical:
        hps["categorical"] = categorical
    return ModelSpec(EXAMPLES_DIR / "regressor", hps)


def multiclass(features: Iterable[Feature] = (), *, classes: int, l2: float = 1.0) -> ModelSpec:
    """The bundled numpy softmax regression (``examples/driftline_examples/multiclass``); labels ``"0".."k-1"``."""
    categorical = ",".join(str(j) for j, f in enumerate(features) if f.type == "categorical")
    hps = {"l2": repr(float(l2)), "classes": str(int(classes))}
    if categorical:
        hps["categorical"] = categorical
    return ModelSpec(EXAMPLES_DIR / "multiclass", hps)


@dataclass(frozen=True)
class Expectation:
    """What a correct decision is, in checkable form.

    ``retrain_windows``: inclusive ``(first_day, last_day)`` ranges in which a retrain is correct; empty when
    the correct decision is never to retrain. A retrain outside them is a *false retrain*; up to
    ``tolerated_retrains`` of those still pass (e.g. one attempt on drift that turns out not to hurt).
    ``max_delay``: the most windows between the model breaching on the true population and the retrain
    decision; ``max_days_below``: the most days the model may serve below a threshold on the true population
    (``None``: not judged).
    """

    statement: str
    retrain_windows: tuple[tuple[int, int], ...] = ()
    tolerated_retrains: int = 0
    max_delay: int | None = 2
    max_days_below: int | None = None

    def __post_init__(self) -> None:
        for first, last in self.retrain_windows:
            if not 0 <= first <= last:
                raise ValueError(f"retrain window ({first}, {last}) must satisfy 0 <= first <= last")
        if self.tolerated_retrains < 0:
            raise ValueError(f"tolerated_retrains must be >= 0, got {self.tolerated_retrains}")

    @property
    def retrain_expected(self) -> bool:
        return bool(self.retrain_windows)

    def retrain_correct_on(self, day: int) -> bool:
        return any(first <= day <= last for first, last in self.retrain_windows)


class DayTraffic(NamedTuple):
    """One day of traffic: features, true labels and the inference ids of the requests."""

    X: np.ndarray
    y: np.ndarray
    inference_ids: list[str]


@dataclass(frozen=True)
class Scenario:
    """A model's population over ``days`` simulated days, its model, its config and its correct decision."""

    name: str
    description: str
    features: tuple[Feature, ...]
    population: Population
    model: ModelSpec
    expected: Expectation
    problem_type: ProblemType = "binary"
    #: classification labels in score order (the positive one last for binary)
    labels: tuple[str, ...] = ("0", "1")
    #: overrides of the model config (camelCase, as ``PUT /models/{id}`` takes it), merged one level deep
    config: Mapping[str, Any] = field(default_factory=dict)
    days: int = 16
    rows_per_day: int = 1500
    n_train: int = 4000
    #: the day whose population the champion is trained on
    train_day: int = 0
    oracle_rows: int = 20000
    seed: int = 20260105
    model_id: str = "example-classifier"

    def __post_init__(self) -> None:
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise ValueError(f"scenario name must be [A-Za-z0-9_-]+, got {self.name!r}")
        if not isinstance(self.population, Population):
            raise TypeError(f"scenario {self.name}: population must have sample(day, n, rng), "
                            f"got {type(self.population).__name__}")
        if not self.features:
            raise ValueError(f"scenario {self.name}: at least one feature is needed")
        if self.problem_type != "regression" and len(self.labels) < 2:
            raise ValueError(f"scenario {self.name}: a classifier needs at least two labels")
        if self.days < 2 or self.rows_per_day < 1 or self.n_train < 10 or self.oracle_rows < 100:
            raise ValueError(f"scenario {self.name}: days >= 2, rows_per_day >= 1, n_train >= 10 and "
                             "oracle_rows >= 100 are needed")

    # -- derived -----------------------------------------------------------------------------------
    @property
    def categorical(self) -> tuple[int, ...]:
        return tuple(j for j, f in enumerate(self.features) if f.type == "categorical")

    @property
    def endpoint_name(self) -> str:
        return f"driftline-{self.model_id}"

    def rng(self, stream: int, index: int) -> np.random.Generator:
        if index < 0:
            raise ValueError(f"day/replicate index must be >= 0, got {index}")
        return np.random.default_rng(np.random.SeedSequence([self.seed, stream, index]))

    def _checked(self, X: np.ndarray, y: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.shape != (n, len(self.features)) or y.shape != (n,):
            raise ValueError(f"scenario {self.name}: the population returned X{X.shape} and y{y.shape}, "
                             f"expected ({n}, {len(self.features)}) and ({n},)")
        return X, y

    # -- draws -------------------------------------------------------------------------------------
    def day(self, d: int, n: int | None = None) -> DayTraffic:
        """Day ``d``'s traffic: ``n`` (default ``rows_per_day``) requests with their true labels."""
        n = self.rows_per_day if n is None else n
        X, y = self._checked(*self.population.sample(d, n, self.rng(STREAM_DAY, d)), n)
        return DayTraffic(X, y, [f"{self.name}-d{d:03d}-{i:06d}" for i in range(n)])

    def oracle(self, d: int, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """A large fresh sample of day ``d``'s true population (its own stream): the yardstick of decisions."""
        n = self.oracle_rows if n is None else n
        return self._checked(*self.population.sample(d, n, self.rng(STREAM_ORACLE, d)), n)

    def training_set(self, n: int | None = None, *, replicate: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """The champion's training set: ``n`` rows of the population of ``train_day``."""
        n = self.n_train if n is None else n
        return self._checked(*self.population.sample(self.train_day, n, self.rng(STREAM_TRAIN, replicate)), n)

    # -- formats -----------------------------------------------------------------------------------
    def label_text(self, value: Any) -> str:
        """A label as the ground truth and the training CSV carry it."""
        if self.problem_type == "regression":
            return repr(float(value))
        return self.labels[int(value)]

    def csv_row(self, row: Iterable[float]) -> str:
        """One request body line: the features, categorical codes as integers, no label."""
        cat = set(self.categorical)
        return ",".join(str(int(v)) if j in cat else repr(float(v)) for j, v in enumerate(row))

    def training_csv(self, X: np.ndarray, y: np.ndarray) -> str:
        """Label first, no header (SageMaker's CSV convention)."""
        return "".join(f"{self.label_text(label)},{self.csv_row(row)}\n" for row, label in zip(X, y, strict=True))


# ------------------------------------------------------------------------------------------------ registry
_REGISTRY: dict[str, Scenario] = {}


def register(scenario: Scenario) -> Scenario:
    """Add a scenario to the suite (returns it, so it can be used as ``X = register(Scenario(...))``)."""
    if not isinstance(scenario, Scenario):
        raise TypeError(f"register() takes a Scenario, got {type(scenario).__name__}")
    existing = _REGISTRY.get(scenario.name)
    if existing is not None and existing != scenario:
        raise ValueError(f"a different scenario named {scenario.name!r} is already registered")
    _REGISTRY[scenario.name] = scenario
    return scenario


def load_module(name: str) -> None:
    """Import a module that registers scenarios (``--module`` of the suite's command line)."""
    importlib.import_module(name)


def registered(*, builtin: bool = True) -> dict[str, Scenario]:
    """Every registered scenario by name (the built-in library first when ``builtin``)."""
    if builtin:
        importlib.import_module("driftline_examples.scenarios.library")
    return dict(_REGISTRY)


def get(name: str) -> Scenario:
    scenarios = registered()
    if name not in scenarios:
        raise KeyError(f"no scenario named {name!r}; registered: {', '.join(sorted(scenarios))}")
    return scenarios[name]
