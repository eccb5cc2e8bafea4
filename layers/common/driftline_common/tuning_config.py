"""``training.tuning``: SageMaker automatic model tuning on retrain (docs/tuning.md).

Optional per model. When set, the retrain is a ``CreateHyperParameterTuningJob`` whose best training job becomes
the challenger; without it, the retrain is the one training job it always was. Validated with the rest of the
config (``PUT /models/{id}``, ``driftline validate``, every run): a search SageMaker would refuse, or one that
cannot produce an objective value, is a 400 naming the field, never a silent fallback to fixed hyperparameters.

Limits and rules are SageMaker's (botocore's service model and the ``HyperParameterTuningJobConfig`` reference):
``MaxParallelTrainingJobs`` at most ``MaxNumberOfTrainingJobs``; ``Logarithmic`` scaling only for ranges above 0;
``ReverseLogarithmic`` only for continuous ranges within ``[0, 1)``; ``Grid`` searches categorical ranges only and
takes no job count (it runs every combination); ``Hyperband`` takes its ``MinResource``/``MaxResource`` and needs
training-job early stopping ``Off`` (it stops jobs itself); ``StrategyConfig`` is for ``Hyperband`` only.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

#: a hyperparameter name (botocore ``ParameterKey``: at most 256 characters)
ParamName = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[^\s]+$")]
#: botocore ``MetricName`` (``.+``, at most 255) and ``MetricRegex`` (at most 500)
MetricName = Annotated[str, Field(min_length=1, max_length=255)]
MetricRegex = Annotated[str, Field(min_length=1, max_length=500)]
Scaling = Literal["Auto", "Linear", "Logarithmic", "ReverseLogarithmic"]
#: SageMaker's limits: 30 ranged hyperparameters in all, 30 values per categorical range, 40 metric definitions
MAX_RANGES = 30
MAX_CATEGORICAL_VALUES = 30
MAX_METRIC_DEFINITIONS = 40
#: a tuning job runs at most this many training jobs (``MaxNumberOfTrainingJobs``; SageMaker's default quota)
MAX_TRAINING_JOBS = 500
RESERVED_PREFIX = "sagemaker_"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, strict=True, allow_inf_nan=False)


def _check_regex(value: str) -> str:
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    if compiled.groups < 1:
        raise ValueError("needs a capture group around the number, e.g. 'val_auc=([0-9.]+)' "
                         "(SageMaker reads the first group)")
    return value


class MetricDefinition(_Strict):
    """A metric SageMaker reads from the training script's log: the last match of ``regex``'s first group."""

    name: MetricName
    regex: MetricRegex

    _regex = field_validator("regex")(classmethod(lambda cls, v: _check_regex(v)))


class Objective(_Strict):
    """What the search optimises: ``metric`` (defined by ``regex`` here, or by a ``metricDefinitions`` entry)."""

    metric: MetricName
    type: Literal["Maximize", "Minimize"]
    regex: MetricRegex | None = None

    @field_validator("regex")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        return None if value is None else _check_regex(value)


class NumericRange(_Strict):
    name: ParamName
    min: float = Field(alias="min")
    max: float = Field(alias="max")
    scaling: Scaling = "Auto"


class ContinuousRange(NumericRange):
    """``ContinuousParameterRange``: a real value in ``[min, max]``."""


class IntegerRange(NumericRange):
    """``IntegerParameterRange``: an integer in ``[min, max]`` (``min``/``max`` must be integers)."""

    min: int = Field(alias="min")
    max: int = Field(alias="max")


class CategoricalRange(_Strict):
    """``CategoricalParameterRange``: one of ``values`` (passed to the script as given)."""

    name: ParamName
    values: list[Annotated[str, Field(min_length=1, max_length=2500)]]


class Ranges(_Strict):
    continuous: list[ContinuousRange] = Field(default_factory=list)
    integer: list[IntegerRange] = Field(default_factory=list)
    categorical: list[CategoricalRange] = Field(default_factory=list)


class Hyperband(_Strict):
    """``HyperbandStrategyConfig``: the resource (epochs, boosting rounds...) each trial gets, from min to max."""

    min_resource: int = Field(alias="minResource", ge=1, le=10**6)
    max_resource: int = Field(alias="maxResource", ge=1, le=10**6)


class TuningConfig(_Strict):
    strategy: Literal["Bayesian", "Random", "Hyperband", "Grid"]
    objective: Objective
    ranges: Ranges
    #: ``MaxNumberOfTrainingJobs`` (required except for ``Grid``, which runs every combination)
    max_jobs: int | None = Field(None, alias="maxJobs", ge=1, le=MAX_TRAINING_JOBS)
    max_parallel_jobs: int = Field(1, alias="maxParallelJobs", ge=1, le=100)
    metric_definitions: list[MetricDefinition] = Field(default_factory=list, alias="metricDefinitions")
    early_stopping: Literal["Off", "Auto"] = Field("Off", alias="earlyStopping")
    hyperband: Hyperband | None = None
    random_seed: int | None = Field(None, alias="randomSeed", ge=0, le=2**31 - 1)
    max_runtime_seconds: int | None = Field(None, alias="maxRuntimeSeconds", ge=120, le=15_768_000)

    @model_validator(mode="after")
    def _possible(self) -> TuningConfig:
        problems = [(f"training.tuning.{loc}", msg) for loc, msg in tuning_problems(self)]
        if problems:
            raise PydanticCustomError(
                "driftline_problems", "{summary}",
                {"summary": "; ".join(f"{loc}: {msg}" for loc, msg in problems), "problems": problems},
            )
        return self

    def metrics(self) -> list[MetricDefinition]:
        """Every metric definition: the objective's own (when it has a regex) first, then ``metricDefinitions``."""
        own = ([MetricDefinition(name=self.objective.metric, regex=self.objective.regex)]
               if self.objective.regex is not None else [])
        return own + [d for d in self.metric_definitions if not own or d.name != self.objective.metric]

    def ranged_names(self) -> list[str]:
        r = self.ranges
        return [x.name for x in r.continuous] + [x.name for x in r.integer] + [x.name for x in r.categorical]

    def grid_size(self) -> int:
        return math.prod(len(c.values) for c in self.ranges.categorical)


