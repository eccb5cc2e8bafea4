"""Reusable true populations for scenarios: each draws ``(X, y)`` for a day from parameters that move over time.

A :class:`Schedule` says how far a change has gone on a day (0 = the initial population, 1 = the changed one):
a step, a linear ramp, or an alternation between the two (recurring/seasonal drift). Each population
interpolates its "before" and "after" parameters with its schedules:

- :class:`LogisticPopulation` (binary): Gaussian numeric features, ``P(y=1|x) = sigmoid(b + w . z)`` with ``z``
  the features standardised by the *initial* population. Concept drift moves ``w``/``b``; covariate drift moves
  the features' means (in standard deviations), also of features the label does not depend on (``w_j = 0``).
- :class:`ClassConditionalPopulation` (binary): ``y ~ Bernoulli(prior)``, ``x | y ~ N(mu_y, diag(std^2))``. The
  prior can move while ``P(x | y)`` stays exactly the same (label-prior shift).
- :class:`MulticlassPriorPopulation` (multiclass): the same with ``k`` classes and a vector of priors.
- :class:`LinearRegressionPopulation` (regression): ``y = b + w . z + noise``; ``w``, ``b`` and the noise move.

Example
-------
>>> pop = LogisticPopulation(coef=(1.0, -1.0), coef_after=(1.0, 1.0), concept=Schedule.step(5))
>>> X, y = pop.sample(6, 4, np.random.default_rng(0))
>>> X.shape, sorted(set(y.tolist())) <= [0, 1]
((4, 2), True)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np


@dataclass(frozen=True)
class Schedule:
    """How far a change has gone on a day, in ``[0, 1]``.

    ``never``: always 0; ``step``: 1 from ``start``; ``ramp``: linear from 0 on ``start - 1`` to 1 on
    ``start + length - 1``; ``alternate``: 0 for ``length`` days from day 0, then 1 for ``length`` days, then 0...
    (``start`` is ignored).
    """

    kind: Literal["never", "step", "ramp", "alternate"] = "never"
    start: int = 0
    length: int = 1

    def __post_init__(self) -> None:
        if self.start < 0 or self.length < 1:
            raise ValueError(f"schedule needs start >= 0 and length >= 1, got {self.start}, {self.length}")

    @classmethod
    def never(cls) -> Schedule:
        return cls("never")

    @classmethod
    def step(cls, start: int) -> Schedule:
        return cls("step", start)

    @classmethod
    def ramp(cls, start: int, length: int) -> Schedule:
        return cls("ramp", start, length)

    @classmethod
    def alternate(cls, period: int) -> Schedule:
        return cls("alternate", 0, period)

    def __call__(self, day: int) -> float:
        if self.kind == "never" or (self.kind in ("step", "ramp") and day < self.start):
            return 0.0
        if self.kind == "step":
            return 1.0
        if self.kind == "ramp":
            return min(1.0, (day - self.start + 1) / self.length)
        return float((day // self.length) % 2)


def _mix(before: Sequence[float], after: Sequence[float] | None, frac: float) -> np.ndarray:
    a = np.asarray(before, dtype=np.float64)
    if after is None:
        return a
    b = np.asarray(after, dtype=np.float64)
    if b.shape != a.shape:
        raise ValueError(f"before/after parameters differ in length: {a.shape} vs {b.shape}")
    return a + (b - a) * frac


def _sigmoid(t: np.ndarray) -> np.ndarray:
    return np.exp(-np.logaddexp(0.0, -t))


def _gaussian(means: Sequence[float] | None, stds: Sequence[float] | None, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The initial means and standard deviations of ``k`` Gaussian features (default 0 and 1)."""
    m = np.zeros(k) if means is None else np.asarray(means, dtype=np.float64)
    s = np.ones(k) if stds is None else np.asarray(stds, dtype=np.float64)
    if m.shape != (k,) or s.shape != (k,) or np.any(s <= 0):
        raise ValueError(f"means/stds must have {k} entries and stds must be > 0")
    return m, s


@dataclass(frozen=True)
class LogisticPopulation:
    """Binary labels from a logistic concept over Gaussian features; concept and covariate drift."""

    coef: tuple[float, ...] = (1.0,)
    intercept: float = 0.0
    coef_after: tuple[float, ...] | None = None
    intercept_after: float | None = None
    concept: Schedule = Schedule()
    #: per feature, the move of its mean in (initial) standard deviations when the covariate schedule is 1
    shift: tuple[float, ...] | None = None
    covariate: Schedule = Schedule()
    means: tuple[float, ...] | None = None
    stds: tuple[float, ...] | None = None

    def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.coef)
        means, stds = _gaussian(self.means, self.stds, k)
        shift = np.zeros(k) if self.shift is None else _mix((0.0,) * k, self.shift, self.covariate(day))
        z = rng.standard_normal((n, k)) + shift
        frac = self.concept(day)
        w = _mix(self.coef, self.coef_after, frac)
        b = float(_mix([self.intercept], None if self.intercept_after is None else [self.intercept_after], frac)[0])
        y = (rng.random(n) < _sigmoid(b + z @ w)).astype(np.int64)
        return means + stds * z, y


