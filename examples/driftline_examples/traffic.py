"""Deterministic traffic for the demo: a true concept, covariate and concept drift, SageMaker file formats.

Features ``f0 .. f{k-1}``: numeric features drawn from normal distributions, plus categorical features
(by default the last one) carried as integer codes ``0 .. n_categories-1``. The label is drawn from the
true concept ``P(y=1 | x) = sigmoid(b + sum_j w_j z_j + gamma z_0 z_1 + a sin(2 z_2) + c[code])`` where
``z`` are the numeric features standardised with the *undrifted* distribution: the interaction and the
sine are what a linear model cannot capture, so moving the inputs (covariate drift) hurts it too.

Every draw comes from ``SeedSequence([seed, stream, day])`` in a fixed order, so a day's traffic depends
only on the seed and the day: the ``stable`` and ``drift`` scenarios see the *same* underlying draws, and
they are identical before the drift starts.

File formats follow SageMaker: Data Capture JSON Lines (``captureData.endpointInput/endpointOutput``,
``eventMetadata``, ``eventVersion``) under ``{prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/``, and Model
Monitor ground-truth JSON Lines (``groundTruthData``, ``eventMetadata.eventId`` = the inference id) under
``{prefix}/yyyy/mm/dd/hh/``. This module builds keys and bodies only; uploading is the caller's job.

Example
-------
>>> X, y, ids = day(3, 5, DRIFT)
>>> X.shape, y.shape, ids[0]
((5, 6), (5,), 'drift-d003-000000')
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

#: Day 0 of the simulated calendar (UTC midnight).
ORIGIN = datetime(2026, 1, 5, tzinfo=UTC)
_STREAM_PARAMS, _STREAM_TRAIN, _STREAM_DAY, _STREAM_EVENTS = 0, 1, 2, 3


# --------------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CovariateDrift:
    """Move the inputs: from ``start_day``, ramping linearly over ``ramp_days`` days.

    Numeric features get ``mean += shift * std`` and ``std *= scale``; categorical features get their
    category probabilities tilted towards the higher codes by ``shift`` (towards lower codes if negative).
    """

    features: tuple[int, ...]
    start_day: int
    shift: float = 1.5
    scale: float = 1.0
    ramp_days: int = 1


@dataclass(frozen=True)
class ConceptDrift:
    """Change the true relationship: from ``start_day`` (ramping), ``w_j`` becomes ``factor_j * w_j``."""

    coefficient_factors: Mapping[int, float]
    start_day: int
    ramp_days: int = 1


@dataclass(frozen=True)
class Scenario:
    """A named traffic scenario; no drift at all when both parts are ``None``."""

    name: str
    covariate: CovariateDrift | None = None
    concept: ConceptDrift | None = None


@dataclass(frozen=True)
class TrafficConfig:
    """The population: feature count, which ones are categorical, and the seed of everything."""

    n_features: int = 6
    categorical: tuple[int, ...] = (5,)
    n_categories: int = 4
    seed: int = 20260105
    feature_names: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if self.n_features < 3:
            raise ValueError(f"n_features must be >= 3 (the concept uses f0, f1, f2), got {self.n_features}")
        if any(not 0 <= j < self.n_features for j in self.categorical):
            raise ValueError(f"categorical indices {self.categorical} out of range for {self.n_features} features")
        if len(self.numeric) < 3:
            raise ValueError("at least 3 numeric features are needed")
        if self.n_categories < 2:
            raise ValueError(f"n_categories must be >= 2, got {self.n_categories}")
        if not self.feature_names:
            object.__setattr__(self, "feature_names", tuple(f"f{j}" for j in range(self.n_features)))
        elif len(self.feature_names) != self.n_features:
            raise ValueError("feature_names must have n_features names")

    @property
    def numeric(self) -> tuple[int, ...]:
        return tuple(j for j in range(self.n_features) if j not in self.categorical)


DEFAULT_CONFIG = TrafficConfig()
#: Same traffic, no drift: the model should never be retrained.
STABLE = Scenario("stable")
#: Drift from day 7, ramping over 3 days: f2 and f4 move by one standard deviation and spread by 30 %,
#: the categories of f5 even out, the effect of f1 flips and that of f0 drops to 30 %. A model trained
#: before the drift falls from ROC AUC ~0.87 to ~0.70; one retrained on drifted days gets back to ~0.86.
DRIFT = Scenario(
    "drift",
    covariate=CovariateDrift(features=(2, 4, 5), start_day=7, shift=1.0, scale=1.3, ramp_days=3),
    concept=ConceptDrift(coefficient_factors={1: -1.0, 0: 0.3}, start_day=7, ramp_days=3),
)
SCENARIOS = {scenario.name: scenario for scenario in (STABLE, DRIFT)}


class Concept(NamedTuple):
    """Parameters of the population and of the true concept (derived from the seed)."""

    means: np.ndarray  # per numeric feature
    stds: np.ndarray
    category_probs: np.ndarray  # per category
    intercept: float
    coef: np.ndarray  # per numeric feature
    interaction: float  # on z0 * z1
    sine: float  # on sin(2 z2)
    category_effects: np.ndarray  # per category


class DayTraffic(NamedTuple):
    """One day of traffic: features, true labels and the inference ids of the requests."""

    X: np.ndarray
    y: np.ndarray
    inference_ids: list[str]


def _rng(config: TrafficConfig, stream: int, index: int) -> np.random.Generator:
    if index < 0:
        raise ValueError(f"day/replicate index must be >= 0, got {index}")
    return np.random.default_rng(np.random.SeedSequence([config.seed, stream, index]))


def concept(config: TrafficConfig = DEFAULT_CONFIG) -> Concept:
    """The population and the undrifted true concept."""
    rng = _rng(config, _STREAM_PARAMS, 0)
    m = len(config.numeric)
    raw = np.linspace(1.0, -1.0, config.n_categories)
    probs = np.exp(raw) / np.exp(raw).sum()
    coef = rng.normal(0.0, 1.0, m)
    coef[:3] = [1.4, -1.1, 0.8]  # the features the drift presets touch have clear effects
    return Concept(
        means=rng.uniform(-1.0, 3.0, m),
        stds=rng.uniform(0.5, 2.0, m),
        category_probs=probs,
        intercept=-0.3,
        coef=coef,
        interaction=0.9,
        sine=0.7,
        category_effects=np.linspace(-0.8, 0.8, config.n_categories)[rng.permutation(config.n_categories)],
    )


def _fraction(start_day: int, ramp_days: int, d: int) -> float:
    if d < start_day:
        return 0.0
    return min(1.0, (d - start_day + 1) / max(1, ramp_days))


def _draw(rng: np.random.Generator, n: int, config: TrafficConfig, c: Concept,
          drift: CovariateDrift | None, d: int) -> tuple[np.ndarray, np.ndarray]:
    """Features and the standardised numeric matrix z (relative to the undrifted population)."""
    numeric = config.numeric
    normals = rng.standard_normal((n, len(numeric)))
    uniforms = rng.random((n, len(config.categorical)))
    shift = np.zeros(config.n_features)
    scale = np.ones(config.n_features)
    if drift is not None:
        frac = _fraction(drift.start_day, drift.ramp_days, d)
        for j in drift.features:
            if not 0 <= j < config.n_features:
                raise ValueError(f"covariate drift on feature {j}, the traffic has {config.n_features}")
            shift[j] = drift.shift * frac
            scale[j] = 1.0 + (drift.scale - 1.0) * frac
    X = np.empty((n, config.n_features))
    z = normals * scale[list(numeric)] + shift[list(numeric)]
    X[:, list(numeric)] = c.means + c.stds * z
    positions = np.linspace(-1.0, 1.0, config.n_categories)
    for column, j in enumerate(config.categorical):
        probs = c.category_probs * np.exp(shift[j] * positions)
        cdf = np.cumsum(probs / probs.sum())
        X[:, j] = np.minimum(np.searchsorted(cdf, uniforms[:, column], side="right"), config.n_categories - 1)
    return X, z


def true_probability(X: np.ndarray, d: int, scenario: Scenario = STABLE, *,
                     config: TrafficConfig = DEFAULT_CONFIG) -> np.ndarray:
    """``P(y = 1 | x)`` on day ``d`` of ``scenario`` (the concept drift applies from its start day)."""
    c = concept(config)
    X = np.asarray(X, dtype=np.float64)
    z = (X[:, list(config.numeric)] - c.means) / c.stds
    coef = c.coef.copy()
    if scenario.concept is not None:
        frac = _fraction(scenario.concept.start_day, scenario.concept.ramp_days, d)
        for j, factor in scenario.concept.coefficient_factors.items():
            if j not in config.numeric:
                raise ValueError(f"concept drift on feature {j}: only numeric features have coefficients")
            position = config.numeric.index(j)
            coef[position] *= 1.0 + (factor - 1.0) * frac
    t = c.intercept + z @ coef + c.interaction * z[:, 0] * z[:, 1] + c.sine * np.sin(2.0 * z[:, 2])
    for j in config.categorical:
        t = t + c.category_effects[X[:, j].astype(np.int64)]
    return np.exp(-np.logaddexp(0.0, -t))


def _sample(rng: np.random.Generator, n: int, d: int, scenario: Scenario,
            config: TrafficConfig) -> tuple[np.ndarray, np.ndarray]:
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    c = concept(config)
    X, _ = _draw(rng, n, config, c, scenario.covariate, d)
    u = rng.random(n)
    y = (u < true_probability(X, d, scenario, config=config)).astype(np.int64)
    return X, y


def sample(rng: np.random.Generator, n: int, d: int, scenario: Scenario = STABLE,
           config: TrafficConfig = DEFAULT_CONFIG) -> tuple[np.ndarray, np.ndarray]:
    """``n`` labelled rows of day ``d`` of ``scenario`` drawn with ``rng`` (what :func:`day` draws with its stream).

    The hook of :class:`driftline_examples.scenarios.example.ExamplePopulation`: the same population behind the
    scenario API.
    """
    return _sample(rng, n, d, scenario, config)


def training_set(n: int, *, replicate: int = 0, config: TrafficConfig = DEFAULT_CONFIG,
                 scenario: Scenario = STABLE, as_of_day: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A labelled training set from the population as it is on ``as_of_day`` of ``scenario``.

    Independent of the daily traffic (its own random stream); ``replicate`` gives further independent sets.
    """
    rng = _rng(config, _STREAM_TRAIN, replicate)
    return _sample(rng, n, as_of_day, scenario, config)