def _range_problems(kind: str, i: int, rng: NumericRange) -> list[tuple[str, str]]:
    where = f"ranges.{kind}.{i}"
    out: list[tuple[str, str]] = []
    if not rng.min < rng.max:
        out.append((where, f"min ({rng.min:g}) must be below max ({rng.max:g}) for {rng.name!r}"))
    if rng.scaling == "Logarithmic" and rng.min <= 0:
        out.append((where, f"Logarithmic scaling needs min > 0 for {rng.name!r}, got {rng.min:g}"))
    if rng.scaling == "ReverseLogarithmic":
        if kind != "continuous":
            out.append((where, f"ReverseLogarithmic scaling is for continuous ranges only ({rng.name!r})"))
        elif not (rng.min >= 0 and rng.max < 1):
            out.append((where, f"ReverseLogarithmic scaling needs 0 <= min < max < 1 for {rng.name!r}"))
    for bound in (rng.min, rng.max):
        if not math.isfinite(bound) or abs(bound) > 1e15:
            out.append((where, f"bounds must be finite and of magnitude at most 1e15 ({rng.name!r})"))
            break
    return out


def tuning_problems(t: TuningConfig) -> list[tuple[str, str]]:
    """Every reason SageMaker would refuse the search, or it could not produce an objective (field-prefixed,
    relative to ``training.tuning``)."""
    out: list[tuple[str, str]] = []
    r = t.ranges
    for kind, group in (("continuous", r.continuous), ("integer", r.integer)):
        for i, rng in enumerate(group):
            out.extend(_range_problems(kind, i, rng))
    for i, cat in enumerate(r.categorical):
        if not cat.values:
            out.append((f"ranges.categorical.{i}", f"{cat.name!r} has no values (give at least one)"))
        elif len(cat.values) > MAX_CATEGORICAL_VALUES:
            out.append((f"ranges.categorical.{i}", f"{cat.name!r} has {len(cat.values)} values, at most "
                       f"{MAX_CATEGORICAL_VALUES}"))
        elif len(set(cat.values)) != len(cat.values):
            out.append((f"ranges.categorical.{i}", f"{cat.name!r} repeats a value"))
    names = t.ranged_names()
    if not names:
        out.append(("ranges", "give at least one continuous, integer or categorical range to search"))
    if len(names) > MAX_RANGES:
        out.append(("ranges", f"{len(names)} ranged hyperparameters, at most {MAX_RANGES}"))
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        out.append(("ranges", f"hyperparameter(s) {dupes} ranged more than once"))
    reserved = sorted(n for n in names if n.startswith(RESERVED_PREFIX))
    if reserved:
        out.append(("ranges", f"{reserved} are set by Driftline (script mode), not tunable"))
    if t.max_jobs is not None and t.max_parallel_jobs > t.max_jobs:
        out.append(("maxParallelJobs", f"{t.max_parallel_jobs} must not exceed maxJobs ({t.max_jobs})"))
    if t.strategy == "Grid":
        if r.continuous or r.integer:
            out.append(("ranges", "the Grid strategy searches categorical ranges only"))
        if t.max_jobs is not None:
            out.append(("maxJobs", f"the Grid strategy runs every combination ({t.grid_size()}); leave maxJobs out"))
        elif t.grid_size() > MAX_TRAINING_JOBS:
            out.append(("ranges", f"the grid has {t.grid_size()} combinations, at most {MAX_TRAINING_JOBS}"))
        elif names and t.max_parallel_jobs > t.grid_size():
            out.append(("maxParallelJobs", f"{t.max_parallel_jobs} must not exceed the grid's {t.grid_size()} "
                        "combinations"))
    elif t.max_jobs is None:
        out.append(("maxJobs", f"required with the {t.strategy} strategy (the number of training jobs to run)"))
    if t.strategy == "Hyperband":
        if t.hyperband is None:
            out.append(("hyperband", "the Hyperband strategy needs {minResource, maxResource} (the resource, e.g. "
                       "epochs, each trial gets)"))
        elif t.hyperband.min_resource >= t.hyperband.max_resource:
            out.append(("hyperband", f"minResource ({t.hyperband.min_resource}) must be below maxResource "
                       f"({t.hyperband.max_resource})"))
        if t.early_stopping != "Off":
            out.append(("earlyStopping", "must be 'Off' with the Hyperband strategy (it stops trials itself)"))
    elif t.hyperband is not None:
        out.append(("hyperband", f"only for the Hyperband strategy, not {t.strategy}"))
    defined = {d.name for d in t.metric_definitions}
    if len(t.metric_definitions) != len(defined):
        out.append(("metricDefinitions", "metric names must be unique"))
    if len(defined | {t.objective.metric}) > MAX_METRIC_DEFINITIONS:
        out.append(("metricDefinitions", f"at most {MAX_METRIC_DEFINITIONS} metrics"))
    if t.objective.regex is None and t.objective.metric not in defined:
        out.append(("objective.metric", f"{t.objective.metric!r} has no definition: give objective.regex (how the "
                   "training script prints it) or a metricDefinitions entry with that name"))
    return out
