"""The local tuner: SageMaker automatic model tuning, offline, one trial after the other (docs/tuning.md).

A ``CreateHyperParameterTuningJob`` (installed by :mod:`samlocal.moto_ext.sagemaker_tuning`) runs its trials here,
synchronously, as the offline runtime runs a training job:

- each trial is a real training job (``CreateTrainingJob`` on moto's backend, so the local SageMaker runs the
  script in script mode): the ``TrainingJobDefinition`` with ``StaticHyperParameters`` plus the trial's values
  (strings, as SageMaker passes tuned values), named ``<tuning job>-<NNN>-<8 hex>`` as SageMaker names them;
- its objective is the ``FinalMetricDataList`` value of the objective's metric, read from the script's log with
  the job's ``MetricDefinitions`` regexes (the last match, as SageMaker reads it); a trial whose script never
  printed it has ``ObjectiveStatus`` ``Failed``;
- sampling: ``Random`` draws every trial independently from the ranges (``Linear``/``Auto`` uniform,
  ``Logarithmic`` log-uniform, ``ReverseLogarithmic`` as SageMaker defines it; integers rounded into range);
  ``Grid`` runs every combination of the categorical values in order; ``Bayesian`` and ``Hyperband`` fall back to
  random sampling over the same ranges (no surrogate model, no early stopping: a trial runs to its end). The
  seed is ``RandomSeed`` when given, else derived from the job name: the same job samples the same values;
- ``MaxParallelTrainingJobs`` is honoured trivially (one at a time); ``TrainingJobEarlyStoppingType`` is ignored;
- the best trial is the one with the highest (``Maximize``) or lowest (``Minimize``) objective; ties go to the
  earlier trial. With no trial reporting the objective the tuning job is ``Failed`` with a ``FailureReason``
  naming the metric.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Trial", "TuningOutcome", "run_tuning", "sample_trials", "trial_name"]


@dataclass
class Trial:
    """One training job of a tuning job."""

    name: str
    tuned: dict[str, str]
    status: str = "InProgress"
    objective: float | None = None
    failure_reason: str | None = None
    creation_time: datetime | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    arn: str = ""


@dataclass
class TuningOutcome:
    trials: list[Trial] = field(default_factory=list)
    best: Trial | None = None
    failure_reason: str | None = None


def trial_name(tuning_job: str, index: int) -> str:
    """``<tuning job>-<NNN>-<8 hex>`` (SageMaker's naming of a tuning job's training jobs)."""
    digest = hashlib.sha256(f"{tuning_job}\x00{index}".encode()).hexdigest()[:8]
    return f"{tuning_job}-{index:03d}-{digest}"


def _seed(tuning_job: str, config: Mapping[str, Any]) -> int:
    if config.get("RandomSeed") is not None:
        return int(config["RandomSeed"])
    return int(hashlib.sha256(tuning_job.encode()).hexdigest()[:8], 16)


def _continuous(rng: random.Random, low: float, high: float, scaling: str) -> float:
    if scaling == "Logarithmic":
        return math.exp(rng.uniform(math.log(low), math.log(high)))
    if scaling == "ReverseLogarithmic":  # 1 - x log-uniform: dense near 1, for values in [0, 1)
        return 1.0 - math.exp(rng.uniform(math.log(1.0 - high), math.log(1.0 - low)))
    return rng.uniform(low, high)


def _integer(rng: random.Random, low: int, high: int, scaling: str) -> int:
    if scaling == "Logarithmic":
        value = round(math.exp(rng.uniform(math.log(low), math.log(high))))
    else:
        value = rng.randint(low, high)
    return min(max(int(value), low), high)


def sample_trials(tuning_job: str, config: Mapping[str, Any]) -> list[dict[str, str]]:
    """The tuned hyperparameters of every trial of ``config`` (``HyperParameterTuningJobConfig``), in order."""
    ranges = config.get("ParameterRanges") or {}
    categorical = list(ranges.get("CategoricalParameterRanges") or [])
    limits = config.get("ResourceLimits") or {}
    if config.get("Strategy") == "Grid":
        combos = itertools.product(*[[str(v) for v in c["Values"]] for c in categorical])
        grid = [dict(zip([c["Name"] for c in categorical], combo, strict=True)) for combo in combos]
        cap = limits.get("MaxNumberOfTrainingJobs")
        return grid[: int(cap)] if cap else grid
    rng = random.Random(_seed(tuning_job, config))
    out = []
    for _ in range(int(limits.get("MaxNumberOfTrainingJobs") or 1)):
        values: dict[str, str] = {}
        for c in ranges.get("ContinuousParameterRanges") or []:
            values[c["Name"]] = repr(_continuous(rng, float(c["MinValue"]), float(c["MaxValue"]),
                                                 c.get("ScalingType") or "Auto"))
        for c in ranges.get("IntegerParameterRanges") or []:
            values[c["Name"]] = str(_integer(rng, int(float(c["MinValue"])), int(float(c["MaxValue"])),
                                             c.get("ScalingType") or "Auto"))
        for c in categorical:
            values[c["Name"]] = str(rng.choice(list(c["Values"])))
        out.append(values)
    return out


def run_tuning(tuning_job: str, config: Mapping[str, Any], definition: Mapping[str, Any],
               run_trial: Callable[[str, dict[str, str]], Any], now: Callable[[], datetime]) -> TuningOutcome:
    """Run every trial with ``run_trial(name, hyperparameters)`` (which returns the finished moto training job) and
    pick the best by the objective."""
    objective = config.get("HyperParameterTuningJobObjective") or {}
    metric, kind = str(objective.get("MetricName") or ""), objective.get("Type") or "Maximize"
    static = dict(definition.get("StaticHyperParameters") or {})
    outcome = TuningOutcome()
    for index, tuned in enumerate(sample_trials(tuning_job, config), start=1):
        trial = Trial(name=trial_name(tuning_job, index), tuned=tuned, creation_time=now())
        job = run_trial(trial.name, {**static, **tuned})
        trial.arn = str(getattr(job, "arn", ""))
        trial.status = str(job.training_job_status)
        trial.start_time, trial.end_time = job.training_start_time, job.training_end_time
        trial.failure_reason = getattr(job, "failure_reason", None) or None
        values = [m["Value"] for m in (job.final_metric_data_list or []) if m.get("MetricName") == metric]
        if trial.status == "Completed" and values and math.isfinite(float(values[-1])):
            trial.objective = float(values[-1])
        outcome.trials.append(trial)
    scored = [t for t in outcome.trials if t.objective is not None]
    if scored:
        sign = -1.0 if kind == "Minimize" else 1.0
        outcome.best = max(scored, key=lambda t: (sign * float(t.objective or 0.0), -outcome.trials.index(t)))
    else:
        failed = sum(t.status != "Completed" for t in outcome.trials)
        outcome.failure_reason = (
            f"No training job reported the objective metric {metric!r}: {len(outcome.trials)} training job(s), "
            f"{failed} failed, {len(outcome.trials) - failed} completed without a value for it (check the "
            "MetricDefinitions regex against what the training script prints)")
    return outcome