def day(d: int, n: int, scenario: Scenario = STABLE, *, config: TrafficConfig = DEFAULT_CONFIG) -> DayTraffic:
    """Day ``d`` of traffic: ``n`` requests with their true labels and inference ids."""
    rng = _rng(config, _STREAM_DAY, d)
    X, y = _sample(rng, n, d, scenario, config)
    ids = [f"{scenario.name}-d{d:03d}-{i:06d}" for i in range(n)]
    return DayTraffic(X, y, ids)


# --------------------------------------------------------------------------------------------------------
# CSV
# --------------------------------------------------------------------------------------------------------
def _cell(value: float, categorical: bool) -> str:
    return str(int(value)) if categorical else repr(float(value))


def features_to_csv_row(row: Sequence[float], *, config: TrafficConfig = DEFAULT_CONFIG) -> str:
    """One request body: the features of one row, categorical codes as integers, no label."""
    return ",".join(_cell(v, j in config.categorical) for j, v in enumerate(row))


def to_training_csv(X: np.ndarray, y: np.ndarray, *, config: TrafficConfig = DEFAULT_CONFIG) -> str:
    """Training CSV as SageMaker's built-in algorithms expect it: label first, no header."""
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be 2-D and y must have one label per row, got {X.shape} and {y.shape}")
    return "".join(f"{int(label)},{features_to_csv_row(row, config=config)}\n" for row, label in zip(X, y, strict=True))