@dataclass(frozen=True)
class ClassConditionalPopulation:
    """``y ~ Bernoulli(prior(day))``, ``x | y ~ N(mu_y, diag(stds^2))``: the prior moves, ``P(x|y)`` does not."""

    mu0: tuple[float, ...] = (0.0,)
    mu1: tuple[float, ...] = (1.0,)
    prior: float = 0.2
    prior_after: float | None = None
    schedule: Schedule = Schedule()
    means: tuple[float, ...] | None = None
    stds: tuple[float, ...] | None = None

    def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.mu0)
        if len(self.mu1) != k:
            raise ValueError("mu0 and mu1 must have the same length")
        _, stds = _gaussian(self.means, self.stds, k)
        after = self.prior if self.prior_after is None else self.prior_after
        p = self.prior + (after - self.prior) * self.schedule(day)
        if not 0.0 < p < 1.0:
            raise ValueError(f"the prior must stay in (0, 1), got {p}")
        y = (rng.random(n) < p).astype(np.int64)
        centres = np.where(y[:, None] == 1, np.asarray(self.mu1), np.asarray(self.mu0))
        return centres + stds * rng.standard_normal((n, k)), y


@dataclass(frozen=True)
class MulticlassPriorPopulation:
    """Labels ``0 .. k-1`` with ``y ~ Categorical(priors(day))``, ``x | y ~ N(mus[y], diag(stds^2))``: the class
    priors move (a multiclass label-prior shift), ``P(x | y)`` does not."""

    mus: tuple[tuple[float, ...], ...] = ((0.0,), (1.0,))
    priors: tuple[float, ...] = (0.5, 0.5)
    priors_after: tuple[float, ...] | None = None
    schedule: Schedule = Schedule()
    means: tuple[float, ...] | None = None
    stds: tuple[float, ...] | None = None

    def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        mus = np.asarray(self.mus, dtype=np.float64)
        classes, k = mus.shape
        p = _mix(self.priors, self.priors_after, self.schedule(day))
        if p.size != classes or np.any(p <= 0) or abs(float(p.sum()) - 1.0) > 1e-9:
            raise ValueError(f"the priors must be {classes} positive numbers summing to 1, got {p.tolist()}")
        _, stds = _gaussian(self.means, self.stds, k)
        y = rng.choice(classes, size=n, p=p / p.sum()).astype(np.int64)
        return mus[y] + stds * rng.standard_normal((n, k)), y


@dataclass(frozen=True)
class LinearRegressionPopulation:
    """``y = b + w . z + noise`` over Gaussian features (``z`` standardised by the initial population)."""

    coef: tuple[float, ...] = (1.0,)
    intercept: float = 0.0
    noise: float = 1.0
    coef_after: tuple[float, ...] | None = None
    intercept_after: float | None = None
    noise_after: float | None = None
    concept: Schedule = Schedule()
    shift: tuple[float, ...] | None = None
    covariate: Schedule = Schedule()
    means: tuple[float, ...] | None = None
    stds: tuple[float, ...] | None = None

    def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        k = len(self.coef)
        means, stds = _gaussian(self.means, self.stds, k)
        shift = np.zeros(k) if self.shift is None else _mix((0.0,) * k, self.shift, self.covariate(day))
        z = rng.standard_normal((n, k)) + shift
        frac = self.concept(day)
        w = _mix(self.coef, self.coef_after, frac)
        b = self.intercept + ((self.intercept_after if self.intercept_after is not None else self.intercept)
                              - self.intercept) * frac
        sd = self.noise + ((self.noise_after if self.noise_after is not None else self.noise) - self.noise) * frac
        y = b + z @ w + sd * rng.standard_normal(n)
        return means + stds * z, y


@dataclass(frozen=True)
class SoftmaxPopulation:
    """Multiclass labels ``0 .. k-1``: ``P(y=c|x) = softmax(b + z W)[c]`` over Gaussian features; ``W`` and ``b`` move.

    ``coef`` is one row per feature, one column per class.
    """

    coef: tuple[tuple[float, ...], ...] = ((1.0, -1.0),)
    intercept: tuple[float, ...] | None = None
    coef_after: tuple[tuple[float, ...], ...] | None = None
    concept: Schedule = Schedule()
    means: tuple[float, ...] | None = None
    stds: tuple[float, ...] | None = None

    def sample(self, day: int, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        W0 = np.asarray(self.coef, dtype=np.float64)
        k, classes = W0.shape
        means, stds = _gaussian(self.means, self.stds, k)
        W = W0 if self.coef_after is None else W0 + (np.asarray(self.coef_after) - W0) * self.concept(day)
        if W.shape != W0.shape:
            raise ValueError("coef and coef_after must have the same shape")
        b = np.zeros(classes) if self.intercept is None else np.asarray(self.intercept, dtype=np.float64)
        z = rng.standard_normal((n, k))
        t = b + z @ W
        P = np.exp(t - t.max(axis=1, keepdims=True))
        cdf = np.cumsum(P / P.sum(axis=1, keepdims=True), axis=1)
        y = np.minimum((rng.random(n)[:, None] > cdf).sum(axis=1), classes - 1).astype(np.int64)
        return means + stds * z, y