# --------------------------------------------------------------------------------------------------------
# SageMaker Data Capture and ground truth
# --------------------------------------------------------------------------------------------------------
def day_start(d: int, origin: datetime = ORIGIN) -> datetime:
    """UTC midnight of simulated day ``d``."""
    return origin + timedelta(days=d)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def capture_records(X: np.ndarray, probabilities: Sequence[float], inference_ids: Sequence[str], *,
                    d: int, origin: datetime = ORIGIN,
                    config: TrafficConfig = DEFAULT_CONFIG) -> list[dict[str, Any]]:
    """Data Capture records of day ``d``: requests spread evenly over the day, deterministic event ids."""
    X = np.asarray(X, dtype=np.float64)
    probabilities = np.asarray(probabilities, dtype=np.float64).ravel()
    if not (X.shape[0] == probabilities.size == len(inference_ids)):
        raise ValueError(
            f"need one prediction and one inference id per row: {X.shape[0]} rows, "
            f"{probabilities.size} predictions, {len(inference_ids)} ids"
        )
    rng = _rng(config, _STREAM_EVENTS, d)
    start = day_start(d, origin)
    step = 86400.0 / max(1, X.shape[0])
    records = []
    for i, (row, p, inference_id) in enumerate(zip(X, probabilities, inference_ids, strict=True)):
        event_id = uuid.UUID(bytes=rng.bytes(16), version=4)
        records.append({
            "captureData": {
                "endpointInput": {
                    "observedContentType": "text/csv",
                    "mode": "INPUT",
                    "data": features_to_csv_row(row, config=config),
                    "encoding": "CSV",
                },
                "endpointOutput": {
                    "observedContentType": "text/csv; charset=utf-8",
                    "mode": "OUTPUT",
                    "data": repr(float(p)),
                    "encoding": "CSV",
                },
            },
            "eventMetadata": {
                "eventId": str(event_id),
                "inferenceId": str(inference_id),
                "inferenceTime": _iso(start + timedelta(seconds=i * step)),
            },
            "eventVersion": "0",
        })
    return records


def ground_truth_records(y: Sequence[int] | Sequence[str], inference_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Model Monitor ground-truth records; ``eventId`` carries the inference id of the captured request.

    Integer labels are written as their integer; string labels (class names, regression targets) as they are.
    """
    if len(y) != len(inference_ids):
        raise ValueError(f"need one label per inference id: {len(y)} labels, {len(inference_ids)} ids")
    return [
        {"groundTruthData": {"data": label if isinstance(label, str) else str(int(label)), "encoding": "CSV"},
         "eventMetadata": {"eventId": str(inference_id)}, "eventVersion": "0"}
        for label, inference_id in zip(y, inference_ids, strict=True)
    ]


#: text that ``json.dumps`` (ASCII output) writes as it is between two quotes
_PLAIN_JSON_TEXT = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")


def ground_truth_jsonl(y: Sequence[int] | Sequence[str], inference_ids: Sequence[str]) -> str:
    """``to_jsonl(ground_truth_records(y, inference_ids))``, the same text, without a dict per record.

    Labels and ids that need JSON escaping (quotes, backslashes, control or non-ASCII characters) take
    :func:`ground_truth_records`'s own path.
    """
    labels = [label if isinstance(label, str) else str(int(label)) for label in y]
    ids = [str(i) for i in inference_ids]
    if len(labels) != len(ids) or not _PLAIN_JSON_TEXT.fullmatch("".join(labels) + "".join(ids)):
        return to_jsonl(ground_truth_records(y, inference_ids))
    return "".join(f'{{"groundTruthData":{{"data":"{label}","encoding":"CSV"}},"eventMetadata":{{"eventId":"{i}"}},'
                   f'"eventVersion":"0"}}\n' for label, i in zip(labels, ids, strict=True))


def to_jsonl(records: Sequence[Mapping[str, Any]]) -> str:
    """JSON Lines: one compact JSON object per line."""
    return "".join(json.dumps(record, separators=(",", ":")) + "\n" for record in records)


def _hour_path(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y/%m/%d/%H")


def _file_name(when: datetime, token: str) -> str:
    when = when.astimezone(UTC)
    name = uuid.uuid5(uuid.NAMESPACE_URL, token)
    return f"{when:%M-%S}-{when.microsecond // 1000:03d}-{name}.jsonl"


def capture_key(prefix: str, endpoint: str, variant: str, when: datetime, filename: str | None = None) -> str:
    """``{prefix}/{endpoint}/{variant}/yyyy/mm/dd/hh/{file}.jsonl`` as SageMaker Data Capture writes it."""
    base = "/".join(part.strip("/") for part in (prefix, endpoint, variant) if part.strip("/"))
    filename = filename or _file_name(when, f"{base}/{_iso(when)}")
    return f"{base}/{_hour_path(when)}/{filename}"


def ground_truth_key(prefix: str, when: datetime, filename: str | None = None) -> str:
    """``{prefix}/yyyy/mm/dd/hh/{file}.jsonl``: the path format Model Monitor expects for ground truth."""
    base = prefix.strip("/")
    filename = filename or _file_name(when, f"{base}/{_iso(when)}")
    return f"{base}/{_hour_path(when)}/{filename}" if base else f"{_hour_path(when)}/{filename}"


def capture_files(records: Sequence[Mapping[str, Any]], *, prefix: str, endpoint: str,
                  variant: str = "AllTraffic") -> dict[str, str]:
    """Group capture records by the hour of their ``inferenceTime``: ``{s3 key: JSON Lines body}``."""
    by_hour: dict[str, list[Mapping[str, Any]]] = {}
    first: dict[str, datetime] = {}
    for record in records:
        when = datetime.strptime(record["eventMetadata"]["inferenceTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        hour = _hour_path(when)
        by_hour.setdefault(hour, []).append(record)
        first.setdefault(hour, when)
    return {capture_key(prefix, endpoint, variant, first[hour]): to_jsonl(group) for hour, group in by_hour.items()}


def ground_truth_files(records: Sequence[Mapping[str, Any]], *, prefix: str, when: datetime) -> dict[str, str]:
    """All ground-truth records of one upload at ``when``: ``{s3 key: JSON Lines body}``."""
    return {ground_truth_key(prefix, when): to_jsonl(records)} if records else {}


def write_files(root: str | Path, files: Mapping[str, str]) -> list[Path]:
    """Write ``{key: body}`` under a local directory (a stand-in bucket); returns the paths written."""
    written = []
    for key, body in files.items():
        path = Path(root) / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body, encoding="utf-8")
        written.append(path)
    return written
